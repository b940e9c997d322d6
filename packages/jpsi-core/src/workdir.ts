/**
 * The one work-directory layout helper and the durable-write primitives executors share.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StorageError } from './errors.js';

/**
 * The default work directory of an executor: `$EXAWORKS_WORK_DIR/<executor>` if that variable is
 * set, else `~/.exaworks/work/<executor>`.
 */
export function defaultWorkDirectory(executorName: string): string {
  const base = process.env.EXAWORKS_WORK_DIR ?? path.join(os.homedir(), '.exaworks', 'work');
  return path.resolve(base, executorName);
}

/** Where one job's files live inside an executor's work directory. */
export interface JobPaths {
  /** The job's own directory. */
  readonly dir: string;
  /** The job as accepted (spec and submission details), written once. */
  readonly record: string;
  /** Append-only status log (JSON lines). */
  readonly statusLog: string;
  /** The generated job script. */
  readonly script: string;
  /** Exit code written by the job script when it ends. */
  readonly exitCode: string;
  /** Default stdout and stderr when the spec names none. */
  readonly stdout: string;
  readonly stderr: string;
}

const SAFE_ID = /^[A-Za-z0-9._-]+$/;

/**
 * The layout of a job's files, by native id.
 * @throws {@link StorageError} for a native id that is not a plain file name.
 */
export function jobPaths(workDirectory: string, nativeId: string): JobPaths {
  if (!SAFE_ID.test(nativeId) || nativeId === '.' || nativeId === '..') {
    throw new StorageError(`"${nativeId}" is not a valid native id (letters, digits, ., _ and -).`);
  }
  const dir = path.join(workDirectory, nativeId);
  return {
    dir,
    record: path.join(dir, 'job.json'),
    statusLog: path.join(dir, 'status.jsonl'),
    script: path.join(dir, 'job.sh'),
    exitCode: path.join(dir, 'exit-code'),
    stdout: path.join(dir, 'stdout'),
    stderr: path.join(dir, 'stderr'),
  };
}

/**
 * Writes a file so that readers see the old content or the new, never a mix: write a temporary
 * file beside it, optionally fsync it, then rename it over the target.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { fsync?: boolean; mode?: number } = {}): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'w', options.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      if (options.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (cause) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new StorageError(`Could not write ${file}: ${(cause as Error).message}`, { cause });
  }
}

/** Creates a directory (and parents) or throws a {@link StorageError} saying which. */
export async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new StorageError(`Could not create directory ${dir}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Reads a JSON-lines file, skipping a torn last line (a writer killed mid-append).
 * A missing file reads as no records.
 */
export async function readJsonLines<T = unknown>(file: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StorageError(`Could not read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const out: T[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (cause) {
      // Only the last line may be torn; anything else is corruption worth reporting.
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== '')) {
        throw new StorageError(`Corrupt record at ${file}:${i + 1}`, { cause });
      }
    }
  });
  return out;
}
