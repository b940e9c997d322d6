/**
 * End to end: the built `exaworks` binary as a real process against the real local executor,
 * each command a separate process sharing one temporary work directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const LOCAL_EXECUTOR = fileURLToPath(new URL('../../executors-local/dist/index.js', import.meta.url));
const haveLocal = existsSync(LOCAL_EXECUTOR);
if (!haveLocal && process.env.CI)
  throw new Error(`The local executor is not built (${LOCAL_EXECUTOR}); CI must build it before these tests.`);
if (!haveLocal)
  console.warn(`skipping CLI end-to-end tests: ${LOCAL_EXECUTOR} is not built (run npx tsc -b in packages/executors-local)`);

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let work: string;
let base: string;

function start(args: string[], options: { cwd?: string } = {}): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? base,
    env: { ...process.env, EXAWORKS_WORK_DIR: path.join(base, 'default-work'), EXAWORKS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

function exaworks(...args: string[]): Promise<Result> {
  return start(args).done;
}

let fifos = 0;
/** A new FIFO: a job that reads it is held until the test writes a line to it. */
async function holdFifo(): Promise<string> {
  const fifo = path.join(base, `hold-${fifos++}`);
  execFileSync('mkfifo', [fifo]);
  return fifo;
}

/**
 * The file's content once it equals `expected`: a job that submit has started may not have written yet
 * (or even created the file); the job is held after writing, so this ends, bounded by the test's timeout.
 */
