import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, JobState, shellQuote } from '@exaworks/jpsi-core';
import { pidAlive, tempDir, until, useExecutors } from './test-support/helpers.js';

const executor = useExecutors({ maxCores: 1, killGracePeriod: 300, pollInterval: 50 });

describe('LocalExecutor: cancel', () => {
  it('cancels a running job: CANCELED, with stage-out and cleanup states, and the whole process tree gone', async () => {
    const e = executor();
    const dir = tempDir('xw-tree-');
    const pidFile = path.join(dir, 'grandchild.pid');
    // The job starts a grandchild in the background and waits; both must die.
    const job = await e.submit({ executable: '/bin/sh', arguments: ['-c', `sleep 60 & echo $! > ${pidFile}; wait`] });
    await until(
      () => {
        try {
          return readFileSync(pidFile, 'utf8').trim() !== '';
        } catch {
          return false;
        }
      },
      30_000,
      'grandchild pid',
    );
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(pidAlive(grandchild)).toBe(true);
    await e.cancel(job);
    const status = await job.wait({ timeout: 30_000 });
    expect(status?.state).toBe(JobState.CANCELED);
    expect(job.history.map((s) => s.state)).toEqual(['NEW', 'QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'CANCELED']);
    await until(() => !pidAlive(grandchild), 20_000, 'grandchild to die');
  });

  it('SIGKILLs the processes that ignore SIGTERM after the grace period', async () => {
    // A grace period long enough that a loaded machine cannot eat it before the check below.
    const e = executor({ killGracePeriod: 3000 });
    const pidFile = path.join(tempDir('xw-term-'), 'pid');
    // The job's own process ends at the SIGTERM; the inner shell it started ignores TERM (and so
    // does its sleep, which inherits that) and lives on in the job's process group.
    const inner = `trap '' TERM; echo $$ > ${pidFile}; sleep 30; true`;
    const job = await e.submit({
      executable: '/bin/sh',
      arguments: ['-c', `/bin/sh -c ${shellQuote(inner)} & wait`],
    });
    await until(
      () => {
        try {
          return readFileSync(pidFile, 'utf8').trim() !== '';
        } catch {
          return false;
        }
      },
      30_000,
      'pid file',
    );
    const innerPid = Number(readFileSync(pidFile, 'utf8'));
    const t0 = Date.now();
    await e.cancel(job);
    expect((await job.wait({ timeout: 30_000 }))?.state).toBe('CANCELED');
    await new Promise((r) => setTimeout(r, 150));
    expect(pidAlive(innerPid)).toBe(true); // still in its grace period
    await until(() => !pidAlive(innerPid), 20_000, 'SIGKILL after the grace period');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
  }, 40_000);

  it('cancels a queued job: removed from the queue, CANCELED, never started', async () => {
    const e = executor({ maxCores: 1 });
    const blocker = await e.submit({ executable: '/bin/sleep', arguments: ['0.5'] });
    const dir = tempDir('xw-q-');
    const marker = path.join(dir, 'ran');
    const queued = await e.submit({ executable: '/bin/touch', arguments: [marker] });
    expect(queued.status.state).toBe('QUEUED');
    await e.cancel(queued);
    expect(queued.status.state).toBe('CANCELED');
    expect(queued.history.map((s) => s.state)).toEqual(['NEW', 'QUEUED', 'CANCELED']);
    expect((await blocker.wait())?.state).toBe('COMPLETED');
    await new Promise((r) => setTimeout(r, 100));
    expect(() => readFileSync(marker)).toThrow();
  });

  it('does nothing when canceling a finished job', async () => {
    const e = executor();
    const job = await e.submit({ executable: '/bin/true' });
    await job.wait();
    await e.cancel(job);
    expect(job.status.state).toBe('COMPLETED');
    expect(job.history.filter((s) => s.state === 'CANCELED')).toHaveLength(0);
  });

  it('kills a job past its walltime: FAILED saying it exceeded its walltime', async () => {
    const e = executor();
    const t0 = Date.now();
    const job = await e.submit({ executable: '/bin/sleep', arguments: ['30'], attributes: { duration: 1 } });
    const status = await job.wait({ timeout: 25_000 });
    expect(status?.state).toBe('FAILED');
    expect(status?.message).toMatch(/exceeded its walltime of 1 s/);
    expect(Date.now() - t0).toBeLessThan(20_000); // killed at its walltime, long before its 30 s sleep ends
  });

  it('enforces many walltimes with one timer, in deadline order', async () => {
    const e = executor({ maxCores: 3 });
    const jobs = await Promise.all(
      // Deadlines 3 s apart: start-up delays on a loaded machine cannot swap them.
      [4, 1, 30].map((d) => e.submit(new Job({ executable: '/bin/sleep', arguments: ['30'], attributes: { duration: d } }))),
    );
    const ends: number[] = [];
    await Promise.all(jobs.slice(0, 2).map((j, i) => j.wait().then(() => (ends[i] = Date.now()))));
    expect(jobs[0]!.status.message).toMatch(/walltime of 4 s/);
    expect(jobs[1]!.status.message).toMatch(/walltime of 1 s/);
    expect(ends[1]!).toBeLessThan(ends[0]!);
    expect(jobs[2]!.status.state).toBe('ACTIVE');
    await e.cancel(jobs[2]!);
    expect((await jobs[2]!.wait())?.state).toBe('CANCELED');
  });
});
