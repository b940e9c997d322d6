// Level 2: in-script staging (modes, flags, cleanup) on the pbs executor's Torque flavour over the Torque scheduler simulator.
import { batchStagingSuite } from './batch-staging/staging.js';

batchStagingSuite('torque');
