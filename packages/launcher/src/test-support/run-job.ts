// Test helpers: write a generated job script to a temp dir and run it for real.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createJobSpec, type JobSpecInput, type LaunchCommand } from '@exaworks/jpsi-core';
import { jobScriptFor, parseJobResult, type JobResult } from '../job-script.js';

export interface RanJob {
  readonly dir: string;
  readonly script: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly resultText: string | undefined;
  readonly result: JobResult | undefined;
}

export function tempDir(prefix = 'xw-launcher-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function readIf(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** Runs a child to completion; resolves with its exit code or signal. */
export function runChild(
  argv: readonly string[],
  options: { detached?: boolean; env?: NodeJS.ProcessEnv; onSpawn?: (pid: number) => void } = {},
) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
      env: options.env ?? process.env,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

/** Generates the job script for `input` + `launch`, runs it (through its #! line) and collects everything. */
export async function runJob(
  input: JobSpecInput,
  launch: LaunchCommand | ((dir: string) => LaunchCommand),
  options: {
    dir?: string;
    nodeFile?: string;
    env?: NodeJS.ProcessEnv;
    detached?: boolean;
    onSpawn?: (pid: number, dir: string) => void;
  } = {},
): Promise<RanJob> {
  const dir = options.dir ?? tempDir();
  const spec = createJobSpec(input);
  const files = {
    resultFile: path.join(dir, 'job.result'),
    stdout: path.join(dir, 'job.out'),
    stderr: path.join(dir, 'job.err'),
    ...(options.nodeFile !== undefined ? { nodeFile: options.nodeFile } : {}),
  };
  const cmd = typeof launch === 'function' ? launch(dir) : launch;
  const script = jobScriptFor(spec, cmd, files);
  const scriptFile = path.join(dir, 'job.sh');
  writeFileSync(scriptFile, script);
  chmodSync(scriptFile, 0o755);
  const run = await runChild([scriptFile], {
    ...(options.env ? { env: options.env } : {}),
    ...(options.detached ? { detached: true } : {}),
    onSpawn: (pid) => options.onSpawn?.(pid, dir),
  });
  const resultText = readIf(files.resultFile);
  return {
    dir,
    script,
    exitCode: run.code,
    signal: run.signal,
    stdout: readIf(spec.stdoutPath ? path.resolve(dir, spec.stdoutPath) : files.stdout) ?? '',
    stderr: readIf(spec.stderrPath ? path.resolve(dir, spec.stderrPath) : files.stderr) ?? '',
    resultText,
    result: resultText === undefined ? undefined : parseJobResult(resultText),
  };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** True if a process with this pid exists (and is not a zombie we could reap). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readIf(`/proc/${pid}/stat`);
  return stat !== undefined && !/^\d+ \(.*\) Z/.test(stat);
}

/** Waits until `check` is true or `ms` pass (the default is sized for a busy 2-core machine). */
export async function until(check: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
