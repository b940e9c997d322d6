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
  // Torque is the `pbs` executor's other flavour (chosen here by config; `auto` would ask `qstat --version`).
  const name = scheduler === 'torque' ? 'pbs' : scheduler;
  const config = {
    workDirectory,
    pollInterval: 250,
    initialPollDelay: 50,
    ...(scheduler === 'torque' ? { flavour: 'torque' } : {}),
  };
  const mpi = onPath('mpirun') || process.env.CI;
  return {
    name,
    title: `${scheduler} (simulator)`,
    config,
    capacity: SLOTS,
    // Under Flux, MPI programs start through `flux run` (Open MPI's mpirun would look for a real Flux
    // broker's PMI): the `flux` launcher, which the simulator's `flux run` serves with N real tasks.
    launchers: ['single', 'multiple', ...(scheduler === 'flux' ? ['flux'] : mpi ? ['mpirun'] : [])],
    timeScale: 2,
    create: () => getExecutor(name, config),
  };
}
