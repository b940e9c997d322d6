import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, JobState, createJobSpec } from '@exaworks/jpsi-core';
import { LocalJobInspector, cleanFinishedJobs } from './inspect.js';
import type { LocalExecutor } from './executor.js';
import { withNativeId, type LocalExecutorConfigInput } from './config.js';
import { appendToJournal, journalLine, tempDir, until, useExecutors } from './test-support/helpers.js';

const makeExecutor = useExecutors({ maxCores: 2, killGracePeriod: 300, pollInterval: 50 });
const executor = (workDirectory: string, config: LocalExecutorConfigInput = {}): LocalExecutor =>
  makeExecutor({ workDirectory, ...config });

/** Every file under `dir` with its size and mtime: what a reader must leave exactly as it was. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out[path.relative(dir, p)] = `${s.size}:${s.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** A closed executor (maxCores 1) leaves a running blocker and a queued job behind: both orphans. */
async function orphans(wd: string, marker: string): Promise<{ blocker: string; queued: string }> {
  const first = executor(wd, { maxCores: 1 });
  const blocker = await first.submit({ executable: '/bin/sleep', arguments: ['600'] });
  const queued = await first.submit({ executable: '/bin/sh', arguments: ['-c', `echo ran > ${marker}`] });
  await blocker.wait({ targetStates: [JobState.ACTIVE] });
  await first.close();
  return { blocker: blocker.nativeId!, queued: queued.nativeId! };
}

describe('LocalJobInspector (read-only)', () => {
  it('shows an orphaned queued job without starting, adopting or writing anything; an executor then starts it', async () => {
    const wd = tempDir();
    const marker = path.join(tempDir('xw-marker-'), 'ran');
    const { blocker, queued } = await orphans(wd, marker);
    const before = snapshot(wd);
    const inspector = new LocalJobInspector(wd);
    const view = inspector.read(queued)!;
    expect(view).toMatchObject({ nativeId: queued, state: 'QUEUED', orphaned: true, startedAt: null, endedAt: null });
    expect(view.message).toMatch(/executor is gone/);
    expect(inspector.read(blocker)).toMatchObject({ state: 'ACTIVE', orphaned: true, recorded: true });
    expect(inspector.list().map((v) => [v.nativeId, v.state])).toEqual([
      [blocker, 'ACTIVE'],
      [queued, 'QUEUED'],
    ]);
    expect(snapshot(wd)).toEqual(before);
    expect(existsSync(marker)).toBe(false);

    // An executor on the directory adopts both; once the blocker is canceled the queued job runs.
    const adopter = executor(wd, { maxCores: 1 });
    await adopter.ready();
    const b = new Job();
    await adopter.attach(b, blocker);
    await adopter.cancel(b);
    const q = new Job();
    await adopter.attach(q, queued);
    expect((await q.wait({ timeout: 30_000 }))?.state).toBe(JobState.COMPLETED);
    expect(existsSync(marker)).toBe(true);
    await b.wait({ timeout: 30_000 });
    expect(inspector.read(blocker)).toMatchObject({ state: 'CANCELED', reason: 'canceled', recorded: true });
  }, 60_000);

  it('reports a job that ended with nobody watching from its result file, recorded: false', async () => {
    const wd = tempDir();
    const fifo = path.join(tempDir('xw-fifo-'), 'hold');
    execFileSync('mkfifo', [fifo]);
    const e = executor(wd);
    // Held on a FIFO until its executor is gone, then released: it ends with nobody watching.
    const job = await e.submit({ executable: '/bin/sh', arguments: ['-c', `read x < ${fifo}; exit 7`] });
    await job.wait({ targetStates: [JobState.ACTIVE] });
    await e.close();
    const inspector = new LocalJobInspector(wd);
    expect(inspector.read(job.nativeId!)).toMatchObject({ state: 'ACTIVE', orphaned: true });
    writeFileSync(fifo, 'go\n');
    await until(() => inspector.read(job.nativeId!)?.state === 'FAILED', 20_000, 'the job to end');
    expect(inspector.read(job.nativeId!)).toMatchObject({ state: 'FAILED', exitCode: 7, recorded: false, reason: null });
  }, 60_000);

  it('carries submit, start and end times and a walltime reason', async () => {
    const wd = tempDir();
    const e = executor(wd);
    const job = await e.submit({ executable: '/bin/sleep', arguments: ['60'], attributes: { duration: 1 } });
    await job.wait({ timeout: 30_000 });
    const v = new LocalJobInspector(wd).read(job.nativeId!)!;
    expect(v).toMatchObject({ state: 'FAILED', reason: 'walltime', recorded: true });
    expect(job.status.reason).toBe('walltime');
    expect(Date.parse(v.submittedAt)).toBeLessThanOrEqual(Date.parse(v.startedAt!));
    expect(Date.parse(v.startedAt!)).toBeLessThanOrEqual(Date.parse(v.endedAt!));
  }, 60_000);

  it('names a launch failure: a missing directory is launch-failed with the script’s words', async () => {
    const wd = tempDir();
    const e = executor(wd);
    const job = await e.submit({ executable: '/bin/true', directory: '/nonexistent/exaworks-dir' });
    const status = await job.wait({ timeout: 30_000 });
    expect(status).toMatchObject({ state: 'FAILED', reason: 'launch-failed' });
    expect(status?.message).toMatch(/nonexistent\/exaworks-dir/);
  }, 60_000);

  it('rejects a native id that could name another file', () => {
    expect(() => new LocalJobInspector(tempDir()).read('../x')).toThrow(/not a local executor native id/);
    expect(new LocalJobInspector(tempDir()).read('no-such-job')).toBeUndefined();
  });
});

