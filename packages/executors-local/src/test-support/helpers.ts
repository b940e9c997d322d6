// Shared test helpers: temp work directories and a second Node process running the executor.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach } from 'vitest';
import { type LocalExecutor, type LocalExecutorConfigInput, createLocalExecutor } from '../index.js';
import { journalPath, journalTagOf } from '../store.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The script run in a second process (see child.ts). */
export const CHILD_SCRIPT = path.join(here, 'child.ts');

const dirs: string[] = [];

/** A fresh temporary directory, removed by cleanupDirs(). */
export function tempDir(prefix = 'xw-local-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Removes the directories made by tempDir(). */
export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Runs child.ts with a JSON command; resolves with its stdout parsed as JSON. */
export async function runChild(command: Record<string, unknown>, timeout = 90_000): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, JSON.stringify(command)], {
    timeout,
    env: { ...process.env, EXAWORKS_LOG_LEVEL: 'silent' },
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last);
}

/** Starts child.ts without waiting; lines it prints arrive through onLine. */
export function startChild(command: Record<string, unknown>, onLine: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, JSON.stringify(command)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, EXAWORKS_LOG_LEVEL: 'silent' },
  });
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  return child;
}

/** Resolves when `cond` is true, polling; rejects after `timeout` ms. */
export async function until(cond: () => boolean | Promise<boolean>, timeout = 30_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** True if a process with this pid exists (and is not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/**
 * An executor factory for one test file: each executor gets a fresh temp work directory (unless
 * the config names one) and is closed after each test; temp directories go at the end.
 */
export function useExecutors(defaults: LocalExecutorConfigInput): (config?: LocalExecutorConfigInput) => LocalExecutor {
  const open: LocalExecutor[] = [];
  afterEach(async () => {
    for (const e of open.splice(0)) await e.close();
  });
  afterAll(cleanupDirs);
  return (config = {}) => {
    const e = createLocalExecutor({ workDirectory: tempDir(), ...defaults, ...config });
    open.push(e);
    return e;
  };
}

/**
 * A FIFO for holding a job: a job that runs `read _ < fifo` blocks until `releaseFifo` writes a line,
 * so a test never races a sleep against process start-up on a busy machine.
 */
export function makeFifo(dir: string, name = 'hold'): string {
  const fifo = path.join(dir, name);
  execFileSync('mkfifo', ['-m', '600', fifo]);
  return fifo;
}

/** Lets every `read _ < fifo` go: opens the FIFO for writing off the event loop (it blocks until a reader opens). */
export async function releaseFifo(fifo: string): Promise<void> {
  const handle = await open(fifo, 'w');
  try {
    await handle.write('go\n');
  } finally {
    await handle.close();
  }
}

/**
 * What the journals hold about job `id`, in order: its record first, then its status lines and
 * spawn markers (without the `id` field), from its submitter's journal and then its adopters'.
 */
export function jobEntries(workDirectory: string, id: string): Record<string, unknown>[] {
  const home = journalTagOf(id);
  if (home === undefined) return [];
  let adopters: string[] = [];
  try {
    adopters =
      (JSON.parse(readFileSync(path.join(workDirectory, `${id}.owner`), 'utf8')) as { journals?: string[] }).journals ?? [];
  } catch {
    // never adopted
  }
  const out: Record<string, unknown>[] = [];
  for (const tag of [home, ...adopters.filter((t) => t !== home)]) {
    let text: string;
    try {
      text = readFileSync(journalPath(workDirectory, tag), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.endsWith('}')) continue;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (entry.nativeId === id) out.unshift(entry);
      else if (entry.id === id) {
        const { id: _, ...rest } = entry;
        out.push(rest);
      }
    }
  }
  return out;
}

/** Appends lines about job `id` to its submitter's journal, as that (dead) submitter would have. */
export function appendToJournal(workDirectory: string, id: string, text: string): void {
  appendFileSync(journalPath(workDirectory, journalTagOf(id)!), text);
}

/** A line of job `id` as its journal holds it (for {@link appendToJournal}). */
export function journalLine(id: string, line: Record<string, unknown>): string {
  return `${JSON.stringify({ id, ...line })}\n`;
}
