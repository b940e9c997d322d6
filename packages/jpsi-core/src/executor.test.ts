import { describe, expect, it } from 'vitest';
import { ErrorCode, ExaworksError } from './errors.js';
import { BaseJobExecutor } from './executor.js';
import { Job } from './job.js';
import type { JobSpec, JobSpecInput } from './spec.js';
import { JobState, type JobStatusUpdate } from './state.js';

/** The smallest executor on the base: native ids are handed out in order, statuses come from the test. */
class TableExecutor extends BaseJobExecutor {
  #next = 0;
  constructor() {
    super('table', '0.0.0', {});
  }
  async submit(job: Job | JobSpecInput | JobSpec): Promise<Job> {
    this.checkOpen();
    const j = this.jobForSubmit(job);
    this.bindJob(j, `t${this.#next++}`, j.spec);
    this.updateJobStatus(j, { state: JobState.QUEUED });
    return j;
  }
  async cancel(job: Job): Promise<void> {
    this.report(job.nativeId!, { state: JobState.CANCELED });
  }
  async list(): Promise<string[]> {
    return [];
  }
  async attach(job: Job, nativeId: string): Promise<void> {
    this.checkOpen();
    this.bindJob(job, nativeId);
  }
  async close(): Promise<void> {
    this.markClosed();
  }
  report(nativeId: string, update: JobStatusUpdate): void {
    const [primary] = this.jobsFor(nativeId);
    if (primary) this.updateJobStatus(primary, update);
  }
  forget(nativeId: string): void {
    this.forgetJob(nativeId);
  }
}

describe('BaseJobExecutor job table', () => {
  it('moves every Job bound to one native id together, and tells executor listeners once per status', async () => {
    const ex = new TableExecutor();
    const heard: string[] = [];
    ex.onStatus((job, status) => heard.push(`${job.id}:${status.state}`));
    const first = await ex.submit({ executable: '/bin/true' });
    ex.report('t0', { state: JobState.ACTIVE });
    const second = new Job();
    await ex.attach(second, 't0');
    // The late handle replays what the first one went through, at once.
    expect(second.history.map((s) => s.state)).toEqual([JobState.NEW, JobState.QUEUED, JobState.STAGE_IN, JobState.ACTIVE]);
    ex.report('t0', { state: JobState.COMPLETED, exitCode: 0 });
    for (const job of [first, second]) {
      expect(job.status.state).toBe(JobState.COMPLETED);
      expect(job.status.exitCode).toBe(0);
    }
    // STAGE_IN, STAGE_OUT and CLEANUP are filled in by the state machine; listeners hear only the primary Job.
    expect(heard).toEqual(
      [JobState.QUEUED, JobState.STAGE_IN, JobState.ACTIVE, JobState.STAGE_OUT, JobState.CLEANUP, JobState.COMPLETED].map(
        (s) => `${first.id}:${s}`,
      ),
    );
    expect(await second.wait()).toMatchObject({ state: JobState.COMPLETED });
  });

  it('ignores regressions for every handle', async () => {
    const ex = new TableExecutor();
    const job = await ex.submit({ executable: '/bin/true' });
    const other = new Job();
    await ex.attach(other, 't0');
    ex.report('t0', { state: JobState.FAILED, exitCode: 3 });
    ex.report('t0', { state: JobState.ACTIVE });
    expect(job.status.state).toBe(JobState.FAILED);
    expect(other.status.state).toBe(JobState.FAILED);
    expect(other.history.filter((s) => s.state === JobState.ACTIVE)).toHaveLength(0);
  });

  it('binding the same Job twice adds no handle; a forgotten id starts a fresh table entry', async () => {
    const ex = new TableExecutor();
    const job = await ex.submit({ executable: '/bin/true' });
    await ex.attach(job, 't0');
    ex.report('t0', { state: JobState.ACTIVE });
    expect(job.history.filter((s) => s.state === JobState.ACTIVE)).toHaveLength(1);
    ex.forget('t0');
    const later = new Job();
    await ex.attach(later, 't0');
    expect(later.status.state).toBe(JobState.NEW);
    ex.report('t0', { state: JobState.QUEUED });
    expect(later.status.state).toBe(JobState.QUEUED);
    expect(job.status.state).toBe(JobState.ACTIVE);
  });

  it('refuses work once closed, with the CLOSED code', async () => {
    const ex = new TableExecutor();
    await ex.close();
    const err = await ex.submit({ executable: '/bin/true' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExaworksError);
    expect((err as ExaworksError).code).toBe(ErrorCode.CLOSED);
  });
});
