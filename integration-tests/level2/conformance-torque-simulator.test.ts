// Level 2: the PSI/J conformance suite on the pbs executor's Torque flavour over the Torque scheduler simulator.
import { psijConformanceSuite } from './conformance/suite.js';
import { simulatedTarget } from './conformance/simulated.js';

psijConformanceSuite(simulatedTarget('torque'));
