/**
 * The local executor's files: one directory per job under the work directory, plus a registry of
 * live executors. Everything here is what another process needs to find a job again.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  StorageError,
  jobPaths,
  readJsonLines,
  writeFileAtomic,
  type JobPaths,
  type JobSpecInput,
  type JobStatusJson,
} from '@exaworks/jpsi-core';
import { isAlive, type ProcessIdentity } from './proc.js';

/** Version tag of the files written here. */
export const RECORD_FORMAT = 'exaworks-local/1';

/** Who owns (tracks and may start) a job: one executor instance in one process. */
export interface OwnerInfo extends ProcessIdentity {
  /** `<pid>-<startTime>-<instance>`, also the name of the owner's registry file. */
  readonly id: string;
}

/** A job as accepted: written once, atomically, before `submit` resolves. */
export interface JobRecord {
  readonly format: typeof RECORD_FORMAT;
  readonly nativeId: string;
  /** The submitting Job object's client-side id. */
  readonly jobId: string;
  readonly submittedAt: string;
  /** Directory the job runs in when its spec names none (the submitter's working directory). */
  readonly cwd: string;
  /** Cores the job occupies while it runs. */
  readonly cores: number;
  /** The submitting executor. Adoption moves ownership to the `owner` file. */
  readonly owner: OwnerInfo;
  readonly spec: JobSpecInput;
}

/** One line of a job's status log. */
export interface LogLine extends JobStatusJson {
  /** Set on the ACTIVE line: the job script's process (also its process group). */
  pid?: number;
  /** Start time of `pid` (see {@link ProcessIdentity}). */
  startTime?: string;
}

/** The current owner of an adopted job, written atomically by the adopter. */
export interface OwnerFile {
  readonly generation: number;
  readonly owner: OwnerInfo;
}

/** Every file of one job. */
export interface LocalJobPaths extends JobPaths {
  /** Created exclusively by whoever starts the job (or cancels it before it starts): at most once. */
  readonly started: string;
  /** The final status, created exclusively: the first decision is the only one. */
  readonly final: string;
  /** A cancel request from any process. */
  readonly cancel: string;
  /** The current owner after an adoption. */
  readonly owner: string;
}

/** The files of job `nativeId` in `workDirectory`. */
export function localJobPaths(workDirectory: string, nativeId: string): LocalJobPaths {
  const p = jobPaths(workDirectory, nativeId);
  return {
    ...p,
    started: path.join(p.dir, 'started'),
    final: path.join(p.dir, 'final.json'),
    cancel: path.join(p.dir, 'cancel-requested'),
    owner: path.join(p.dir, 'owner.json'),
  };
}

let sequence = 0;

/**
 * A native id: unique across processes and hosts sharing the directory, and sorting by
 * submission time (milliseconds, base 36, fixed width, first).
 */
export function newNativeId(): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const seq = (sequence++ % 36 ** 5).toString(36).padStart(5, '0');
  return `${time}-${process.pid.toString(36)}${randomBytes(2).toString('hex')}-${seq}`;
}

function storageError(what: string, file: string, cause: unknown): StorageError {
  return new StorageError(`Could not ${what} ${file}: ${(cause as Error).message}`, { cause });
}

/** The job directories and live-executor registry under one work directory. */
export class JobStore {
  readonly workDirectory: string;
  readonly #fsync: boolean;
  readonly #ownersDir: string;
  readonly #nodeFiles = new Map<number, string>();

