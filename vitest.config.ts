import { defineConfig } from 'vitest/config';

// One config that sees every package; each package also has its own vitest.config.ts so that
// `vitest run` inside a package (what turbo runs) works on its own.
export default defineConfig({
  test: {
    projects: ['packages/*', 'integration-tests'],
    globalSetup: ['./vitest.global-setup.ts'],
    // Two cores: real processes, MPI and schedulers compete for them.
    maxWorkers: 2,
    coverage: { provider: 'v8', include: ['packages/*/src/**'] },
  },
});
