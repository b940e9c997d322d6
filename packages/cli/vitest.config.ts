import { defineProject } from 'vitest/config';

// Every CLI test starts real processes; on a busy 2-core machine a start-up alone can take
// seconds, so the default 5 s is no bound (slow e2e tests set their own, larger, timeouts).
export default defineProject({ test: { include: ['src/**/*.test.ts'], testTimeout: 30_000 } });
