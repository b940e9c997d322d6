import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Job, JobState } from '@exaworks/jpsi-core';
import { LocalExecutor, type LocalExecutorConfigInput } from './index.js';
import {
  appendToJournal,
  jobEntries,
  journalLine,
  makeFifo,
  releaseFifo,
  runChild,
  tempDir,
  until,
  useExecutors,
} from './test-support/helpers.js';

const makeExecutor = useExecutors({ maxCores: 2, killGracePeriod: 300, pollInterval: 50 });
const executor = (workDirectory: string, config: LocalExecutorConfigInput = {}): LocalExecutor =>
  makeExecutor({ workDirectory, ...config });

function counted(runs: string, name: string, seconds: number): Record<string, unknown> {
  return { executable: '/bin/sh', arguments: ['-c', `echo ${name} >> ${runs}; sleep ${seconds}`], name };
}
function runCounts(runs: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of readFileSync(runs, 'utf8').trim().split('\n')) out[n] = (out[n] ?? 0) + 1;
  return out;
}

/** One executor (maxCores 1) with a running blocker and a queued job, closed: both are orphans. */
async function orphanedQueuedJob(wd: string, runs: string): Promise<string> {
  const first = executor(wd, { maxCores: 1 });
  const blocker = await first.submit(counted(runs, 'blocker', 0.2) as never);
  const orphan = await first.submit(counted(runs, 'orphan', 0) as never);
  await blocker.wait({ targetStates: [JobState.ACTIVE] });
  await first.close();
  return orphan.nativeId!;
}

