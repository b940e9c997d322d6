import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job } from '@exaworks/jpsi-core';
import { makeFifo, releaseFifo, tempDir, until, useExecutors } from './test-support/helpers.js';

const executor = useExecutors({ maxCores: 2, pollInterval: 50 });

const SECRET = 's3cr3t-4f9a1c';

/** Every process's command line that contains `needle` (as `ps` would show it to any user). */
function cmdlinesWith(needle: string): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (cmdline.includes(needle)) hits.push(`${entry}: ${cmdline.replaceAll('\0', ' ').slice(0, 200)}`);
    } catch {
      // gone
    }
  }
  return hits;
}

describe('LocalExecutor: the spec environment is never in any argv', () => {
  for (const [label, spawnAgent, inheritEnvironment, preLaunch] of [
    ['spawn agent, inherited environment', true, true, false],
    ['spawn agent, clean environment', true, false, false],
    ['direct spawn, inherited environment', false, true, false],
    ['direct spawn, clean environment, bash (pre-launch)', false, false, true],
  ] as const) {
    it(`${label}: API_TOKEN is not in /proc/*/cmdline while the job runs`, async () => {
      const dir = tempDir('xw-secret-');
      const fifo = makeFifo(dir);
      const pre = path.join(dir, 'pre.sh');
      writeFileSync(pre, 'true\n');
      const e = executor({ spawnAgent });
      const job = await e.submit(
        new Job({
          executable: '/bin/sh',
          // The job sees the secret; it then blocks reading the FIFO until the test opens it.
          arguments: ['-c', `printf '%s' "$API_TOKEN" > ${path.join(dir, 'seen')}; read x < ${fifo}`],
          environment: { API_TOKEN: SECRET },
          inheritEnvironment,
          ...(preLaunch ? { preLaunch: pre } : {}),
        }),
      );
      try {
        await job.wait({ targetStates: ['ACTIVE'], timeout: 30_000 });
        await until(
          () => {
            try {
              return readFileSync(path.join(dir, 'seen'), 'utf8') === SECRET;
            } catch {
              return false;
            }
          },
          30_000,
          'the job to see its environment',
        );
        expect(cmdlinesWith(SECRET)).toEqual([]);
      } finally {
        await releaseFifo(fifo);
      }
      expect((await job.wait({ timeout: 30_000 }))?.state).toBe('COMPLETED');
    }, 60_000);
  }
});