describe('work directory', () => {
  it('is created private to its user (0700), with the directories above it', async () => {
    const base = tempDir();
    const wd = path.join(base, 'a', 'work');
    executor(wd);
    expect(statSync(wd).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(base, 'a')).mode & 0o777).toBe(0o700);
  });
});

describe('%j in output paths', () => {
  it('is replaced by the native id in the record and in the file the job writes', async () => {
    const wd = tempDir();
    const out = tempDir('xw-out-');
    const e = executor(wd);
    const job = await e.submit({ executable: '/bin/echo', arguments: ['hi'], stdoutPath: path.join(out, 'job-%j.out') });
    await job.wait({ timeout: 30_000 });
    const file = path.join(out, `job-${job.nativeId}.out`);
    expect(new LocalJobInspector(wd).read(job.nativeId!)?.stdoutPath).toBe(file);
    expect(existsSync(file)).toBe(true);
    const spec = createJobSpec({ executable: '/bin/true', stderrPath: '/tmp/%j.err' });
    expect(withNativeId(spec, 'abc').stderrPath).toBe('/tmp/abc.err');
    expect(withNativeId(createJobSpec({ executable: '/bin/true' }), 'abc')).not.toHaveProperty('stdoutPath');
  }, 60_000);
});

describe('LocalJobInspector: jobs of an exec agent', () => {
  it('shows a job its exec agent never started (directory missing) as FAILED from the agent journal, as the adopter then records it', async () => {
    const wd = tempDir();
    const { blocker, queued } = await orphans(wd, path.join(tempDir('xw-marker-'), 'ran'));
    // What a dead executor and its dead agent left: the start claim, the marker, and the agent's S and E lines.
    const journal = path.join(tempDir('xw-agent-'), 'dead.exec');
    const agent = { pid: 999_999_999, startTime: '1', journal };
    const time = new Date().toISOString();
    appendToJournal(
      wd,
      queued,
      `${journalLine(queued, { state: 'STAGE_IN', time })}${journalLine(queued, { spawn: 'exec', agent })}`,
    );
    const failure = 'job directory does not exist or is not accessible: /no/such';
    writeFileSync(journal, `\nS ${queued} .\n\nE ${queued} 1 ${Date.now()} ${JSON.stringify(failure)} .\n`);
    expect(new LocalJobInspector(wd).read(queued)).toMatchObject({
      state: 'FAILED',
      exitCode: 1,
      message: failure,
      reason: 'launch-failed',
      recorded: false,
    });
    const e = executor(wd, { maxCores: 1 });
    const j = new Job();
    await e.attach(j, queued);
    expect(await j.wait({ timeout: 30_000 })).toMatchObject({ state: 'FAILED', exitCode: 1, message: failure });
    const b = new Job();
    await e.attach(b, blocker);
    await e.cancel(b);
    expect((await b.wait({ timeout: 30_000 }))?.state).toBe('CANCELED');
  }, 60_000);
});

