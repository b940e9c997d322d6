// Jobs on the real local executor (real processes).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalExecutor, type LocalExecutor } from '@exaworks/executors-local';
import { Job, JobState } from '@exaworks/jpsi-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkflowEvent } from './events.js';
import { SUBMIT_KEY_ENV, Workflow } from './workflow.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'xw-dag-jobs-'));
const executors: LocalExecutor[] = [];
afterAll(async () => {
  for (const e of executors) await e.close();
  rmSync(root, { recursive: true, force: true });
});
function executor(name: string): LocalExecutor {
  const e = createLocalExecutor({ workDirectory: path.join(root, name), pollInterval: 50, killGracePeriod: 200 });
  executors.push(e);
  return e;
}

describe('Workflow jobs on the local executor', () => {
  it('runs jobs in dependency order; a job that exits non-zero fails its task and skips its dependents', async () => {
    const out = path.join(root, 'order.txt');
    const wf = new Workflow({ executor: executor('order'), onFailure: 'continue' });
    const sh = (line: string) => ({ executable: '/bin/sh', arguments: ['-c', `echo ${line} >> '${out}'`] });
    wf.job('first', sh('first'));
    wf.job('second', sh('second'), { after: ['first'] });
    wf.task('third', (inputs) => (inputs.second as { exitCode: number }).exitCode, { after: ['second'] });
    wf.job('bad', { executable: '/bin/sh', arguments: ['-c', 'exit 3'] });
    wf.job('after-bad', sh('never'), { after: ['bad'] });
    const s = await wf.run();
    expect(readFileSync(out, 'utf8')).toBe('first\nsecond\n');
    expect(s.outcome('second')).toMatchObject({ state: 'succeeded', value: { exitCode: 0, state: 'COMPLETED' } });
    expect(s.result('third')).toBe(0);
    expect(s.outcome('bad')?.error).toMatch(/ended FAILED with exit code 3/);
    expect(s.outcome('after-bad')).toMatchObject({ state: 'skipped', cause: 'bad' });
  }, 30_000);

  it('marks each job with its submission key, and job specs can be functions of the inputs', async () => {
    const ex = executor('key');
    const wf = new Workflow({ executor: ex });
    wf.task('word', () => 'hello');
    wf.job('echo', (inputs) => ({ executable: '/bin/echo', arguments: [inputs.word as string] }), { after: ['word'] });
    const s = await wf.run();
    const id = s.outcome('echo')?.nativeId;
    expect(id).toBeDefined();
    const job = new Job();
    await ex.attach(job, id!);
    expect(job.spec?.arguments).toEqual(['hello']);
    expect(job.spec?.environment[SUBMIT_KEY_ENV]).toMatch(/^[0-9a-f-]+:echo:1$/);
  }, 30_000);

  it('a timeout cancels the job through the executor, then the retry runs', async () => {
    const ex = executor('timeout');
    const marker = path.join(root, 'timeout-attempts.txt');
    const wf = new Workflow({ executor: ex, backoff: { initialMs: 10 } });
    const events: WorkflowEvent[] = [];
    wf.on((e) => events.push(e));
    // The first attempt hangs (sleep 60) and is timed out; the second finds the marker and ends at once.
    const script = `if [ -e '${marker}' ]; then exit 0; fi; echo 1 > '${marker}'; exec sleep 60`;
    wf.job('slow', { executable: '/bin/sh', arguments: ['-c', script] }, { timeout: 1500, retries: 1 });
    const s = await wf.run();
    expect(s.ok).toBe(true);
    expect(s.outcome('slow')?.attempts).toBe(2);
    const first = events.find((e) => e.type === 'submitted');
    expect(first?.type === 'submitted' && first.attempt).toBe(1);
    const old = new Job();
    await ex.attach(old, (first as { nativeId: string }).nativeId);
    const status = await old.wait({ timeout: 20_000 });
    expect(status?.state).toBe(JobState.CANCELED);
  }, 40_000);

  it("the run's AbortSignal cancels running jobs through their executor", async () => {
    const ex = executor('abort');
    const wf = new Workflow({ executor: ex });
    const ac = new AbortController();
    wf.on((e) => {
      if (e.type === 'submitted') ac.abort();
    });
    wf.job('hang', { executable: '/bin/sleep', arguments: ['60'] });
    const s = await wf.run({ signal: ac.signal });
    expect(s.aborted).toBe(true);
    expect(s.outcome('hang')?.state).toBe('canceled');
    const job = new Job();
    await ex.attach(job, s.outcome('hang')!.nativeId!);
    expect((await job.wait({ timeout: 20_000 }))?.state).toBe(JobState.CANCELED);
  }, 40_000);

  it('a job without an executor fails with a clear message', async () => {
    const wf = new Workflow({ onFailure: 'continue' });
    wf.job('j', { executable: '/bin/true' });
    const s = await wf.run();
    expect(s.outcome('j')?.error).toMatch(/has no executor/);
  });
});
