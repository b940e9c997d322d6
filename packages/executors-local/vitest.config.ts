import { defineProject } from 'vitest/config';

// Real processes on a busy 2-core machine: vitest's 5 s default is too tight for tests that start some.
export default defineProject({ test: { include: ['src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } });
