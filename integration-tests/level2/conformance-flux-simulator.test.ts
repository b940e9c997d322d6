// Level 2: the PSI/J conformance suite on the flux executor over the flux scheduler simulator.
import { psijConformanceSuite } from './conformance/suite.js';
import { simulatedTarget } from './conformance/simulated.js';

psijConformanceSuite(simulatedTarget('flux'));
