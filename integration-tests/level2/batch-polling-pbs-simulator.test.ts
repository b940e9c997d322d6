// Level 2: one query per poll for 100 jobs, and no final state from a failing query, on the pbs scheduler simulator.
import { batchPollingSuite } from './batch-polling/polling.js';

batchPollingSuite('pbs');
