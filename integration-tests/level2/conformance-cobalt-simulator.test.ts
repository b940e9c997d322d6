// Level 2: the PSI/J conformance suite on the cobalt executor over the cobalt scheduler simulator.
import { psijConformanceSuite } from './conformance/suite.js';
import { simulatedTarget } from './conformance/simulated.js';

psijConformanceSuite(simulatedTarget('cobalt'));
