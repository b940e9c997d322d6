// Level 2: one query per poll for all jobs, and no final state from a failing query, on the lsf scheduler simulator.
import { batchPollingSuite } from './batch-polling/polling.js';

// 20 jobs: the 100-job proof runs on pbs; here the adapter's one query for all ids is what is checked.
batchPollingSuite('lsf', 20);
