import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Job, JobState } from '@exaworks/jpsi-core';
import type { LocalExecutor, LocalExecutorConfigInput } from './index.js';
import {
  appendToJournal,
  jobEntries,
  journalLine,
  makeFifo,
  pidAlive,
  releaseFifo,
  runChild,
  startChild,
  tempDir,
  until,
  useExecutors,
} from './test-support/helpers.js';

const makeExecutor = useExecutors({ maxCores: 2, killGracePeriod: 300, pollInterval: 50 });
const executor = (workDirectory: string, config: LocalExecutorConfigInput = {}): LocalExecutor =>
  makeExecutor({ workDirectory, ...config });

/** A job that appends its name to `runs` (to count runs), then sleeps, then exits with `code`. */
function counted(runs: string, name: string, seconds: number, code = 0): Record<string, unknown> {
  return { executable: '/bin/sh', arguments: ['-c', `echo ${name} >> ${runs}; sleep ${seconds}; exit ${code}`], name };
}
function runCounts(runs: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of readFileSync(runs, 'utf8').trim().split('\n')) out[n] = (out[n] ?? 0) + 1;
  return out;
}

describe('LocalExecutor: durability across processes', () => {
  it('attach from a second process replays the states and sees the end with its exit code', async () => {
    const wd = tempDir();
    const e = executor(wd);
    const job = await e.submit({ executable: '/bin/sh', arguments: ['-c', 'sleep 0.4; exit 5'] });
    const seen = (await runChild({ op: 'attach-wait', workDirectory: wd, nativeId: job.nativeId })) as {
      state: string;
      exitCode: number;
      history: string[];
    };
    expect(seen.state).toBe('FAILED');
    expect(seen.exitCode).toBe(5);
    expect(seen.history).toEqual(['NEW', 'QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'FAILED']);
    expect((await job.wait())?.exitCode).toBe(5);
  }, 120_000);

  it('a process that submits and exits leaves the job running; another attaches and sees COMPLETED', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const out = (await runChild({ op: 'submit', workDirectory: wd, waitActive: true, specs: [counted(runs, 'cli', 1)] })) as {
      ids: string[];
      states: string[];
    };
    expect(out.states[0]).toBe('ACTIVE');
    const e = executor(wd);
    const job = new Job();
    await e.attach(job, out.ids[0]!);
    expect(job.spec?.name).toBe('cli');
    const status = await job.wait({ timeout: 30_000 });
    expect(status).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(runCounts(runs)).toEqual({ cli: 1 });
    expect(await e.list()).toEqual([out.ids[0]]);
  }, 120_000);

  it('recovers every job after the executor process is SIGKILLed: each runs exactly once, with honest final states', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const specs = [
      counted(runs, 'quick', 0.2, 0), // running at the kill, ends while nobody tracks it
      counted(runs, 'long', 2, 3), // still running when the new executor starts
      counted(runs, 'lost', 600), // SIGKILLed behind everyone's back while no executor lives
      counted(runs, 'queued1', 0.1, 0), // queued at the kill
      counted(runs, 'queued2', 0.1, 7),
    ];
    let ids: string[] = [];
    const child = startChild({ op: 'submit-and-hang', workDirectory: wd, maxCores: 3, waitActive: true, specs }, (line) => {
      ids = (JSON.parse(line) as { ids: string[] }).ids;
    });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // also when an assertion failed
    });
    await until(() => ids.length === 5, 90_000, 'the child to submit');
    // A job's program can start before its executor has appended the ACTIVE line with its pid: wait
    // for both (the three that fit in maxCores have run and are recorded with a pid) before the kill.
    const recordedPid = (id: string) => jobEntries(wd, id).some((l) => l.pid !== undefined);
    await until(
      () => {
        try {
          // quick may already have made room for queued1
          return Object.keys(runCounts(runs)).length >= 3 && ids.slice(0, 3).every(recordedPid);
        } catch {
          return false;
        }
      },
      60_000,
      'three jobs to start and be recorded with their pids',
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Kill "lost" behind everyone's back, and let "quick" finish while no executor watches.
    const lostPid = jobEntries(wd, ids[2]!).find((l) => l.pid !== undefined)!.pid as number;
    process.kill(-lostPid, 'SIGKILL');
    await until(() => !pidAlive(lostPid), 20_000, 'the lost job to die');
    await new Promise((r) => setTimeout(r, 400));

    const e = executor(wd, { maxCores: 3 });
    await e.ready();
    const jobs = await Promise.all(
      ids.map(async (id) => {
        const j = new Job();
        await e.attach(j, id);
        return j;
      }),
    );
    const finals = await Promise.all(jobs.map((j) => j.wait({ timeout: 30_000 })));
    expect(finals.map((s) => s?.state)).toEqual(['COMPLETED', 'FAILED', 'FAILED', 'COMPLETED', 'FAILED']);
    expect(finals[1]?.exitCode).toBe(3);
    // Its exec agent outlived the executor and saw it killed: the end is known, not lost.
    expect(finals[2]?.exitCode).toBe(128 + 9);
    expect(finals[4]?.exitCode).toBe(7);
    expect(runCounts(runs)).toEqual({ quick: 1, long: 1, lost: 1, queued1: 1, queued2: 1 });
    for (const j of jobs) {
      const states = j.history.map((s) => s.state);
      expect(new Set(states).size).toBe(states.length); // each state once, no regression
    }
    // A third executor finds nothing left to do.
    const again = executor(wd);
    await again.ready();
    const after = new Job();
    await again.attach(after, ids[3]!);
    expect(after.status.state).toBe('COMPLETED');
  }, 90_000);

  it('two executors recovering the same directory at once start each orphaned job exactly once', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const first = executor(wd, { maxCores: 1 });
    const jobs = [];
    for (let i = 0; i < 6; i++) jobs.push(await first.submit(counted(runs, `j${i}`, 0.05) as never));
    await jobs[0]!.wait({ targetStates: [JobState.ACTIVE] });
    await first.close(); // j1..j5 stay queued on disk, j0 keeps running
    const a = executor(wd, { maxCores: 2 });
    const b = executor(wd, { maxCores: 2 });
    await Promise.all([a.ready(), b.ready()]);
    const c = executor(wd);
    const finals = await Promise.all(
      jobs.map(async (j) => {
        const k = new Job();
        await c.attach(k, j.nativeId!);
        return (await k.wait({ timeout: 30_000 }))?.state;
      }),
    );
    expect(finals).toEqual(Array(6).fill('COMPLETED'));
    expect(runCounts(runs)).toEqual({ j0: 1, j1: 1, j2: 1, j3: 1, j4: 1, j5: 1 });
  }, 120_000);

  it('cancels from another process: a running job ends CANCELED in its owner, a queued one never runs', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const e = executor(wd, { maxCores: 1 });
    const running = await e.submit(counted(runs, 'running', 600) as never);
    const queued = await e.submit(counted(runs, 'queued', 0) as never);
    await running.wait({ targetStates: [JobState.ACTIVE] });
    const r1 = (await runChild({ op: 'cancel', workDirectory: wd, nativeId: queued.nativeId })) as { state: string };
    expect(r1.state).toBe('CANCELED');
    await runChild({ op: 'cancel', workDirectory: wd, nativeId: running.nativeId });
    expect((await running.wait({ timeout: 30_000 }))?.state).toBe('CANCELED');
    expect((await queued.wait({ timeout: 30_000 }))?.state).toBe('CANCELED');
    expect(runCounts(runs)).toEqual({ running: 1 });
  }, 120_000);

  /** One executor (maxCores 1) with a running blocker and a queued job, closed: both are orphans. */
  async function orphanedQueuedJob(wd: string, runs: string): Promise<string> {
    const first = executor(wd, { maxCores: 1 });
    const blocker = await first.submit(counted(runs, 'blocker', 0.3) as never);
    const orphan = await first.submit(counted(runs, 'orphan', 0) as never);
    await blocker.wait({ targetStates: [JobState.ACTIVE] });
    await first.close();
    return orphan.nativeId!;
  }
  const stageInLine = (id: string): string => journalLine(id, { state: 'STAGE_IN', time: new Date().toISOString() });

  it('runs once a job whose start was claimed (STAGE_IN) but that was never handed to a process (no spawn marker)', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const id = await orphanedQueuedJob(wd, runs);
    // An executor that died right after appending its start claim, before it spawned anything.
    appendToJournal(wd, id, stageInLine(id));
    const e = executor(wd, { maxCores: 1 });
    const j = new Job();
    await e.attach(j, id);
    expect(await j.wait({ timeout: 30_000 })).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(runCounts(runs)).toEqual({ blocker: 1, orphan: 1 });
  }, 120_000);

  it('never re-runs a job spawned directly (spawn marker) whose process is nowhere: FAILED, exit status lost', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const id = await orphanedQueuedJob(wd, runs);
    // An executor that died inside spawn(): the job may have run.
    appendToJournal(wd, id, `${stageInLine(id)}${journalLine(id, { spawn: 'direct' })}`);
    const e = executor(wd, { maxCores: 1 });
    const j = new Job();
    await e.attach(j, id);
    const status = await j.wait({ timeout: 30_000 });
    expect(status?.state).toBe('FAILED');
    expect(status?.message).toMatch(/exit status was lost.*not run again/);
    await new Promise((r) => setTimeout(r, 700));
    expect(runCounts(runs)).toEqual({ blocker: 1 });
  }, 120_000);

  it('finds a job started without a logged pid by its name in /proc and tracks it to its result', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const id = await orphanedQueuedJob(wd, runs);
    appendToJournal(wd, id, stageInLine(id));
    // What the dead executor had started: a shell named exaworks-job:<id> that writes a result.
    // Held on a FIFO so that it is still running when the executor looks for it in /proc.
    const hold = makeFifo(tempDir('xw-hold-'));
    const body = `echo orphan >> ${runs}; read _ < ${hold}; printf '4\\n' > ${path.join(wd, `${id}.result`)}; exit 4`;
    const proc = spawn('/bin/sh', ['-c', body, `exaworks-job:${id}`], { detached: true, stdio: 'ignore' });
    proc.unref();
    await until(
      () => {
        try {
          return 'orphan' in runCounts(runs);
        } catch {
          return false;
        }
      },
      30_000,
      'the stand-in job to start',
    );
    const e = executor(wd, { maxCores: 1 });
    const j = new Job();
    await e.attach(j, id);
    expect(await j.wait({ targetStates: [JobState.ACTIVE], timeout: 20_000 })).toMatchObject({ state: 'ACTIVE' });
    await releaseFifo(hold);
    const status = await j.wait({ timeout: 20_000 });
    expect(status).toMatchObject({ state: 'FAILED', exitCode: 4 });
    expect(j.history.map((s) => s.state)).toEqual(['NEW', 'QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'FAILED']);
    const lines = jobEntries(wd, id) as { state?: string; pid?: number }[];
    expect(lines.find((l) => l.state === 'ACTIVE')?.pid).toBe(proc.pid);
    expect(runCounts(runs)).toEqual({ blocker: 1, orphan: 1 });
  }, 120_000);

  it('a queued job canceled by a non-owner is decided once: the owner later reports the same final line and never runs it', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const owner = executor(wd, { maxCores: 1 });
    const blocker = await owner.submit(counted(runs, 'blocker', 600) as never);
    const queued = await owner.submit(counted(runs, 'queued', 0) as never);
    await blocker.wait({ targetStates: [JobState.ACTIVE] });
    const other = executor(wd);
    const seen = new Job();
    await other.attach(seen, queued.nativeId!);
    await other.cancel(seen);
    expect(seen.status.state).toBe('CANCELED');
    await until(
      () => {
        try {
          return 'blocker' in runCounts(runs); // it got to record its run before being canceled
        } catch {
          return false;
        }
      },
      30_000,
      'the blocker to record its run',
    );
    await owner.cancel(blocker);
    const mine = await queued.wait({ timeout: 30_000 });
    expect(mine?.state).toBe('CANCELED');
    expect(mine?.time.getTime()).toBe(seen.status.time.getTime()); // the one decision, not a second one
    // The one decision is the O_EXCL `<id>.unstarted` file; no journal carries another.
    const finals = jobEntries(wd, queued.nativeId!).filter((l) => /^(CANCELED|FAILED|COMPLETED)$/.test(String(l.state)));
    expect(finals).toHaveLength(0);
    expect(JSON.parse(readFileSync(path.join(wd, `${queued.nativeId!}.unstarted`), 'utf8'))).toMatchObject({ state: 'CANCELED' });
    expect(runCounts(runs)).toEqual({ blocker: 1 });
  }, 120_000);

  it('tolerates a torn last line in the status log', async () => {
    const wd = tempDir();
    const e = executor(wd);
    const job = await e.submit({ executable: '/bin/true' });
    await job.wait();
    // What a writer killed mid-append leaves: half a line at the end of its journal.
    appendToJournal(wd, job.nativeId!, `{"id":"${job.nativeId!}","state":"FAI`);
    const other = executor(wd);
    const j = new Job();
    await other.attach(j, job.nativeId!);
    expect(j.status.state).toBe('COMPLETED');
    await expect(other.attach(new Job(), 'no-such-job')).rejects.toMatchObject({ code: 'EXAWORKS_JOB_NOT_FOUND' });
    await expect(other.attach(new Job(), '../etc')).rejects.toMatchObject({ code: 'EXAWORKS_VALIDATION' });
  });
});
