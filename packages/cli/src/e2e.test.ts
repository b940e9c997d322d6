/**
 * End to end: the built `exaworks` binary as a real process against the real local executor,
 * each command a separate process sharing one temporary work directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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

  it('run: the job writes to the terminal, and its exit code becomes the CLI exit code', async () => {
    const r = await exaworks(...wd('run'), '--', '/bin/sh', '-c', 'echo out-line; echo err-line >&2; exit 3');
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('out-line\n');
    expect(r.stderr).toMatch(/exaworks: job \S+ ACTIVE/);
    // The final state comes after the job's own output.
    expect(r.stderr).toMatch(/err-line\n(.*\n)*exaworks: job \S+ FAILED exit 3 \d\d:\d\d\n$/);
    const ok = await exaworks(...wd('run'), '--quiet', '/bin/echo', 'hello', 'world');
    expect(ok).toMatchObject({ code: 0, stdout: 'hello world\n', stderr: '' });
  });

  it('run --stdout FILE and --json: output in the file, only the job JSON on stdout', async () => {
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

  it('run: bad input exits 2 with the field, and never reaches the executor', async () => {
    const r = await exaworks(...wd('run'), '--memory', '4 bananas', '--', '/bin/true');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/resources\.memory: "4 bananas" is not a memory size/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('submit, then status, wait and list from separate processes', async () => {
    const sub = await exaworks(...wd('submit'), '--name', 'e2e-sleeper', '--', '/bin/sh', '-c', 'sleep 1.5; exit 5');
    expect(sub.code).toBe(0);
    const id = sub.stdout.trim();
    expect(id).toMatch(/^[A-Za-z0-9._-]+$/);

    const status = await exaworks(...wd('status'), '--json', id);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ nativeId: id, state: 'ACTIVE', name: 'e2e-sleeper', exitCode: null }),
    ]);

    const list = await exaworks(...wd('list'));
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${id} +ACTIVE +- +e2e-sleeper`));

    const early = await exaworks(...wd('wait'), '--timeout', '0.1', id);
    expect(early.code).toBe(124);

    const waited = await exaworks(...wd('wait'), id);
    expect(waited.code).toBe(5);
    expect(waited.stdout).toMatch(new RegExp(`${id} +FAILED +5 +e2e-sleeper`));

    const after = await exaworks(...wd('list'), '--json');
    expect(JSON.parse(after.stdout)).toContainEqual(expect.objectContaining({ nativeId: id, state: 'FAILED', exitCode: 5 }));
  });

  it('cancel a running job from another process', async () => {
    const sub = await exaworks(...wd('submit'), '--json', '--', '/bin/sleep', '60');
    const job = JSON.parse(sub.stdout) as { nativeId: string; state: string };
    expect(job.state).toBe('ACTIVE');
    const cancel = await exaworks(...wd('cancel'), job.nativeId);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`${job.nativeId} +CANCELED`));
    const status = await exaworks(...wd('status'), '--json', job.nativeId);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ state: 'CANCELED' });
    const wait = await exaworks(...wd('wait'), job.nativeId);
    expect(wait.code).toBe(1);
  });

  it('Ctrl-C on run cancels the job and exits 130', async () => {
    const { child, done } = start(['run', '--work-dir', work, '--', '/bin/sleep', '60']);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`run never became ACTIVE: ${stderr}`)), 10_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/ACTIVE/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    const id = /job (\S+) ACTIVE/.exec(r.stderr)![1]!;
    expect(r.stderr).toMatch(/interrupted; canceling job/);
    const status = await exaworks(...wd('status'), '--json', id);
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ nativeId: id, state: 'CANCELED' });
  });

  it('status of an unknown native id exits 1 with an error row', async () => {
    const r = await exaworks(...wd('status'), 'no-such-job');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no-such-job +ERROR/);
  });

  it('info lists the installed packages and the local executor', async () => {
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
