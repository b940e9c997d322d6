import { describe, expect, it } from 'vitest';
import { AbortedError, InvalidJobStateError, ValidationError } from './errors.js';
import { BaseJobExecutor, type SubmitOptions } from './executor.js';
import { Job } from './job.js';
import type { JobSpec, JobSpecInput } from './spec.js';
import type { JobState, JobStatusUpdate } from './state.js';

/** A test double that reports whatever states the test tells it to (no processes). */
class ScriptedExecutor extends BaseJobExecutor {
  constructor() {
    super('scripted', '0.0.0', {});
  }
  async submit(job: Job | JobSpecInput | JobSpec, _options?: SubmitOptions): Promise<Job> {
    const j = this.jobForSubmit(job);
    this.bindJob(j, `n-${j.id}`);
    this.updateJobStatus(j, { state: 'QUEUED' });
    return j;
  }
  report(job: Job, update: JobStatusUpdate) {
    return this.updateJobStatus(job, update);
  }
  async cancel(job: Job): Promise<void> {
    this.updateJobStatus(job, { state: 'CANCELED' });
  }
  async list(): Promise<string[]> {
    return [];
  }
  async attach(job: Job, nativeId: string): Promise<void> {
    this.bindJob(job, nativeId);
  }
  async close(): Promise<void> {}
}