async function contentOnceItIs(file: string, expected: string): Promise<string> {
  for (;;) {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    if (text === expected) return text;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every job command with the shared work directory. */
function wd(...args: string[]): string[] {
  return [...args, '--work-dir', work];
}

describe.skipIf(!haveLocal)('exaworks CLI end to end (built binary, real local executor)', () => {
  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (cd packages/cli && npx tsc -b)`);
    base = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-e2e-'));
    work = path.join(base, 'work');
  });
  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('run: the job writes to the terminal, and its exit code becomes the CLI exit code', { timeout: 60_000 }, async () => {
    const r = await exaworks(...wd('run'), '--', '/bin/sh', '-c', 'echo out-line; echo err-line >&2; exit 3');
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('out-line\n');
    expect(r.stderr).toMatch(/exaworks: job \S+ ACTIVE/);
    // The final state comes after the job's own output.
    expect(r.stderr).toMatch(/err-line\n(.*\n)*exaworks: job \S+ FAILED exit 3 \d\d:\d\d\n$/);
    const ok = await exaworks(...wd('run'), '--quiet', '/bin/echo', 'hello', 'world');
    expect(ok).toMatchObject({ code: 0, stdout: 'hello world\n', stderr: '' });
  });

  it('run --stdout FILE and --json: output in the file, only the job JSON on stdout', { timeout: 60_000 }, async () => {
    const out = path.join(base, 'job.out');
    const r = await exaworks(
      ...wd('run'),
      '--json',
      '--stdout',
      out,
      '--env',
      'GREETING=hi there',
      '--',
      '/bin/sh',
      '-c',
      'echo "$GREETING"; exit 0',
    );
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(job).toMatchObject({ executor: 'local', state: 'COMPLETED', exitCode: 0, name: '/bin/sh', message: null });
    expect(typeof job.nativeId).toBe('string');
    expect(await readFile(out, 'utf8')).toBe('hi there\n');
  });

  it('run: bad input exits 2 with the field, and never reaches the executor', { timeout: 60_000 }, async () => {
    const r = await exaworks(...wd('run'), '--memory', '4 bananas', '--', '/bin/true');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/resources\.memory: "4 bananas" is not a memory size/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('submit, then status, wait and list from separate processes', { timeout: 60_000 }, async () => {
    // Held on a FIFO: it stays ACTIVE however slow the CLI start-ups are, until the test lets go.
    const fifo = await holdFifo();
    const sub = await exaworks(...wd('submit'), '--name', 'e2e-sleeper', '--', '/bin/sh', '-c', `read x < ${fifo}; exit 5`);
    expect(sub.code).toBe(0);
    const id = sub.stdout.trim();
    expect(id).toMatch(/^[A-Za-z0-9._-]+$/);

    const status = await exaworks(...wd('status'), '--json', id);
    expect(status.code).toBe(0);
    const [row] = JSON.parse(status.stdout) as Record<string, unknown>[];
    expect(row).toMatchObject({ nativeId: id, state: 'ACTIVE', name: 'e2e-sleeper', exitCode: null, endedAt: null });
    expect(Date.parse(String(row!.submittedAt))).toBeLessThanOrEqual(Date.parse(String(row!.startedAt)));

    const list = await exaworks(...wd('list'));
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${id} +ACTIVE +- +e2e-sleeper`));

    const early = await exaworks(...wd('wait'), '--timeout', '0.1', id);
    expect(early.code).toBe(124);

    const waiting = exaworks(...wd('wait'), id);
    await writeFile(fifo, 'go\n');
    const waited = await waiting;
    expect(waited.code).toBe(5);
    expect(waited.stdout).toMatch(new RegExp(`${id} +FAILED +5 +e2e-sleeper`));

    const after = await exaworks(...wd('list'), '--json');
    expect(JSON.parse(after.stdout)).toContainEqual(
      expect.objectContaining({ nativeId: id, state: 'FAILED', exitCode: 5, endedAt: expect.any(String) }),
    );
  });

  it('submit keeps the output in <id>.out/.err beside the record; logs prints and follows it', { timeout: 60_000 }, async () => {
    const fifo = await holdFifo();
    const sub = await exaworks(
      ...wd('submit'),
      '--',
      '/bin/sh',
      '-c',
      `echo first; echo oops >&2; read x < ${fifo}; echo second`,
    );
    expect(sub.code).toBe(0);
    const id = sub.stdout.trim();
    await contentOnceItIs(path.join(work, `${id}.out`), 'first\n');
    await contentOnceItIs(path.join(work, `${id}.err`), 'oops\n');
    const now = await exaworks(...wd('logs'), id);
    expect(now).toMatchObject({ code: 0, stdout: 'first\n' });
    // -f ends by itself once the job is final, with everything the job wrote.
    const following = exaworks(...wd('logs'), '-f', '--interval', '50', id);
    await writeFile(fifo, 'go\n');
    expect(await following).toMatchObject({ code: 0, stdout: 'first\nsecond\n' });
    expect(await exaworks(...wd('logs'), '--stderr', id)).toMatchObject({ code: 0, stdout: 'oops\n' });
    const status = await exaworks(...wd('status'), '--json', id);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({
      stdout: path.join(work, `${id}.out`),
      stderr: path.join(work, `${id}.err`),
    });
    expect((await exaworks(...wd('logs'), 'no-such-job')).code).toBe(1);
  });

  it('%j in --stdout is the native id', { timeout: 60_000 }, async () => {
    const sub = await exaworks(...wd('submit'), '--stdout', path.join(base, 'out-%j.txt'), '--', '/bin/echo', 'hi');
    const id = sub.stdout.trim();
    await exaworks(...wd('wait'), id);
    expect(await readFile(path.join(base, `out-${id}.txt`), 'utf8')).toBe('hi\n');
    expect(await exaworks(...wd('logs'), id)).toMatchObject({ code: 0, stdout: 'hi\n' });
    await rm(path.join(base, `out-${id}.txt`));
    const gone = await exaworks(...wd('logs'), id);
    expect(gone).toMatchObject({ code: 0, stdout: '' });
    expect(gone.stderr).toMatch(/out-\S+\.txt does not exist/);
  });

  it('status and list never start an orphaned job; wait does', { timeout: 60_000 }, async () => {
    const orphanDir = path.join(base, 'orphans');
    const marker = path.join(base, 'orphan-ran');
    const { createLocalExecutor } = (await import(LOCAL_EXECUTOR)) as typeof import('@exaworks/executors-local');
    // A closed executor with one core leaves a held blocker running and a job queued behind it.
    const fifo = await holdFifo();
    const first = createLocalExecutor({ workDirectory: orphanDir, maxCores: 1 });
    const blocker = await first.submit({ executable: '/bin/sh', arguments: ['-c', `read x < ${fifo}`] });
    const queued = await first.submit({ executable: '/bin/sh', arguments: ['-c', `echo ran > ${marker}`] });
    await blocker.wait({ targetStates: ['ACTIVE'] });
    await first.close();
    const id = queued.nativeId!;
    const files = async () => (await readdir(orphanDir)).sort();
    const before = await files();

    const status = await exaworks('status', '--work-dir', orphanDir, '--json', id);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ nativeId: id, state: 'QUEUED' });
    const list = await exaworks('list', '--work-dir', orphanDir);
    expect(list.stdout).toMatch(new RegExp(`${id} +QUEUED`));
    expect(await files()).toEqual(before); // no adoption claim, no owner file, no log line
    expect(existsSync(marker)).toBe(false);

    const waiting = exaworks('wait', '--work-dir', orphanDir, id);
    await writeFile(fifo, 'go\n');
    expect((await waiting).code).toBe(0);
    expect(await readFile(marker, 'utf8')).toBe('ran\n');
  });

  it('cancel of a queued orphan never starts it, nor any other orphan', { timeout: 60_000 }, async () => {
    const dir = path.join(base, 'cancel-orphans');
    const ran = path.join(base, 'cancel-orphans-ran');
    const { createLocalExecutor } = (await import(LOCAL_EXECUTOR)) as typeof import('@exaworks/executors-local');
    const fifo = await holdFifo();
    const first = createLocalExecutor({ workDirectory: dir, maxCores: 1 });
    const blocker = await first.submit({ executable: '/bin/sh', arguments: ['-c', `read x < ${fifo}`] });
    const q1 = await first.submit({ executable: '/bin/sh', arguments: ['-c', `echo q1 >> ${ran}`] });
    const q2 = await first.submit({ executable: '/bin/sh', arguments: ['-c', `echo q2 >> ${ran}`] });
    await blocker.wait({ targetStates: ['ACTIVE'] });
    await first.close();
    await writeFile(fifo, 'go\n'); // the blocker ends: an adopter would have free cores
    const cancel = await exaworks('cancel', '--work-dir', dir, '--json', q1.nativeId!);
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)[0]).toMatchObject({ nativeId: q1.nativeId, state: 'CANCELED' });
    const status = await exaworks('status', '--work-dir', dir, '--json', q2.nativeId!);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ state: 'QUEUED' });
    expect(existsSync(ran)).toBe(false); // neither ran: not the canceled one, not the other orphan
    // Every journal line about it (its record, and no ACTIVE line in any journal).
    const journals = path.join(dir, '.journal');
    const entries: { id?: string; nativeId?: string; state?: string }[] = [];
    for (const f of await readdir(journals)) {
      for (const l of (await readFile(path.join(journals, f), 'utf8')).split('\n')) if (l) entries.push(JSON.parse(l));
    }
    const about = entries.filter((e) => e.id === q1.nativeId || e.nativeId === q1.nativeId);
    expect(about.some((e) => e.nativeId === q1.nativeId)).toBe(true);
    expect(about.map((e) => e.state)).not.toContain('ACTIVE');
  });

  it('clean removes finished jobs and leaves a running one alone', { timeout: 60_000 }, async () => {
    const dir = path.join(base, 'clean');
    const done = (await exaworks('submit', '--work-dir', dir, '--', '/bin/true')).stdout.trim();
    await exaworks('wait', '--work-dir', dir, done);
    const running = (await exaworks('submit', '--work-dir', dir, '--', '/bin/sleep', '600')).stdout.trim();
    const kept = await exaworks('clean', '--work-dir', dir, '--older-than', '7d', '--json');
    expect(JSON.parse(kept.stdout)).toEqual({ removed: [], unfinished: 1 });
    const r = await exaworks('clean', '--work-dir', dir, '--json');
    expect(JSON.parse(r.stdout)).toEqual({ removed: [done], unfinished: 1 });
    expect((await readdir(dir)).filter((f) => f.startsWith(done))).toEqual([]);
    expect((await exaworks('status', '--work-dir', dir, running)).stdout).toMatch(/ACTIVE/);
    expect((await exaworks('clean', '--work-dir', dir, '--older-than', 'soon')).code).toBe(2);
    await exaworks('cancel', '--work-dir', dir, running);
  });

  it('cancel a running job from another process', { timeout: 60_000 }, async () => {
    const sub = await exaworks(...wd('submit'), '--json', '--', '/bin/sleep', '60');
    const job = JSON.parse(sub.stdout) as { nativeId: string; state: string };
    expect(job.state).toBe('ACTIVE');
    const cancel = await exaworks(...wd('cancel'), job.nativeId);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`${job.nativeId} +CANCELED`));
    const status = await exaworks(...wd('status'), '--json', job.nativeId);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ state: 'CANCELED' });
    const wait = await exaworks(...wd('wait'), job.nativeId);
    // Its own exit status, as its agent saw it: killed by the cancel's SIGTERM (128 + 15).
    expect(wait.code).toBe(143);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s on run cancels the job and exits %i', { timeout: 60_000 }, async (signal, code) => {
    const { child, done } = start(['run', '--work-dir', work, '--', '/bin/sleep', '600']);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`run never became ACTIVE: ${stderr}`)), 40_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/ACTIVE/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill(signal);
    const r = await done;
    expect(r.code).toBe(code);
    const id = /job (\S+) ACTIVE/.exec(r.stderr)![1]!;
    expect(r.stderr).toMatch(/interrupted; canceling job/);
    const status = await exaworks(...wd('status'), '--json', id);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ nativeId: id, state: 'CANCELED', reason: 'canceled' });
  });

  it('an unknown launcher or executor name is bad input (exit 2)', { timeout: 60_000 }, async () => {
    const launcher = await exaworks(...wd('run'), '--launcher', 'no-such-launcher', '--', '/bin/true');
    expect(launcher.code).toBe(2);
    expect(launcher.stderr).toMatch(/no-such-launcher.*\[EXAWORKS_UNKNOWN_LAUNCHER\]/);
    const executor = await exaworks('run', '-x', 'no-such-executor', '--', '/bin/true');
    expect(executor.code).toBe(2);
    expect(executor.stderr).toMatch(/\[EXAWORKS_UNKNOWN_EXECUTOR\]/);
  });

  it('job JSON names the reason of a walltime kill and of a launch failure', { timeout: 60_000 }, async () => {
    const walltime = await exaworks(...wd('run'), '--json', '--duration', '1 s', '--', '/bin/sleep', '600');
    expect(walltime.code).toBe(1);
    expect(JSON.parse(walltime.stdout)).toMatchObject({ state: 'FAILED', reason: 'walltime', endedAt: expect.any(String) });
    const launch = await exaworks(...wd('run'), '--json', '--directory', path.join(base, 'no-such-dir'), '--', '/bin/true');
    const job = JSON.parse(launch.stdout) as { state: string; reason: string; message: string };
    expect(job).toMatchObject({ state: 'FAILED', reason: 'launch-failed' });
    expect(job.message).toMatch(/no-such-dir/);
  });

  it('list, status and submit refuse a work directory others can write (/tmp/w made 1777): a planted job never runs', {
    timeout: 60_000,
  }, async () => {
    const shared = path.join(base, 'shared-w');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    const marker = path.join(base, 'pwned');
    const id = '0planted-1-00000';
    const record = {
      format: 'exaworks-local/2',
      nativeId: id,
      jobId: 'planted',
      submittedAt: new Date().toISOString(),
      cwd: base,
      cores: 1,
      owner: { id: '999999-1-0', pid: 999999, startTime: '1' },
      spec: { executable: '/bin/touch', arguments: [marker] },
    };
    await mkdir(path.join(shared, '.journal'));
    await writeFile(path.join(shared, '.journal', '1.jsonl'), `${JSON.stringify(record)}\n`);
    for (const args of [['list'], ['status', id], ['wait', '--timeout', '5', id], ['submit', '--', '/bin/true']]) {
      const r = await exaworks(args[0]!, '--work-dir', shared, ...args.slice(1));
      expect([args[0], r.code]).toEqual([args[0], 1]);
      expect(r.stderr).toContain(`Refusing to use the work directory ${shared}: it is writable by others (mode 1777)`);
      expect(r.stderr).toContain('EXAWORKS_INSECURE_DIRECTORY');
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('status of an unknown native id exits 1 with an error row', { timeout: 60_000 }, async () => {
    const r = await exaworks(...wd('status'), 'no-such-job');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no-such-job +ERROR/);
  });

  it('info lists the installed packages and the local executor', { timeout: 60_000 }, async () => {
    const r = await exaworks('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { registry: { executors: string[] }; packages: { name: string; version: string }[] };
    expect(info.registry.executors).toContain('local');
    expect(info.packages.map((p) => p.name)).toEqual(
      expect.arrayContaining(['@exaworks/cli', '@exaworks/jpsi-core', '@exaworks/executors-local']),
    );
    const text = await exaworks('info');
    expect(text.stdout).toMatch(/Executors: .*local/);
    const version = await exaworks('--version');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version.stdout).toBe(`${pkg.version}\n`);
  });
});
