// Level 2: the PSI/J conformance suite on the lsf executor over the lsf scheduler simulator.
import { psijConformanceSuite } from './conformance/suite.js';
import { simulatedTarget } from './conformance/simulated.js';

psijConformanceSuite(simulatedTarget('lsf'));
