// Level 2: in-script staging (modes, flags, cleanup) on the lsf executor over its scheduler simulator.
import { batchStagingSuite } from './batch-staging/staging.js';

batchStagingSuite('lsf');
