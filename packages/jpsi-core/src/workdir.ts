/**
 * The one work-directory layout helper and the durable-write primitives executors share.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, statSync, type Stats } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InsecureDirectoryError, StorageError } from './errors.js';
import { writeFully } from './internal/journal.js';

/**
 * The default work directory of an executor: `$EXAWORKS_WORK_DIR/<executor>` if that variable is
 * set, else `~/.exaworks/work/<executor>`.
 */
export function defaultWorkDirectory(executorName: string): string {
  const base = process.env.EXAWORKS_WORK_DIR ?? path.join(os.homedir(), '.exaworks', 'work');
  return path.resolve(base, executorName);
}

/**
 * Where one job's files live inside an executor's work directory. The layout is flat: every file
 * of a job sits directly in the work directory and is named `<nativeId>.<kind>`, so that accepting
 * a job creates one file and no directory (creating an inode is the costly part of a file system
 * write on a journaling file system; appending, renaming and reading are not).
 */
export interface JobPaths {
  /** The directory holding the job's files (the work directory itself). */
  readonly dir: string;
  /** The job as accepted (spec and submission details): `<id>.job`, created exclusively, once. */
  readonly record: string;
  /** Append-only status log (JSON lines). The same file as {@link JobPaths.record}: its first line is the record. */
  readonly statusLog: string;
  /** A copy of the generated job script, `<id>.sh` (executors may run the script without one). */
  readonly script: string;
  /** Result written by the job script when it ends, `<id>.result` (line 1 the exit code). */
  readonly exitCode: string;
  /** Default stdout and stderr files, `<id>.out` and `<id>.err`, for executors that keep them. */
  readonly stdout: string;
  readonly stderr: string;
}

const SAFE_ID = /^[A-Za-z0-9._-]+$/;

/**
 * The layout of a job's files, by native id (see {@link JobPaths}).
 * @throws {@link StorageError} for a native id that is not a plain file name.
 */
export function jobPaths(workDirectory: string, nativeId: string): JobPaths {
  if (!SAFE_ID.test(nativeId) || nativeId === '.' || nativeId === '..') {
    throw new StorageError(`"${nativeId}" is not a valid native id (letters, digits, ., _ and -).`);
  }
  const dir = path.resolve(workDirectory);
  const base = path.join(dir, nativeId);
  return {
    dir,
    record: `${base}.job`,
    statusLog: `${base}.job`,
    script: `${base}.sh`,
    exitCode: `${base}.result`,
    stdout: `${base}.out`,
    stderr: `${base}.err`,
  };
}

/**
 * Creates `file` only if it does not exist yet (O_EXCL) and writes `data` to it in one `write`.
 * Returns false if the file already existed: the one way two processes agree on who did
 * something first. Every byte is written (short writes are looped over) or the file is removed
 * and a {@link StorageError} thrown. Synchronous on purpose: on a loaded machine a thread-pool round trip of the
 * async API costs more than the write itself.
 * @throws {@link StorageError} for any failure other than the file existing.
 */
export function writeFileExclusiveSync(
  file: string,
  data: string | Uint8Array,
  options: { fsync?: boolean; mode?: number } = {},
): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', options.mode ?? 0o644);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StorageError(`Could not create ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    writeFully(fd, data, file, options);
  } catch (err) {
    // A torn claim would count as made: it is ours (O_EXCL), so take it back whole.
    closeSync(fd);
    rmSync(file, { force: true });
    throw err;
  }
  closeSync(fd);
  return true;
}

/**
 * Writes a file so that readers see the old content or the new, never a mix: write a temporary
 * file beside it, optionally fsync it, then rename it over the target.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: { fsync?: boolean; mode?: number } = {},
): Promise<void> {
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

/** Why `st` (a work directory's stat) is not private to the current user, or undefined if it is. */
function insecurity(st: Stats): string | undefined {
  if (!st.isDirectory()) return 'not a directory';
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `owned by uid ${st.uid}, not by you (uid ${uid})`;
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  if (st.mode & 0o002) return `writable by others (mode ${mode})`;
  if (st.mode & 0o020) return `writable by its group (mode ${mode})`;
  return undefined;
}

/**
 * The one work-directory check, for every executor and every reader of a work directory: true
 * if `dir` is a directory owned by the current user that neither its group nor others can
 * write; false if it does not exist. Its files are then trusted: only this user can have put
 * them there. (It follows a symlink to the directory, as a user may link a work directory
 * elsewhere; the parents are not checked.)
 * @throws {@link InsecureDirectoryError} naming the directory and what is wrong with it.
 * @throws {@link StorageError} if it cannot be examined.
 */
export function checkPrivateDirectory(dir: string): boolean {
  const resolved = path.resolve(dir);
  let st: Stats;
  try {
    st = statSync(resolved);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new StorageError(`Could not examine the work directory ${resolved}: ${(cause as Error).message}`, { cause });
  }
  const problem = insecurity(st);
  if (problem !== undefined) throw new InsecureDirectoryError(resolved, problem);
  return true;
}

/**
 * Creates a work directory private to its user (mode 0700, missing parents too) unless it
 * exists, then checks it with {@link checkPrivateDirectory}. Returns the resolved path.
 * @throws {@link InsecureDirectoryError} for a directory another user owns or can write.
 * @throws {@link StorageError} if it cannot be created.
 */
export function ensurePrivateDirectory(dir: string): string {
  const resolved = path.resolve(dir);
  if (checkPrivateDirectory(resolved)) return resolved;
  try {
    mkdirSync(resolved, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new StorageError(`Could not create the work directory ${resolved}: ${(cause as Error).message}`, { cause });
  }
  // 0700 masked by any umask stays private; the check also catches a directory made meanwhile by someone else.
  if (!checkPrivateDirectory(resolved)) throw new StorageError(`The work directory ${resolved} vanished as it was created.`);
  return resolved;
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
