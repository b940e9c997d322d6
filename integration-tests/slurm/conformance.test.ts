// Level 2: the PSI/J conformance suite against a real Slurm (the private instance of global-setup.ts).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'vitest';
import { getExecutor } from '@exaworks/jpsi-core';
import { psijConformanceSuite } from '../level2/conformance/suite.js';
import { requireTool } from '../support/tools.js';
import { slurmUp } from './support.js';

if (slurmUp) {
  const workDirectory = mkdtempSync(path.join(os.tmpdir(), 'exa-conf-slurm-work-'));
  const config = { workDirectory, pollInterval: 250, initialPollDelay: 100 };
  psijConformanceSuite({
    name: 'slurm',
    config,
    // The private node declares 8 CPUs: 8 one-CPU jobs fill it.
    capacity: 8,
    // Open MPI's mpirun inside the allocation too (it starts its ranks through Slurm).
    launchers: ['single', 'multiple', 'srun', ...(requireTool('mpirun', 'run: sudo bash scripts/ci-setup.sh') ? ['mpirun'] : [])],
    // Slurm's shortest walltime is one minute, checked every 30 s: the walltime case needs up to ~100 s.
    timeScale: 6,
    create: () => getExecutor('slurm', config),
  });
} else {
  describe('PSI/J conformance: slurm', () => {
    it.skip('needs the private Slurm (see the warning printed by global-setup.ts)', () => undefined);
  });
}
