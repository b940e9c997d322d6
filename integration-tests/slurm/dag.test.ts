/**
 * Level 1: @exaworks/dag × @exaworks/executors-slurm against the real private Slurm. A small graph
 * of Slurm jobs with a dependency and both failure policies (continue: dependents of a failed job
 * skipped, other branches finish; fail-fast: the running job is canceled through scancel), and a
 * runner SIGKILLed while its Slurm job runs, resumed by a new runner that re-attaches to that job
 * by its Slurm id instead of submitting it again.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type JobResult, Workflow, type WorkflowEvent } from '@exaworks/dag';
import type { BatchExecutor } from '@exaworks/executors-batch';
import { createSlurmExecutor } from '@exaworks/executors-slurm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scontrolJob, slurmState, slurmUp, until } from './support.js';

describe.runIf(slurmUp)('dag × slurm (real Slurm)', () => {
  let tmp: string;
  const opened: BatchExecutor[] = [];
  const slurm = (name: string) => {
    const ex = createSlurmExecutor({
      workDirectory: path.join(tmp, name),
      pollInterval: 250,
      initialPollDelay: 100,
      commandTimeout: 10_000,
    });
    opened.push(ex);
    return ex;
  };

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'exa-slurm-dag-'));
  });
  afterAll(async () => {
    for (const ex of opened) await ex.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs a graph of Slurm jobs in dependency order; with "continue" a failed job skips only its dependents', async () => {
    const executor = slurm('graph');
    const wf = new Workflow({ executor, concurrency: 4, onFailure: 'continue' });
    const a = path.join(tmp, 'a.txt');
    const b = path.join(tmp, 'b.txt');
    const produce = wf.job('produce', { executable: '/bin/sh', arguments: ['-c', 'echo 21 > "$A"'], environment: { A: a } });
    // Fails unless produce's file is there: the dependency must hold across Slurm jobs.
    const consume = wf.job(
      'consume',
      {
        executable: '/bin/sh',
        arguments: ['-c', 'test -s "$A" && echo $(( $(cat "$A") * 2 )) > "$B"'],
        environment: { A: a, B: b },
      },
      { after: [produce] },
    );
    wf.task('read', () => Number(readFileSync(b, 'utf8')), { after: [consume] });
    wf.job('broken', { executable: '/bin/sh', arguments: ['-c', 'exit 3'] });
    wf.job('needs-broken', { executable: '/bin/true' }, { after: ['broken'] });
    const s = await wf.run();
    expect(s.result('read')).toBe(42);
    expect(s.outcome('broken')).toMatchObject({ state: 'failed' });
    expect(s.outcome('broken')?.error).toMatch(/exit code 3/);
    expect(s.outcome('needs-broken')).toMatchObject({ state: 'skipped', cause: 'broken', attempts: 0 });
    expect(s.counts).toMatchObject({ succeeded: 3, failed: 1, skipped: 1 });
    // Slurm itself agrees: the jobs ran there, and the failed one is FAILED 3:0.
    expect(await scontrolJob(s.outcome('broken')!.nativeId!)).toMatchObject({ JobState: 'FAILED', ExitCode: '3:0' });
    expect(await slurmState(s.result<JobResult>('consume')!.nativeId)).toBe('COMPLETED');
  }, 120_000);

  it('with "fail-fast" a failure cancels the running Slurm job through the executor (scancel)', async () => {
    const executor = slurm('fail-fast');
    const wf = new Workflow({ executor, concurrency: 4, onFailure: 'fail-fast' });
    const started = path.join(tmp, 'sleeper-started');
    let sleeperId = '';
    wf.on((e) => {
      if (e.type === 'submitted' && e.task === 'sleeper') sleeperId = e.nativeId;
    });
    wf.job('sleeper', {
      executable: '/bin/sh',
      arguments: ['-c', 'touch "$S"; exec sleep 600'],
      environment: { S: started },
    });
    // Fails only once the sleeper really runs in Slurm, so the stop has a running job to cancel.
    wf.job('fails', {
      executable: '/bin/sh',
      arguments: ['-c', 'while [ ! -e "$S" ]; do sleep 0.1; done; exit 5'],
      environment: { S: started },
    });
    wf.job('later', { executable: '/bin/true' }, { after: ['fails'] });
    const s = await wf.run();
    expect(s.outcome('fails')).toMatchObject({ state: 'failed' });
    expect(s.outcome('sleeper')).toMatchObject({ state: 'canceled', cause: 'fail-fast: task "fails" failed' });
    expect(s.outcome('later')).toMatchObject({ state: 'skipped', cause: 'fails' });
    expect(sleeperId).not.toBe('');
    expect(await until(async () => (await slurmState(sleeperId)) === 'CANCELLED', 30_000)).toBe(true);
  }, 120_000);

  it('a runner SIGKILLed while its Slurm job runs is resumed by a new process that re-attaches by Slurm id', async () => {
    const work = path.join(tmp, 'resume-work');
    const journal = path.join(tmp, 'resume.jsonl');
    const go = path.join(tmp, 'go');
    const log = path.join(tmp, 'held.log');
    const heldSpec = {
      executable: '/bin/sh',
      arguments: ['-c', 'echo "run $SLURM_JOB_ID" >> "$LOG"; while [ ! -e "$GO" ]; do sleep 0.1; done'],
      environment: { LOG: log, GO: go },
    };
    // The same definition in the child (first runner) and here (second runner).
    const script = `
      import { Workflow } from '@exaworks/dag';
      import { createSlurmExecutor } from '@exaworks/executors-slurm';
      const executor = createSlurmExecutor({ workDirectory: ${JSON.stringify(work)}, pollInterval: 250, initialPollDelay: 100 });
      const wf = new Workflow({ executor, journal: ${JSON.stringify(journal)} });
      wf.job('first', { executable: '/bin/true' });
      wf.job('held', ${JSON.stringify(heldSpec)}, { after: ['first'] });
      wf.task('after', (inputs) => inputs.held.exitCode, { after: ['held'] });
      await wf.run();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: import.meta.dirname,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: process.env,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    const nativeOfHeld = () => {
      if (!existsSync(journal)) return undefined;
      for (const line of readFileSync(journal, 'utf8').split('\n')) {
        if (line.includes('"t":"native"') && line.includes('"n":"held"')) return (JSON.parse(line) as { id: string }).id;
      }
      return undefined;
    };
    // Killed once the held job is in Slurm and its id is journaled (and it has started: it wrote its line).
    expect(await until(() => nativeOfHeld() !== undefined && existsSync(log), 60_000), stderr).toBe(true);
    child.kill('SIGKILL');
    await exited;
    const heldId = nativeOfHeld()!;
    expect(await slurmState(heldId)).toBe('RUNNING');

    const executor = slurm('resume-work');
    const wf = new Workflow({ executor, journal });
    let firstRuns = 0;
    wf.job('first', { executable: '/bin/true' });
    wf.job('held', heldSpec, { after: ['first'] });
    wf.task('after', (inputs) => (inputs.held as JobResult).exitCode, { after: ['held'] });
    const events: WorkflowEvent[] = [];
    wf.on((e) => {
      events.push(e);
      if (e.type === 'started' && e.task === 'first') firstRuns++;
      if (e.type === 'submitted' && e.task === 'held') writeFileSync(go, ''); // let it end only once re-attached
    });
    const s = await wf.run();
    expect(s.resumed).toBe(true);
    expect(s.ok).toBe(true);
    expect(s.result('after')).toBe(0);
    expect(firstRuns).toBe(0); // finished before the kill: restored, not run again
    expect(s.outcome('first')?.restored).toBe(true);
    expect(events.find((e) => e.type === 'submitted')).toMatchObject({ task: 'held', attached: true, nativeId: heldId });
    expect(s.outcome('held')?.nativeId).toBe(heldId);
    // It ran once, as that Slurm job.
    expect(await readFile(log, 'utf8')).toBe(`run ${heldId}\n`);
    expect(await slurmState(heldId)).toBe('COMPLETED');
  }, 180_000);
});