describe('cleanFinishedJobs', () => {
  it('removes finished jobs (older than the cutoff) and never a running or queued one', async () => {
    const wd = tempDir();
    const e = executor(wd, { maxCores: 1 });
    const done = await e.submit({ executable: '/bin/true', stdoutPath: path.join(wd, '%j.out') });
    await done.wait({ timeout: 30_000 });
    const running = await e.submit({ executable: '/bin/sleep', arguments: ['600'] });
    const queued = await e.submit({ executable: '/bin/true' });
    await running.wait({ targetStates: [JobState.ACTIVE] });
    expect(existsSync(path.join(wd, `${done.nativeId}.out`))).toBe(true);
    // A live executor still appends to its journal: nothing in it is rewritten under it.
    expect(cleanFinishedJobs(wd)).toEqual({ removed: [], unfinished: 3 });
    await e.close(); // the running job runs on, the queued one waits for the next executor

    // Ended just now: an age cutoff keeps it.
    expect(cleanFinishedJobs(wd, 3600)).toEqual({ removed: [], unfinished: 2 });
    expect(new LocalJobInspector(wd).read(done.nativeId!)?.state).toBe('COMPLETED');
    // An hour later it goes, with its output file; the others stay.
    const later = new Date(Date.now() + 2 * 3600 * 1000);
    expect(cleanFinishedJobs(wd, 3600, later)).toEqual({ removed: [done.nativeId], unfinished: 2 });
    expect(readdirSync(wd).filter((f) => f.startsWith(done.nativeId!))).toEqual([]);
    expect(new LocalJobInspector(wd).read(done.nativeId!)).toBeUndefined();
    expect(new LocalJobInspector(wd).ids()).toEqual([running.nativeId, queued.nativeId]);
    const next = executor(wd, { maxCores: 1 });
    const [r, q] = [new Job(), new Job()];
    await next.attach(r, running.nativeId!);
    await next.attach(q, queued.nativeId!);
    await next.cancel(r);
    expect((await r.wait({ timeout: 30_000 }))?.state).toBe('CANCELED');
    await q.wait({ timeout: 30_000 });
    await next.close();
    // An output file that is not one of the defaults beside the record is the user's: kept.
    writeFileSync(path.join(wd, 'mine.out'), 'x');
    utimesSync(path.join(wd, 'mine.out'), new Date(0), new Date(0));
    expect(cleanFinishedJobs(wd).removed.sort()).toEqual([queued.nativeId, running.nativeId].sort());
    expect(new LocalJobInspector(wd).ids()).toEqual([]);
    expect(existsSync(path.join(wd, 'mine.out'))).toBe(true);
  }, 60_000);
});

const haveMpirun = spawnSync('sh', ['-c', 'command -v mpirun']).status === 0;
const inCI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

describe('a launcher that fails', () => {
  it('mpirun is installed where it must be (CI)', () => {
    if (inCI) expect(haveMpirun, 'mpirun on PATH (scripts/install-mpi.sh)').toBe(true);
  });

  it.skipIf(!haveMpirun)(
    'quotes the launcher’s own error in the FAILED message (real mpirun)',
    async () => {
      const wd = tempDir();
      const e = executor(wd);
      const job = await e.submit({
        executable: '/nonexistent/exaworks-program',
        launcher: 'mpirun',
        stderrPath: path.join(wd, '%j.err'),
      });
      const status = await job.wait({ timeout: 30_000 });
      expect(status?.state).toBe(JobState.FAILED);
      // The program never started on any rank: mpirun's own words, naming the program, are the message.
      expect(status?.message).toMatch(
        /^mpirun exited with status \d+ before starting any process: .*nonexistent\/exaworks-program/,
      );
      expect(status?.reason).toBe('launch-failed');
    },
    60_000,
  );
});