describe('LocalExecutor: crash windows', () => {
  it('an adopter killed between its adoption claim and its owner file does not strand the job', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const id = await orphanedQueuedJob(wd, runs);
    // A dead executor won generation 1 (O_EXCL) and died before it wrote <id>.owner.
    writeFileSync(path.join(wd, `${id}.adopt-1`), '999999999-12345-0');
    const e = executor(wd, { maxCores: 1 });
    const j = new Job();
    await e.attach(j, id);
    expect((await j.wait({ timeout: 30_000 }))?.state).toBe('COMPLETED');
    expect(runCounts(runs)).toEqual({ blocker: 1, orphan: 1 });
  }, 60_000);

  it('a job whose ACTIVE line has no start time (it ended before it was read) and no result ends as run, not as never started', async () => {
    const wd = tempDir();
    const runs = path.join(tempDir('xw-runs-'), 'runs');
    const id = await orphanedQueuedJob(wd, runs);
    // The spawn agent reported a pid whose process was already reaped: the ACTIVE line says startTime "".
    const time = new Date().toISOString();
    appendToJournal(
      wd,
      id,
      `${journalLine(id, { state: 'STAGE_IN', time })}${journalLine(id, { state: 'ACTIVE', time, pid: 999999999, startTime: '' })}`,
    );
    const e = executor(wd, { maxCores: 1 });
    const j = new Job();
    await e.attach(j, id);
    const status = await j.wait({ timeout: 30_000 });
    expect(status?.state).toBe('FAILED');
    expect(status?.message).toMatch(/its process ended while no executor was tracking it/);
    expect(j.history.map((s) => s.state)).toEqual(['NEW', 'QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'FAILED']);
  }, 60_000);

  it('close() during a stage-in lets the process exit: the job starts, is recorded ACTIVE, and an adopter tracks it', async () => {
    const wd = tempDir();
    const dir = tempDir('xw-stage-');
    const runs = path.join(dir, 'runs');
    const hold = makeFifo(dir);
    writeFileSync(path.join(dir, 'input.txt'), 'data');
    const spec = {
      executable: '/bin/sh',
      // Held on a FIFO until the test lets it go, so the child can only have exited while it still runs.
      arguments: ['-c', `echo staged >> ${runs}; read _ < ${hold}`],
      name: 'staged',
      directory: path.join(dir, 'job'),
      stageIn: [{ source: path.join(dir, 'input.txt'), target: 'input.txt' }],
    };
    // The child submits and closes at once, while the stage-in is still in flight; it exits
    // although the job it started after close() cannot end before releaseFifo below.
    const out = (await runChild({ op: 'submit', workDirectory: wd, specs: [spec] })) as { ids: string[] };
    const e = executor(wd);
    const j = new Job();
    await e.attach(j, out.ids[0]!);
    expect(await j.wait({ targetStates: [JobState.ACTIVE], timeout: 20_000 })).toMatchObject({ state: 'ACTIVE' });
    expect(j.status.state).toBe('ACTIVE'); // still running after its submitter exited
    await releaseFifo(hold);
    expect(await j.wait({ timeout: 20_000 })).toMatchObject({ state: 'COMPLETED' });
    expect(j.history.map((s) => s.state)).toContain('ACTIVE');
    expect(runCounts(runs)).toEqual({ staged: 1 });
  }, 60_000);

  it('close() right after submit still records ACTIVE with the pid of a job handed to the spawn agent', async () => {
    const wd = tempDir();
    const runs = path.join(wd, 'runs');
    const first = executor(wd);
    const job = await first.submit(counted(runs, 'handed-over', 0.5) as never);
    await first.close(); // the agent may not have reported the pid yet
    const lines = jobEntries(wd, job.nativeId!).slice(1) as { state?: string; pid?: number }[];
    const active = lines.find((l) => l.state === 'ACTIVE');
    expect(active?.pid).toBeGreaterThan(0);
    // An adopter then tracks it to its end; it ran exactly once.
    const second = executor(wd);
    const again = new Job();
    await second.attach(again, job.nativeId!);
    expect(await again.wait({ timeout: 20_000 })).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(runCounts(runs)).toEqual({ 'handed-over': 1 });
  }, 60_000);

  it('a spawn agent killed alone (its job watchers live on) gets no more jobs: the next job runs at once', async () => {
    LocalExecutor.agentOptions = { python: '/no/such/python3' }; // the sh agent, as where python3 is missing
    onTestFinished(() => {
      LocalExecutor.agentOptions = {};
    });
    const e = executor(tempDir(), { recover: false });
    const hold = makeFifo(tempDir('xw-hold-'));
    const long = await e.submit({ executable: '/bin/sh', arguments: ['-c', `read _ < ${hold}`] });
    await long.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
    const agent = readdirSync('/proc').find((p) => {
      try {
        const args = readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0');
        const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
        // The agent itself, not one of its watcher subshells (those are its children, not Node's).
        return args.includes('exaworks-agent') && stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(process.pid);
      } catch {
        return false;
      }
    });
    expect(agent).toBeDefined();
    process.kill(Number(agent), 'SIGKILL'); // only the agent: the watcher of the long job keeps its stdout open
    // Reaped (gone from /proc, not a zombie): Node has seen it exit.
    await until(() => !existsSync(`/proc/${agent}`), 20_000, 'the agent to die');
    const next = await e.submit({ executable: '/bin/true' });
    expect((await next.wait({ timeout: 20_000 }))?.state).toBe('COMPLETED');
    expect(long.status.state).toBe('ACTIVE'); // the next job was not held until the long one ended: it cannot end yet
    await releaseFifo(hold);
    expect((await long.wait({ timeout: 20_000 }))?.state).toBe('COMPLETED');
  }, 60_000);
});

describe('LocalExecutor: cleanup path escapes', () => {
  it('refuses a cleanup path that leaves the job directory through a symlink in it', async () => {
    const e = executor(tempDir(), { recover: false });
    const job = path.join(tempDir('xw-job-'), 'job');
    const outside = tempDir('xw-outside-');
    mkdirSync(job);
    writeFileSync(path.join(outside, 'precious'), 'x');
    symlinkSync(outside, path.join(job, 'shared'));
    const j = await e.submit(
      new Job({ executable: '/bin/true', directory: job, cleanup: ['shared/precious', 'shared'], cleanupFlags: ['ON_SUCCESS'] }),
    );
    const status = await j.wait({ timeout: 30_000 });
    expect(status?.state).toBe('COMPLETED');
    expect(status?.message).toMatch(/not inside the job directory/);
    expect(existsSync(path.join(outside, 'precious'))).toBe(true);
    expect(existsSync(path.join(job, 'shared'))).toBe(false); // the link itself is inside: removed, not followed
  }, 60_000);
});
