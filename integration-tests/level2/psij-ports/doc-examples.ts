/**
 * Port of psij-python `tests/test_doc_examples.py`: many jobs submitted and waited for, a
 * throttled submitter driven by an executor listener, and a job with environment, directory and
 * stdout. psij-python waits 3 s per job and does not check the first example's outcome; here
 * every job must complete, and the throttle must hold.
 */
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { Job, type JobStatus } from '@exaworks/jpsi-core';
import { describeStatus, portedModule, readIfExists, type PortTarget } from './harness.js';

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELED']);

/** Registers the ported test_doc_examples.py tests for every launcher of `target`. */
export function portedDocExampleTests(target: PortTarget): void {
  portedModule(target, 'test_doc_examples.py', (c) => {
    const sleep0 = () => new Job(c.spec({ executable: '/bin/sleep', arguments: ['0'] }));

    c.it('test_submit_and_wait_for_n_jobs: five `sleep 0` jobs all complete', async () => {
      const jobs = [];
      for (let i = 0; i < 5; i++) jobs.push(await c.executor().submit(sleep0()));
      for (const job of jobs) {
        const status = await job.wait({ timeout: c.T(60_000) });
        expect(status?.state, describeStatus(status)).toBe('COMPLETED');
      }
    });

    c.it('test_run_n_throttle_m: ten jobs, at most three in flight, each next one submitted from a listener', async () => {
      const ex = await c.target.create();
      try {
        const total = 10;
        const maxActive = 3;
        const jobs = Array.from({ length: total }, sleep0);
        let next = 0;
        let inFlight = 0;
        let mostInFlight = 0;
        const errors: unknown[] = [];
        const submitNext = () => {
          if (next >= total) return;
          const job = jobs[next++]!;
          inFlight++;
          mostInFlight = Math.max(mostInFlight, inFlight);
          ex.submit(job).catch((err: unknown) => errors.push(err));
        };
        ex.onStatus((_job, status) => {
          if (!FINAL.has(status.state)) return;
          inFlight--;
          submitNext();
        });
        while (next < maxActive) submitNext();
        const statuses: (JobStatus | undefined)[] = [];
        // Jobs not yet submitted are NEW: waiting on one returns once the listener has submitted and it has finished.
        for (const job of jobs) statuses.push(await job.wait({ timeout: c.T(60_000) }));
        expect(errors).toEqual([]);
        expect(statuses.map((s) => s?.exitCode)).toEqual(Array(total).fill(0));
        expect(mostInFlight).toBe(maxActive);
      } finally {
        await ex.close();
      }
    });

    c.it('test_job_parameters: hostname, with environment and directory, writes this host to stdout', async () => {
      const d = await c.dir();
      const out = path.join(d, 'stdout.txt');
      const { status } = await c.run({
        executable: '/bin/hostname',
        stdoutPath: out,
        environment: { FOOBAR: 'BAZ', BUZ: 1 },
        directory: d,
      });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      expect(status.exitCode).toBe(0);
      expect((await readIfExists(out)) ?? '').toContain(os.hostname());
    });
  });
}
