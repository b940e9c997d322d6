import { defineProject } from 'vitest/config';

// Some tests import packages and start processes; on a busy 2-core machine 5 s (vitest's default) is too tight.
export default defineProject({ test: { include: ['src/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 60_000 } });
