// Level 2: the PSI/J conformance suite on the pbs executor over the pbs scheduler simulator.
import { psijConformanceSuite } from './conformance/suite.js';
import { simulatedTarget } from './conformance/simulated.js';

psijConformanceSuite(simulatedTarget('pbs'));