describe('Job', () => {
  it('validates its spec at construction', () => {
    expect(() => new Job({ executable: '' })).toThrow(ValidationError);
    expect(new Job().spec).toBeUndefined();
    expect(new Job({ executable: '/bin/true' }).status.state).toBe('NEW');
  });

  it('shows job and executor listeners every state once, in order, interleaved per state', async () => {
    const ex = new ScriptedExecutor();
    const seen: string[] = [];
    ex.onStatus((_j, s) => seen.push(`ex:${s.state}`));
    const job = new Job({ executable: '/bin/true' });
    job.onStatus((_j, s) => seen.push(`job:${s.state}`));
    await ex.submit(job);
    ex.report(job, { state: 'ACTIVE' });
    ex.report(job, { state: 'QUEUED' }); // late, out of order: ignored
    ex.report(job, { state: 'COMPLETED', exitCode: 0 });
    ex.report(job, { state: 'FAILED' }); // after a final state: ignored
    const states: JobState[] = ['QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'COMPLETED'];
    expect(seen).toEqual(states.flatMap((s) => [`job:${s}`, `ex:${s}`]));
    expect(job.history.map((s) => s.state)).toEqual(['NEW', ...states]);
    expect(job.status.exitCode).toBe(0);
  });

  it('keeps going when a listener throws', async () => {
    const ex = new ScriptedExecutor();
    const job = new Job({ executable: '/bin/true' });
    job.onStatus(() => {
      throw new Error('listener bug');
    });
    await ex.submit(job);
    ex.report(job, { state: 'FAILED', exitCode: 1 });
    expect(job.status.state).toBe('FAILED');
  });

  it('refuses to submit a job twice or a job without a spec', async () => {
    const ex = new ScriptedExecutor();
    const job = await ex.submit({ executable: '/bin/true' });
    await expect(ex.submit(job)).rejects.toBeInstanceOf(InvalidJobStateError);
    await expect(ex.submit(new Job())).rejects.toBeInstanceOf(InvalidJobStateError);
  });

  describe('wait', () => {
    it('resolves at a final state by default', async () => {
      const ex = new ScriptedExecutor();
      const job = await ex.submit({ executable: '/bin/true' });
      const p = job.wait();
      ex.report(job, { state: 'ACTIVE' });
      ex.report(job, { state: 'FAILED', exitCode: 2 });
      expect(await p).toMatchObject({ state: 'FAILED', exitCode: 2 });
    });
    it('resolves for a target state or any later one', async () => {
      const ex = new ScriptedExecutor();
      const job = await ex.submit({ executable: '/bin/true' });
      ex.report(job, { state: 'ACTIVE' });
      expect((await job.wait({ targetStates: ['QUEUED'] }))?.state).toBe('ACTIVE');
      const p = job.wait({ targetStates: ['STAGE_OUT'] });
      ex.report(job, { state: 'CLEANUP' });
      expect((await p)?.state).toBe('CLEANUP');
    });
    it('resolves at any final state even if it is not a target', async () => {
      const ex = new ScriptedExecutor();
      const job = await ex.submit({ executable: '/bin/true' });
      const p = job.wait({ targetStates: ['ACTIVE'] });
      ex.report(job, { state: 'CANCELED' });
      expect((await p)?.state).toBe('CANCELED');
    });
    it('returns undefined on timeout', async () => {
      const ex = new ScriptedExecutor();
      const job = await ex.submit({ executable: '/bin/true' });
      const t0 = Date.now();
      expect(await job.wait({ timeout: 50 })).toBeUndefined();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    });
    it('rejects with AbortedError when aborted', async () => {
      const ex = new ScriptedExecutor();
      const job = await ex.submit({ executable: '/bin/true' });
      const ac = new AbortController();
      const p = job.wait({ signal: ac.signal });
      ac.abort();
      await expect(p).rejects.toBeInstanceOf(AbortedError);
      await expect(job.wait({ signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    });
  });

  it('cancel before submission marks the job CANCELED', async () => {
    const job = new Job({ executable: '/bin/true' });
    await job.cancel();
    expect(job.status.state).toBe('CANCELED');
  });

  it('serialises to the JSON the CLI prints', async () => {
    const ex = new ScriptedExecutor();
    const job = await ex.submit({ executable: '/bin/true', name: 'n' });
    ex.report(job, { state: 'COMPLETED', exitCode: 0 });
    expect(JSON.parse(JSON.stringify(job))).toMatchObject({
      nativeId: `n-${job.id}`,
      executor: 'scripted',
      name: 'n',
      state: 'COMPLETED',
      exitCode: 0,
      message: null,
    });
  });
});

describe('Job input validation (constructor options and wait options)', () => {
  const issuesOf = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).issues.map((i) => i.path);
    }
    throw new Error('expected a ValidationError');
  };
  it('rejects a bad id in the constructor options, naming the field', () => {
    expect(issuesOf(() => new Job(undefined, { id: '' }))).toEqual(['id']);
    expect(issuesOf(() => new Job(undefined, { id: 5 as unknown as string }))).toEqual(['id']);
    expect(issuesOf(() => new Job(undefined, { colour: 'red' } as unknown as { id?: string }))).toEqual(['colour']);
    expect(new Job(undefined, { id: 'given' }).id).toBe('given');
  });
  it('rejects NaN or negative timeouts and unknown target states instead of treating them as "now"', async () => {
    const job = new Job({ executable: '/bin/true' });
    const pathsOf = async (p: Promise<unknown>) => {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).issues.map((i) => i.path);
    };
    expect(await pathsOf(job.wait({ timeout: Number.NaN }))).toEqual(['timeout']);
    expect(await pathsOf(job.wait({ timeout: -1 }))).toEqual(['timeout']);
    expect(await pathsOf(job.wait({ timeout: 10, targetStates: ['RUNNING' as JobState] }))).toEqual(['targetStates[0]']);
    expect(await pathsOf(job.wait({ targetStates: 'ACTIVE' as unknown as JobState[] }))).toEqual(['targetStates']);
  });
  it('treats an Infinity timeout as no timeout', async () => {
    const job = new Job({ executable: '/bin/true' });
    const waiting = job.wait({ timeout: Number.POSITIVE_INFINITY });
    const early = await Promise.race([waiting, new Promise((r) => setTimeout(() => r('still waiting'), 30))]);
    expect(early).toBe('still waiting');
    await job.cancel();
    expect((await waiting)?.state).toBe('CANCELED');
  });
});