  constructor(workDirectory: string, fsync: boolean) {
    this.workDirectory = path.resolve(workDirectory);
    this.#fsync = fsync;
    this.#ownersDir = path.join(this.workDirectory, '.owners');
    try {
      mkdirSync(this.#ownersDir, { recursive: true });
    } catch (cause) {
      throw storageError('create the work directory', this.#ownersDir, cause);
    }
  }

  paths(nativeId: string): LocalJobPaths {
    return localJobPaths(this.workDirectory, nativeId);
  }

  /** Creates a new, empty job directory and returns its native id. */
  createJobDirectory(): string {
    for (;;) {
      const id = newNativeId();
      try {
        mkdirSync(path.join(this.workDirectory, id));
        return id;
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError('create job directory in', this.workDirectory, cause);
      }
    }
  }

  /** Removes a job directory that was never accepted (its submission failed or was aborted). */
  discard(nativeId: string): void {
    rmSync(this.paths(nativeId).dir, { recursive: true, force: true });
  }

  /**
   * Writes the record atomically (temp file + rename): from then on the job is accepted.
   * Synchronous on purpose: on a loaded machine each thread-pool round trip of the async
   * version costs milliseconds, which made submission the bottleneck (see bench/local-executor.ts).
   * Same protocol as jpsi-core's writeFileAtomic (a candidate to move there as a sync twin).
   */
  writeRecord(record: JobRecord): void {
    const file = this.paths(record.nativeId).record;
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(record));
        if (this.#fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (cause) {
      rmSync(tmp, { force: true });
      throw storageError('write', file, cause);
    }
  }

  /** The record of a job, or undefined if there is none (never accepted, or not a job). */
  readRecord(nativeId: string): JobRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.paths(nativeId).record, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw storageError('read', this.paths(nativeId).record, err);
    }
    try {
      const record = JSON.parse(text) as JobRecord;
      if (record.format !== RECORD_FORMAT) throw new Error(`unknown format ${String(record.format)}`);
      return record;
    } catch (cause) {
      throw storageError('parse', this.paths(nativeId).record, cause);
    }
  }

  /** Appends status lines in one write (a crash leaves at most a torn last line, which readers skip). */
  append(paths: LocalJobPaths, lines: readonly LogLine[]): void {
    const data = lines.map((l) => `${JSON.stringify(l)}\n`).join('');
    let fd: number | undefined;
    try {
      fd = openSync(paths.statusLog, 'a', 0o600);
      writeSync(fd, data);
      if (this.#fsync) fsyncSync(fd);
    } catch (cause) {
      throw storageError('append to', paths.statusLog, cause);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** The status log, a torn last line skipped. */
  readLog(paths: LocalJobPaths): Promise<LogLine[]> {
    return readJsonLines<LogLine>(paths.statusLog);
  }

  /**
   * Creates `file` only if it does not exist yet (O_EXCL) with `content`. True if this call
   * created it: the one way two processes agree on who did something first.
   */
  claim(file: string, content: string): boolean {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw storageError('create', file, err);
    }
    try {
      writeSync(fd, content);
      if (this.#fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /**
   * Records a final status unless one is there already; returns the one that counts.
   * A reader may find the file empty for a moment (created, not yet written): it then retries.
   */
  claimFinal(paths: LocalJobPaths, status: JobStatusJson): JobStatusJson {
    if (this.claim(paths.final, JSON.stringify(status))) return status;
    return this.readFinal(paths) ?? status;
  }

  /** The final status if one was recorded (and completely written). */
  readFinal(paths: LocalJobPaths): JobStatusJson | undefined {
    try {
      const text = readFileSync(paths.final, 'utf8');
      return text === '' ? undefined : (JSON.parse(text) as JobStatusJson);
    } catch {
      return undefined;
    }
  }

  /** The current owner of a job: the adopter's, else the submitter's. */
  readOwner(paths: LocalJobPaths, record: JobRecord): OwnerFile {
    try {
      return JSON.parse(readFileSync(paths.owner, 'utf8')) as OwnerFile;
    } catch {
      return { generation: 0, owner: record.owner };
    }
  }

  /**
   * Takes over a job from a dead owner. Only one process can win generation `n + 1`
   * (an O_EXCL claim file); the winner then writes the owner file.
   */
  async adopt(paths: LocalJobPaths, current: OwnerFile, me: OwnerInfo): Promise<boolean> {
    const generation = current.generation + 1;
    if (!this.claim(path.join(paths.dir, `adopt-${generation}`), me.id)) return false;
    const next: OwnerFile = { generation, owner: me };
    await writeFileAtomic(paths.owner, JSON.stringify(next), { fsync: this.#fsync, mode: 0o600 });
    return true;
  }

  /** Marks an executor instance live (its file is removed by `close`). */
  registerOwner(owner: OwnerInfo): void {
    const file = path.join(this.#ownersDir, owner.id);
    try {
      closeSync(openSync(file, 'w', 0o600));
    } catch (cause) {
      throw storageError('create', file, cause);
    }
  }

  /** Marks an executor instance gone. */
  unregisterOwner(owner: OwnerInfo): void {
    rmSync(path.join(this.#ownersDir, owner.id), { force: true });
  }

  /** True if that executor instance is open in a live process. */
  ownerAlive(owner: OwnerInfo): boolean {
    return isAlive(owner) && existsSync(path.join(this.#ownersDir, owner.id));
  }

  /** Native ids of accepted jobs (those with a record), oldest first. */
  list(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.workDirectory);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw storageError('list', this.workDirectory, err);
    }
    return entries.filter((e) => !e.startsWith('.') && /^[A-Za-z0-9._-]+$/.test(e) && existsSync(path.join(this.workDirectory, e, 'job.json'))).sort();
  }

  /** A node file with `count` lines naming this host (one per process slot), shared by jobs of that size. */
  nodeFile(count: number): string {
    let file = this.#nodeFiles.get(count);
    if (file) return file;
    file = path.join(this.workDirectory, '.nodefiles', `localhost-${count}`);
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      const fd = openSync(tmp, 'w', 0o644);
      try {
        writeSync(fd, `${os.hostname()}\n`.repeat(count));
      } finally {
        closeSync(fd);
      }
      // rename: concurrent writers produce the same content, readers never see half of it
      renameSyncSafe(tmp, file);
    }
    this.#nodeFiles.set(count, file);
    return file;
  }
}

function renameSyncSafe(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (cause) {
    rmSync(from, { force: true });
    throw storageError('write', to, cause);
  }
}
