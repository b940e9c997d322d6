import { defineConfig } from 'vitest/config';

// The real-Slurm suite (`npm run test:slurm`): one private Slurm instance for the run, files one
// after another (they share its 8 CPUs, and some tests fill them on purpose).
export default defineConfig({
  test: {
    name: 'slurm',
    root: import.meta.dirname,
    include: ['slurm/**/*.test.ts'],
    globalSetup: ['../vitest.global-setup.ts', './slurm/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
