/**
 * Port of psij-python `tests/test_callbacks.py`: job and executor status listeners see exactly
 * six states, QUEUED through the final one, for a failing and a succeeding job. psij-python only
 * checks the count and membership; the order is checked here too (the state machine fixes it).
 */
import { expect } from 'vitest';
import { Job, type JobState } from '@exaworks/jpsi-core';
import { portedModule, type PortTarget } from './harness.js';

const sequence = (final: JobState): JobState[] => ['QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', final];

/** Registers the ported test_callbacks.py tests for every launcher of `target`. */
export function portedCallbackTests(target: PortTarget): void {
  portedModule(target, 'test_callbacks.py', (c) => {
    c.it('test_job_callbacks: a job listener sees six states for /bin/false, then for /bin/date', async () => {
      for (const [executable, final] of [
        ['/bin/false', 'FAILED'],
        ['/bin/date', 'COMPLETED'],
      ] as const) {
        const seen: JobState[] = [];
        const job = new Job(c.spec({ executable }));
        job.onStatus((_job, status) => seen.push(status.state));
        await c.executor().submit(job);
        await job.wait({ timeout: c.T(60_000) });
        expect(seen, executable).toEqual(sequence(final));
      }
    });

    c.it('test_job_executor_callbacks: an executor listener sees six states of /bin/date', async () => {
      // A fresh executor, as psij-python takes: its listener hears only this test's job.
      const ex = await c.target.create();
      try {
        const seen: JobState[] = [];
        const others: unknown[] = [];
        const job = new Job(c.spec({ executable: '/bin/date' }));
        // A listener's throw is only logged, so record instead of asserting inside it.
        ex.onStatus((j, status) => (j === job ? seen.push(status.state) : others.push(j)));
        await ex.submit(job);
        await job.wait({ timeout: c.T(60_000) });
        expect(seen).toEqual(sequence('COMPLETED'));
        expect(others).toEqual([]);
      } finally {
        await ex.close();
      }
    });
  });
}
