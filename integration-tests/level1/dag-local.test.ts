/**
 * Level 1: @exaworks/dag × @exaworks/executors-local, meeting only through jpsi-core's JobExecutor
 * interface (the executor comes from the registry by name). Real processes throughout: a sweep with
 * a fan-in, a failure that skips its dependents, cancellation through the executor, and a runner
 * SIGKILLed while its job runs, resumed by a new runner with a new executor that re-attaches.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Workflow, type WorkflowEvent } from '@exaworks/dag';
import { getExecutor, Job, type JobExecutor, JobState } from '@exaworks/jpsi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let tmp: string;
const opened: JobExecutor[] = [];
async function local(dir: string): Promise<JobExecutor> {
  const ex = await getExecutor('local', { workDirectory: path.join(tmp, dir), pollInterval: 50, killGracePeriod: 200 });
  opened.push(ex);
  return ex;
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('dag × local', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'exa-l1-dag-'));
  });
  afterAll(async () => {
    for (const ex of opened) await ex.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a sweep of jobs fans in; a failing job skips its dependents while other branches finish', async () => {
    const executor = await local('sweep');
    const wf = new Workflow({ executor, concurrency: 3, onFailure: 'continue' });
    const outs: string[] = [];
    const sims = [1, 2, 3, 4].map((n) => {
      const out = path.join(tmp, `sim-${n}.txt`);
      outs.push(out);
      return wf.job(`sim-${n}`, {
        executable: '/bin/sh',
        arguments: ['-c', 'echo $((N * N)) > "$OUT"'],
        environment: { N: String(n), OUT: out },
      });
    });
    wf.task('sum', () => outs.reduce((acc, f) => acc + Number(readFileSync(f, 'utf8')), 0), { after: sims });
    wf.job('broken', { executable: '/bin/sh', arguments: ['-c', 'exit 9'] });
    wf.job('needs-broken', { executable: '/bin/true' }, { after: ['broken'] });
    const s = await wf.run();
    expect(s.result('sum')).toBe(30);
    expect(s.outcome('broken')?.error).toMatch(/exit code 9/);
    expect(s.outcome('needs-broken')).toMatchObject({ state: 'skipped', cause: 'broken' });
    expect(s.counts).toMatchObject({ succeeded: 5, failed: 1, skipped: 1 });
  }, 60_000);

  it('aborting the run cancels its running job through the executor', async () => {
    const executor = await local('abort');
    const wf = new Workflow({ executor });
    const ac = new AbortController();
    wf.on((e) => {
      if (e.type === 'submitted') ac.abort();
    });
    wf.job('sleeper', { executable: '/bin/sleep', arguments: ['120'] });
    const s = await wf.run({ signal: ac.signal });
    expect(s.aborted).toBe(true);
    const job = new Job();
    await executor.attach(job, s.outcome('sleeper')!.nativeId!);
    expect((await job.wait({ timeout: 30_000 }))?.state).toBe(JobState.CANCELED);
  }, 60_000);

  it('a runner SIGKILLed while its job runs is resumed by a new process: the job is re-attached, not run again', async () => {
    const work = path.join(tmp, 'resume-work');
    const journal = path.join(tmp, 'resume.jsonl');
    const go = path.join(tmp, 'go');
    const log = path.join(tmp, 'held.log');
    // The same definition in the child (first runner) and here (second runner).
    const define = (executor: JobExecutor) => {
      const wf = new Workflow({ executor, journal });
      wf.job('held', {
        executable: '/bin/sh',
        arguments: ['-c', 'echo run >> "$LOG"; while [ ! -e "$GO" ]; do sleep 0.05; done'],
        environment: { LOG: log, GO: go },
      });
      wf.task('after', (inputs) => (inputs.held as { exitCode: number }).exitCode, { after: ['held'] });
      return wf;
    };
    const script = `
      import { Workflow } from '@exaworks/dag';
      import { getExecutor } from '@exaworks/jpsi-core';
      const executor = await getExecutor('local', { workDirectory: ${JSON.stringify(work)}, pollInterval: 50 });
      const wf = new Workflow({ executor, journal: ${JSON.stringify(journal)} });
      wf.job('held', {
        executable: '/bin/sh',
        arguments: ['-c', 'echo run >> "$LOG"; while [ ! -e "$GO" ]; do sleep 0.05; done'],
        environment: { LOG: ${JSON.stringify(log)}, GO: ${JSON.stringify(go)} },
      });
      wf.task('after', (inputs) => inputs.held.exitCode, { after: ['held'] });
      await wf.run();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: path.dirname(new URL(import.meta.url).pathname),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    await until(
      `the first runner to record the native id (${stderr})`,
      () => existsSync(journal) && readFileSync(journal, 'utf8').includes('"t":"native"'),
    );
    child.kill('SIGKILL');
    await exited;

    const executor = await local('resume-work');
    const wf = define(executor);
    const events: WorkflowEvent[] = [];
    wf.on((e) => {
      events.push(e);
      if (e.type === 'submitted') writeFileSync(go, ''); // let the job end only once re-attached
    });
    const s = await wf.run();
    expect(s.resumed).toBe(true);
    expect(s.ok).toBe(true);
    expect(s.result('after')).toBe(0);
    const submitted = events.find((e) => e.type === 'submitted');
    expect(submitted).toMatchObject({ task: 'held', attached: true });
    expect(readFileSync(log, 'utf8')).toBe('run\n');
  }, 90_000);
});
