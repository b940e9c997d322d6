/** Conformance targets for the batch executors over the scheduler simulator (test-only). */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { getExecutor } from '@exaworks/jpsi-core';
import { startSchedulerSimulator, type SimulatedScheduler } from '../../simulators/simulator.js';
import { onPath } from '../../support/tools.js';
import type { ConformanceTarget } from './target.js';

const SLOTS = 2;

/** A simulated cluster of `scheduler`, installed into this process's environment, and its conformance target. */
export function simulatedTarget(scheduler: SimulatedScheduler): ConformanceTarget {
  // LSF's -W is in minutes: a simulated minute of 2 s lets the 2 s walltime case run in seconds.
  const sim = startSchedulerSimulator(scheduler, { slots: SLOTS, minuteSeconds: 2 });
  sim.install();
  afterAll(() => sim.close());
  const workDirectory = mkdtempSync(path.join(os.tmpdir(), `exa-conf-${scheduler}-sim-work-`));
  const config = { workDirectory, pollInterval: 250, initialPollDelay: 50 };
  return {
    name: scheduler,
    config,
    capacity: SLOTS,
    // Open MPI's mpirun sees FLUX_JOB_ID, loads its Flux PMI component and needs a real Flux broker
    // (it segfaults without one), so MPI under Flux is left to a real Flux (`flux run`).
    launchers: ['single', 'multiple', ...((onPath('mpirun') || process.env.CI) && scheduler !== 'flux' ? ['mpirun'] : [])],
    timeScale: 2,
    create: () => getExecutor(scheduler, config),
  };
}
