// Level 2: one qstat per poll for all active jobs, and a failing qstat never produces a final state
// (pbs executor, Torque flavour, over the Torque scheduler simulator).
import { batchPollingSuite } from './batch-polling/polling.js';

batchPollingSuite('torque', 20);
