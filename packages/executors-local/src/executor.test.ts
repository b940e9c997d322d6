import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, JobState, ValidationError, getExecutor, type JobSpecInput, type JobStatus } from '@exaworks/jpsi-core';
import { LocalExecutor, createLocalExecutor } from './index.js';
import { jobEntries, tempDir, useExecutors } from './test-support/helpers.js';

const executor = useExecutors({ maxCores: 2, killGracePeriod: 500, pollInterval: 50 });

async function run(e: LocalExecutor, spec: JobSpecInput): Promise<{ job: Job; status: JobStatus; out: string; err: string }> {
  // The executor discards output a spec does not route to a file: route it to files to read it.
  const io = tempDir('xw-io-');
  const job = await e.submit(new Job({ stdoutPath: path.join(io, 'stdout'), stderrPath: path.join(io, 'stderr'), ...spec }));
  const status = (await job.wait({ timeout: 30_000 }))!;
  const read = (f: string) => (existsSync(path.join(io, f)) ? readFileSync(path.join(io, f), 'utf8') : '');
  return { job, status, out: read('stdout'), err: read('stderr') };
}

describe('LocalExecutor: running jobs', () => {
  it('runs echo and passes arguments with spaces, quotes and $() literally', async () => {
    const e = executor();
    const args = ['a b', "it's", '"dq"', '$(touch /tmp/xw-never)', '`id`', '*', ''];
    const r = await run(e, { executable: '/usr/bin/printf', arguments: ['%s|', ...args] });
    expect(r.status.state).toBe(JobState.COMPLETED);
    expect(r.status.exitCode).toBe(0);
    expect(r.out).toBe(args.map((a) => `${a}|`).join(''));
  });

  it('reports exit codes: 0 COMPLETED, non-zero FAILED with the code', async () => {
    const e = executor();
    const ok = await run(e, { executable: '/bin/true' });
    const bad = await run(e, { executable: '/bin/sh', arguments: ['-c', 'exit 42'] });
    expect(ok.status).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(bad.status).toMatchObject({ state: 'FAILED', exitCode: 42 });
  });

  it('explains a machinery failure (program not found) in the FAILED message', async () => {
    const e = executor();
    const r = await run(e, { executable: '/no/such/program' });
    expect(r.status.state).toBe('FAILED');
    expect(r.status.message).toMatch(/not found/);
  });

  it('inherits the environment by default and adds spec variables', async () => {
    process.env.XW_TEST_INHERITED = 'from-parent';
    const e = executor();
    const r = await run(e, {
      executable: '/bin/sh',
      arguments: ['-c', 'echo "$XW_TEST_INHERITED/$XW_SPEC"'],
      environment: { XW_SPEC: 7 },
    });
    expect(r.out).toBe('from-parent/7\n');
  });

  it('does not inherit the environment when inheritEnvironment is false', async () => {
    process.env.XW_TEST_INHERITED = 'from-parent';
    const e = executor();
    const r = await run(e, {
      executable: '/bin/sh',
      arguments: ['-c', 'echo "[$XW_TEST_INHERITED][$XW_SPEC]"'],
      inheritEnvironment: false,
      environment: { XW_SPEC: 'x y' },
    });
    expect(r.status.state).toBe('COMPLETED');
    expect(r.out).toBe('[][x y]\n');
  });

  it('runs in the spec directory, and fails clearly when it does not exist', async () => {
    const e = executor();
    const dir = tempDir('xw-dir-');
    const r = await run(e, { executable: '/bin/pwd', directory: dir });
    expect(r.out.trim()).toBe(dir);
    const missing = await run(e, { executable: '/bin/pwd', directory: path.join(dir, 'missing') });
    expect(missing.status.state).toBe('FAILED');
    expect(missing.status.message).toMatch(/directory/);
  });

  it('connects stdin, stdout and stderr files', async () => {
    const e = executor();
    const dir = tempDir('xw-io-');
    writeFileSync(path.join(dir, 'in.txt'), 'line one\nline two\n');
    const r = await run(e, {
      executable: '/bin/sh',
      arguments: ['-c', 'cat; echo oops >&2'],
      stdinPath: path.join(dir, 'in.txt'),
      stdoutPath: path.join(dir, 'out.txt'),
      stderrPath: path.join(dir, 'err.txt'),
    });
    expect(r.status.state).toBe('COMPLETED');
    expect(readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('line one\nline two\n');
    expect(readFileSync(path.join(dir, 'err.txt'), 'utf8')).toBe('oops\n');
  });

  it('sources pre- and post-launch scripts once, in the job shell', async () => {
    const e = executor();
    const dir = tempDir('xw-prepost-');
    writeFileSync(path.join(dir, 'pre.sh'), 'export XW_FROM_PRE=pre-value\necho pre >> "$XW_LOG"\n');
    writeFileSync(path.join(dir, 'post.sh'), 'echo "post $XW_FROM_PRE" >> "$XW_LOG"\n');
    const log = path.join(dir, 'log');
    const r = await run(e, {
      executable: '/bin/sh',
      arguments: ['-c', 'echo "job $XW_FROM_PRE" >> "$XW_LOG"'],
      environment: { XW_LOG: log },
      preLaunch: path.join(dir, 'pre.sh'),
      postLaunch: path.join(dir, 'post.sh'),
      launcher: 'multiple',
      resources: { processCount: 2 },
    });
    expect(r.status.state).toBe('COMPLETED');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('pre');
    expect(lines.slice(1, 3)).toEqual(['job pre-value', 'job pre-value']);
    expect(lines[3]).toBe('post pre-value');
    expect(lines).toHaveLength(4);
  });

  it('runs processCount copies with the multiple launcher', async () => {
    const e = executor({ maxCores: 4 });
    const r = await run(e, {
      executable: '/bin/sh',
      arguments: ['-c', 'echo "rank $EXAWORKS_RANK"'],
      launcher: 'multiple',
      resources: { processCount: 3 },
    });
    expect(r.status.state).toBe('COMPLETED');
    expect(r.out.trim().split('\n').sort()).toEqual(['rank 0', 'rank 1', 'rank 2']);
  });

  it('gives each job a PSIJ_NODEFILE with one line per process', async () => {
    const e = executor({ maxCores: 4 });
    const r = await run(e, {
      executable: '/bin/sh',
      arguments: ['-c', 'wc -l < "$PSIJ_NODEFILE"'],
      resources: { processCount: 3 },
    });
    expect(r.out.trim()).toBe('3');
  });
});

describe('LocalExecutor: states and bookkeeping', () => {
  it('emits QUEUED, STAGE_IN, ACTIVE, STAGE_OUT, CLEANUP and the final state once each, to job and executor listeners', async () => {
    const e = executor();
    for (const [exe, final] of [
      ['/bin/date', 'COMPLETED'],
      ['/bin/false', 'FAILED'],
    ] as const) {
      const seenByExecutor: string[] = [];
      const seenByJob: string[] = [];
      const off = e.onStatus((j, s) => {
        if (j === job) seenByExecutor.push(s.state);
      });
      const job = new Job({ executable: exe });
      job.onStatus((_j, s) => seenByJob.push(s.state));
      await e.submit(job);
      await job.wait();
      off();
      const expected = ['QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', final];
      expect(seenByJob).toEqual(expected);
      expect(seenByExecutor).toEqual(expected);
    }
  });

  it('has the job on disk before submit resolves, and lists native ids sorted by submission', async () => {
    const e = executor();
    const a = await e.submit({ executable: '/bin/true' });
    // In the submitter's journal, named by the tag inside the native id.
    const journal = path.join(e.workDirectory, '.journal', `${a.nativeId!.split('-')[1]}.jsonl`);
    expect(readFileSync(journal, 'utf8')).toContain(`{"format":"exaworks-local/2","nativeId":"${a.nativeId!}"`);
    const b = await e.submit({ executable: '/bin/true' });
    const c = await e.submit({ executable: '/bin/true' });
    expect(await e.list()).toEqual([a.nativeId, b.nativeId, c.nativeId]);
    expect([c.nativeId, a.nativeId, b.nativeId].sort()).toEqual([a.nativeId, b.nativeId, c.nativeId]);
    await Promise.all([a.wait(), b.wait(), c.wait()]);
    const [record, ...log] = jobEntries(e.workDirectory, a.nativeId!) as { state?: string; spawn?: string }[];
    expect(record).toMatchObject({ nativeId: a.nativeId, spec: { executable: '/bin/true' } });
    // Between STAGE_IN and ACTIVE: the spawn marker (how it is started: a shell-free job by the
    // exec agent), a line without a state.
    expect(log.map((l) => l.state ?? l.spawn)).toEqual(['STAGE_IN', 'exec', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'COMPLETED']);
    // A job with a pre-launch script needs its shell: the sh spawn agent runs its script.
    const pre = path.join(tempDir('xw-pre-'), 'pre.sh');
    writeFileSync(pre, 'true\n');
    const scripted = await e.submit({ executable: '/bin/true', preLaunch: pre });
    await scripted.wait();
    const [, ...log2] = jobEntries(e.workDirectory, scripted.nativeId!) as { state?: string; spawn?: string }[];
    expect(log2.map((l) => l.state ?? l.spawn)).toEqual(['STAGE_IN', 'agent', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'COMPLETED']);
  });

  it('words a machinery failure alike through the exec agent and through the job script', async () => {
    const missing = path.join(tempDir('xw-parity-'), 'no', 'such');
    const specs: JobSpecInput[] = [
      { executable: '/bin/true', directory: missing },
      { executable: '/bin/true', stdoutPath: path.join(missing, 'out') },
      { executable: '/bin/true', stdinPath: path.join(missing, 'in') },
      { executable: '/no/such/program' },
    ];
    const outcomes = async (e: LocalExecutor) =>
      Promise.all(
        specs.map(async (spec) => {
          const s = await (await e.submit(spec)).wait({ timeout: 30_000 });
          return { state: s?.state, exitCode: s?.exitCode, message: s?.message };
        }),
      );
    const viaExec = await outcomes(executor());
    LocalExecutor.agentOptions = { python: '/no/such/python3' };
    let viaScript: Awaited<ReturnType<typeof outcomes>>;
    try {
      viaScript = await outcomes(executor());
    } finally {
      LocalExecutor.agentOptions = {};
    }
    expect(viaExec).toEqual(viaScript);
    expect(viaExec.map((o) => o.exitCode)).toEqual([1, 1, 1, 127]);
    expect(viaExec[0]?.message).toBe(`job directory does not exist or is not accessible: ${missing}`);
    expect(viaExec[3]?.message).toBe('program not found: /no/such/program');
  });

  it('creates no file per job (a shell-free job not even a result), and discards output the spec does not route to a file (as psij-python)', async () => {
    const e = executor();
    const job = await e.submit({ executable: '/bin/sh', arguments: ['-c', 'echo out; echo err >&2; exit 3'] });
    expect((await job.wait())?.exitCode).toBe(3);
    expect(
      readdirSync(e.workDirectory)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    ).toEqual([]);
    // Run through its script (here: because python3 is "missing"), the job's shell writes `<id>.result`.
    LocalExecutor.agentOptions = { python: '/no/such/python3' };
    try {
      const other = executor();
      const scripted = await other.submit({ executable: '/bin/sh', arguments: ['-c', 'exit 3'] });
      expect((await scripted.wait())?.exitCode).toBe(3);
      const sid = scripted.nativeId!;
      expect(readdirSync(other.workDirectory).filter((f) => !f.startsWith('.'))).toEqual([`${sid}.result`]);
      expect(readFileSync(path.join(other.workDirectory, `${sid}.result`), 'utf8')).toBe('3\n');
    } finally {
      LocalExecutor.agentOptions = {};
    }
  });

  it('with keepFiles, leaves a copy of the job script that reproduces the job', async () => {
    const e = executor({ keepFiles: true });
    const out = path.join(tempDir('xw-io-'), 'out');
    const job = await e.submit({ executable: '/bin/echo', arguments: ['kept'], stdoutPath: out });
    expect((await job.wait())?.state).toBe('COMPLETED');
    const script = readFileSync(path.join(e.workDirectory, `${job.nativeId!}.sh`), 'utf8');
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain('/bin/echo kept');
  });

  it('rejects an invalid config with a ValidationError naming the field', () => {
    expect(() => createLocalExecutor({ maxCores: 0 })).toThrow(ValidationError);
    try {
      createLocalExecutor({ maxCores: 1.5, killGracePeriod: -1, bogus: true } as never);
      expect.unreachable();
    } catch (err) {
      const paths = (err as ValidationError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['maxCores', 'killGracePeriod']));
      expect((err as ValidationError).message).toMatch(/bogus|unrecognized/i);
    }
  });

  it('is found by the registry as "local"', async () => {
    const e = await getExecutor('local', { workDirectory: tempDir(), maxCores: 1 });
    // The registry loads the built package (dist), a different module instance from src.
    expect(e.constructor.name).toBe('LocalExecutor');
    expect(e.name).toBe('local');
    expect(e.config).toMatchObject({ maxCores: 1 });
    await e.close();
  });

  it('refuses to submit the same job twice and to work after close', async () => {
    const e = executor();
    const job = await e.submit({ executable: '/bin/true' });
    await expect(e.submit(job)).rejects.toThrow(/already submitted/);
    await job.wait();
    await e.close();
    await expect(e.submit({ executable: '/bin/true' })).rejects.toMatchObject({ code: 'EXAWORKS_CLOSED' });
  });

  it('aborts a submission through its signal without leaving a record', async () => {
    const e = executor();
    const ac = new AbortController();
    ac.abort();
    await expect(e.submit({ executable: '/bin/true' }, { signal: ac.signal })).rejects.toMatchObject({
      code: 'EXAWORKS_ABORTED',
    });
    expect(await e.list()).toEqual([]);
  });
});
