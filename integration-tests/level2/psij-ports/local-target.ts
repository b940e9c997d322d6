/** The `local` executor as a psij-ports target: a private work directory, every launcher it can run here. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getExecutor } from '@exaworks/jpsi-core';
import { requireTool } from '../../support/tools.js';
import type { PortTarget } from './harness.js';

/**
 * A local target with its own work directory. maxCores 4: the ported tests run at most two
 * one-core jobs at once, and a 4-process job (nodefile, mpi) still runs without waiting.
 */
export function localTarget(): PortTarget {
  const workDirectory = mkdtempSync(path.join(os.tmpdir(), 'exa-psij-local-work-'));
  const config = { workDirectory, maxCores: 4 };
  return {
    name: 'local',
    config,
    capacity: 4,
    launchers: ['single', 'multiple', ...(requireTool('mpirun', 'run: sudo bash scripts/ci-setup.sh') ? ['mpirun'] : [])],
    create: () => getExecutor('local', config),
  };
}
