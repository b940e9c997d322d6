/** Helpers of the real-Slurm suite. */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';

export const run = promisify(execFile);

/** SLURM_CONF of the private instance; '' when the suite must skip (never in CI: the setup fails there). */
export const slurmConf: string = inject('slurmConf');
if (slurmConf !== '') process.env.SLURM_CONF = slurmConf;
/** True when the private Slurm is up. */
export const slurmUp = slurmConf !== '';

/** Polls `pred` until true or `ms` pass; returns the last answer. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number, every = 100): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, every));
  }
  return pred();
}

/** `scontrol show job <id>` as key → value. */
export async function scontrolJob(id: string): Promise<Record<string, string>> {
  const { stdout } = await run('scontrol', ['show', 'job', '-o', id]);
  const out: Record<string, string> = {};
  for (const m of stdout.trim().matchAll(/(\w+)=(\S*)/g)) out[m[1]!] ??= m[2]!;
  return out;
}

/** The real command's state word for a job, straight from Slurm (not through the executor). */
export async function slurmState(id: string): Promise<string> {
  return (await scontrolJob(id)).JobState ?? '';
}

/**
 * A directory holding a wrapper `squeue` put first on PATH. For calls made from `cwd` only (an
 * executor runs its commands in its work directory, so other executors of the test process are
 * not affected) it counts its calls in `calls`, fails (exit 1, like an unreachable controller)
 * while a file `fail` exists, hangs while `hang` exists, and hides the lines matching the
 * patterns in `hide` (e.g. `^123|`); otherwise, and for everyone else, it runs the real squeue.
 */
export async function squeueShim(cwd: string): Promise<{ dir: string; calls: string; fail: string; hang: string; hide: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'squeue-shim-'));
  const real = (await run('sh', ['-c', 'command -v squeue'])).stdout.trim();
  const f = {
    dir,
    calls: path.join(dir, 'calls'),
    fail: path.join(dir, 'fail'),
    hang: path.join(dir, 'hang'),
    hide: path.join(dir, 'hide'),
  };
  await writeFile(
    path.join(dir, 'squeue'),
    [
      '#!/bin/sh',
      `if [ "$(pwd -P)" = '${await realpath(cwd)}' ]; then`,
      `  echo call >>'${f.calls}'`,
      `  if [ -e '${f.hang}' ]; then exec sleep 30; fi`,
      `  if [ -e '${f.fail}' ]; then echo 'squeue: error: slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2; exit 1; fi`,
      `  if [ -s '${f.hide}' ]; then '${real}' "$@" | grep -v -f '${f.hide}'; exit 0; fi`,
      'fi',
      `exec '${real}' "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(path.join(dir, 'squeue'), 0o755);
  return f;
}

/** Runs `body` with `dir` first on PATH (the executor runs Slurm's commands through PATH). */
export async function withPathFirst<T>(dir: string, body: () => Promise<T>): Promise<T> {
  const before = process.env.PATH;
  process.env.PATH = `${dir}${path.delimiter}${before ?? ''}`;
  try {
    return await body();
  } finally {
    process.env.PATH = before;
  }
}

/** A fresh, private work directory for one executor of a test. */
export async function freshWorkDirectory(parent: string, name: string): Promise<string> {
  const dir = path.join(parent, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
