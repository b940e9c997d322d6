/** The `local` executor as a psij-ports target: a private work directory, every launcher it can run here. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { getExecutor, registerLauncher } from '@exaworks/jpsi-core';
import { MpirunLauncher } from '@exaworks/launcher';
import { requireTool } from '../../support/tools.js';
import type { PortTarget } from './harness.js';

/**
 * `mpirun` with MPICH's `mpirun.mpich` (Debian installs Open MPI and MPICH side by side; plain
 * `mpirun` is Open MPI here). user-guide-child.mjs registers the same for its own process.
 */
export const MPICH_LAUNCHER = 'mpirun-mpich';

/**
 * A local target with its own work directory. maxCores 4: the ported tests run at most three
 * one-core jobs at once, and a 4-process job (nodefile, mpi) still runs without waiting.
 * Launchers: single, multiple, mpirun (Open MPI), and MPICH's mpirun as {@link MPICH_LAUNCHER}.
 */
export function localTarget(): PortTarget {
  const workDirectory = mkdtempSync(path.join(os.tmpdir(), 'exa-psij-local-work-'));
  const config = { workDirectory, maxCores: 4 };
  // A file-level hook: it runs once every launcher's describe has closed its executors.
  afterAll(() => rmSync(workDirectory, { recursive: true, force: true }));
  const hint = 'run: sudo bash scripts/install-mpi.sh';
  const mpich = requireTool('mpirun.mpich', hint);
  if (mpich) registerLauncher({ name: MPICH_LAUNCHER, create: () => new MpirunLauncher({ program: 'mpirun.mpich' }) });
  return {
    name: 'local',
    config,
    capacity: 4,
    launchers: ['single', 'multiple', ...(requireTool('mpirun', hint) ? ['mpirun'] : []), ...(mpich ? [MPICH_LAUNCHER] : [])],
    // Waits are generous (the machine the suites share can be very busy); passing jobs take < 3 s.
    timeScale: 2,
    create: () => getExecutor('local', config),
  };
}
