import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'integration-tests',
    include: ['**/*.test.ts'],
    // The real-Slurm suite runs on its own, around a private Slurm: vitest.slurm.config.ts.
    exclude: ['**/node_modules/**', 'slurm/**'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
