import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'integration-tests',
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
