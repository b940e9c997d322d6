/**
 * The local executor's files: a flat work directory (`<nativeId>.job` per job, plus rare
 * per-job files for cancel requests and adoption), and a registry of live executors. Everything here is what another process needs to find a job again.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JobSpecInput, JobStatusJson } from '@exaworks/jpsi-core';
// The internal entry, not the main one: read-only tools (inspect.ts) must not load zod.
import {
  StorageError,
  appendFully,
  ensurePrivateDirectory,
  jobPaths,
  writeFileAtomic,
  writeFileExclusiveSync,
  writeFully,
  type JobPaths,
} from '@exaworks/jpsi-core/internal';
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
  /** What the job asked for that will not happen as asked (the QUEUED message); absent when none. */
  readonly warnings?: readonly string[];
}

/** One line of a job's status log. */
export interface LogLine extends JobStatusJson {
  /** Set on the ACTIVE line: the job script's process (also its process group). */
  pid?: number;
  /** Start time of `pid` (see {@link ProcessIdentity}). */
  startTime?: string;
}

/**
 * A line without a state, appended right before a job's process is started (after its STAGE_IN
 * line): how it is being started. Without one after the last STAGE_IN, the job never started.
 */
export type SpawnMarker =
  | { readonly spawn: 'agent'; readonly agent: { readonly pid: number; readonly startTime: string; readonly journal: string } }
  | { readonly spawn: 'direct' };

/** The current owner of an adopted job, written atomically by the adopter. */
export interface OwnerFile {
  readonly generation: number;
  readonly owner: OwnerInfo;
}

/** Every file of one job: all directly in the work directory, named `<nativeId>.<kind>`. */
export interface LocalJobPaths extends JobPaths {
  /** A cancel request from any process (`<id>.cancel`). */
  readonly cancel: string;
  /**
   * The final status of a job that never started (`<id>.unstarted`), created exclusively: the
   * owner and a canceller in another process may both decide such a job, and only one may win.
   */
  readonly unstarted: string;
  /** The current owner after an adoption (`<id>.owner`). */
  readonly owner: string;
  /** Created when the job ran out of time, by its own watchdog or by the executor (`<id>.walltime`). */
  readonly walltime: string;
  /** Prefix of the O_EXCL adoption claims, `<id>.adopt-<generation>`. */
  readonly adoptPrefix: string;
}

/** The files of job `nativeId` in `workDirectory`. */
export function localJobPaths(workDirectory: string, nativeId: string): LocalJobPaths {
  const p = jobPaths(workDirectory, nativeId);
  const base = path.join(p.dir, nativeId);
  return {
    ...p,
    cancel: `${base}.cancel`,
    unstarted: `${base}.unstarted`,
    owner: `${base}.owner`,
    walltime: `${base}.walltime`,
    adoptPrefix: `${base}.adopt-`,
  };
}

/** What a job's file says: the record (first line), its status lines, and the final one if any. */
export interface JobFile {
  readonly record: JobRecord;
  /** Status lines up to and including the first final one (later lines never count). */
  readonly lines: LogLine[];
  readonly final: JobStatusJson | undefined;
  /** True once a STAGE_IN line (the start claim, appended before anything runs) is there. */
  readonly starting: boolean;
  /** The last spawn marker after the last STAGE_IN line, if any (see {@link SpawnMarker}). */
  readonly spawn: SpawnMarker | undefined;
}

const FINAL_STATES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELED']);
const STARTED_STATES: ReadonlySet<string> = new Set(['STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP']);

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
    // Private to its user (0700): records hold environments, and a file planted by another user
    // would be run, cancelled or decided as this one. Refused otherwise (InsecureDirectoryError).
    ensurePrivateDirectory(this.workDirectory);
    try {
      mkdirSync(this.#ownersDir, { recursive: true, mode: 0o700 });
      mkdirSync(this.agentsDirectory, { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw storageError('create the work directory', this.#ownersDir, cause);
    }
  }

  /** Where the spawn agents keep their start journals. */
  get agentsDirectory(): string {
    return path.join(this.workDirectory, '.agents');
  }

  paths(nativeId: string): LocalJobPaths {
    return localJobPaths(this.workDirectory, nativeId);
  }

  /**
   * Accepts a job: creates `<id>.job` exclusively with the record as its first line, in one
   * write. This is the commit point and the only file created per job on the executor's side.
   * Returns false if the id is taken (the caller picks another).
   */
  createRecord(record: JobRecord): boolean {
    return writeFileExclusiveSync(this.paths(record.nativeId).record, `${JSON.stringify(record)}\n`, {
      fsync: this.#fsync,
      mode: 0o600,
    });
  }

  /** Reads a job's file (see {@link readJobFile}). */
  readJob(nativeId: string): JobFile | undefined {
    return readJobFile(this.paths(nativeId));
  }

  /** The record of a job, or undefined if there is none (never accepted, or not a job). */
  readRecord(nativeId: string): JobRecord | undefined {
    return this.readJob(nativeId)?.record;
  }

  /** Opens a job's file for appending: a running job keeps one descriptor instead of opening per line. */
  openLog(paths: LocalJobPaths): number {
    try {
      return openSync(paths.statusLog, 'a', 0o600);
    } catch (cause) {
      throw storageError('open', paths.statusLog, cause);
    }
  }

  /**
   * Appends status lines in one write (a crash leaves at most a torn last line, which readers
   * skip), through `fd` from {@link JobStore.openLog} if given.
   */
  append(paths: LocalJobPaths, lines: readonly (LogLine | SpawnMarker)[], fd?: number): void {
    const data = lines.length === 1 ? `${JSON.stringify(lines[0])}\n` : lines.map((l) => `${JSON.stringify(l)}\n`).join('');
    let own: number | undefined;
    try {
      if (fd === undefined) fd = own = this.openLog(paths);
      // All of it or nothing (a full disk): a torn line would glue onto the next one.
      appendFully(fd, data, paths.statusLog, { fsync: this.#fsync });
    } finally {
      if (own !== undefined) closeSync(own);
    }
  }

  /**
   * Creates `file` only if it does not exist yet (O_EXCL) with `content`. True if this call
   * created it: the one way two processes agree on who did something first.
   */
  claim(file: string, content: string): boolean {
    return writeFileExclusiveSync(file, content, { fsync: this.#fsync, mode: 0o600 });
  }

  /**
   * Decides the final status of a job that never started, against a canceller in another
   * process doing the same: the O_EXCL `<id>.unstarted` file holds the one decision, and its
   * winner appends it to the log. Returns the decision that counts.
   */
  async decideUnstarted(paths: LocalJobPaths, status: JobStatusJson): Promise<JobStatusJson> {
    if (this.claim(paths.unstarted, JSON.stringify(status))) {
      this.append(paths, [status]);
      return status;
    }
    // The winner writes its decision right after creating the file: wait for it briefly.
    for (let i = 0; i < 200; i++) {
      const decided = this.readUnstarted(paths);
      if (decided) return decided;
      await new Promise((r) => setTimeout(r, 5));
    }
    return status;
  }

  readUnstarted(paths: LocalJobPaths): JobStatusJson | undefined {
    return readUnstartedFile(paths);
  }

  /** The current owner of a job: the adopter's, else the submitter's. */
  readOwner(paths: LocalJobPaths, record: JobRecord): OwnerFile {
    return readOwnerFile(paths, record);
  }

  /**
   * Takes over a job from a dead owner. Only one process can win generation `n + 1`
   * (an O_EXCL claim file); the winner then writes the owner file.
   */
  async adopt(paths: LocalJobPaths, current: OwnerFile, me: OwnerInfo): Promise<boolean> {
    let generation = current.generation + 1;
    // A claimant that died before writing the owner file must not strand the job: claim the next generation.
    while (!this.claim(`${paths.adoptPrefix}${generation}`, me.id)) {
      if (!this.#claimantDead(`${paths.adoptPrefix}${generation}`)) return false;
      generation++;
    }
    const next: OwnerFile = { generation, owner: me };
    await writeFileAtomic(paths.owner, JSON.stringify(next), { fsync: this.#fsync, mode: 0o600 });
    return true;
  }

  /** True if the executor that made adoption claim `file` is gone (an empty claim counts once it is stale). */
  #claimantDead(file: string): boolean {
    try {
      const id = readFileSync(file, 'utf8');
      const m = /^(\d+)-(\d+)-\d+$/.exec(id);
      if (m) return !this.ownerAlive({ id, pid: Number(m[1]), startTime: m[2]! });
      return id === '' && Date.now() - statSync(file).mtimeMs > 5000;
    } catch {
      return false;
    }
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
    return ownerAliveIn(this.workDirectory, owner);
  }

  /** Native ids of accepted jobs (a non-empty `<id>.job`), oldest first. */
  list(): string[] {
    return listJobIds(this.workDirectory);
  }

  /** A node file with `count` lines naming this host (one per process slot), shared by jobs of that size. */
  nodeFile(count: number): string {
    let file = this.#nodeFiles.get(count);
    if (file) return file;
    file = path.join(this.workDirectory, '.nodefiles', `localhost-${count}`);
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      let fd: number;
      try {
        fd = openSync(tmp, 'w', 0o600);
      } catch (cause) {
        throw storageError('create', tmp, cause);
      }
      try {
        writeFully(fd, `${os.hostname()}\n`.repeat(count), file);
      } catch (err) {
        closeSync(fd);
        rmSync(tmp, { force: true }); // no .tmp left behind on a full disk
        throw err;
      }
      closeSync(fd);
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

// ------------------------------------------------------------------------------------------
// Readers that never write: shared by JobStore and the read-only inspector (inspect.ts).

/**
 * Reads a job's file: undefined if there is none or its record line is not complete (never
 * accepted, or being written right now). Torn or unparseable lines (a writer killed mid-append)
 * are skipped; nothing after the first final line counts.
 */
export function readJobFile(paths: LocalJobPaths): JobFile | undefined {
  let text: string;
  try {
    text = readFileSync(paths.record, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storageError('read', paths.record, err);
  }
  const end = text.lastIndexOf('\n');
  if (end < 0) return undefined;
  const raw = text.slice(0, end).split('\n');
  let record: JobRecord;
  try {
    record = JSON.parse(raw[0]!) as JobRecord;
    if (record.format !== RECORD_FORMAT) throw new Error(`unknown format ${String(record.format)}`);
  } catch (cause) {
    throw storageError('parse', paths.record, cause);
  }
  const lines: LogLine[] = [];
  let final: JobStatusJson | undefined;
  let starting = false;
  let spawn: SpawnMarker | undefined;
  for (let i = 1; i < raw.length && !final; i++) {
    let line: LogLine;
    try {
      line = JSON.parse(raw[i]!) as LogLine;
    } catch {
      continue;
    }
    if (typeof line?.state !== 'string') {
      const marker = line as unknown as SpawnMarker | null;
      if (marker?.spawn === 'agent' || marker?.spawn === 'direct') spawn = marker;
      continue;
    }
    if (line.state === 'STAGE_IN') spawn = undefined; // a new start attempt (an adopter's)
    lines.push(line);
    if (STARTED_STATES.has(line.state)) starting = true;
    if (FINAL_STATES.has(line.state)) final = line;
  }
  // A never-started job decided by a process that died before appending its decision.
  if (!final) {
    const decided = readUnstartedFile(paths);
    if (decided) {
      lines.push(decided);
      final = decided;
    }
  }
  return { record, lines, final, starting, spawn };
}

/**
 * True if the job's result was written no later than its cancel request (file times, one clock):
 * the job had exited on its own when the cancel landed, so its exit wins.
 */
export function exitedBeforeCancel(paths: LocalJobPaths): boolean {
  try {
    return statSync(paths.exitCode).mtimeMs <= statSync(paths.cancel).mtimeMs;
  } catch {
    return false;
  }
}

/** The decision in `<id>.unstarted`, if one was written. */
export function readUnstartedFile(paths: LocalJobPaths): JobStatusJson | undefined {
  try {
    const text = readFileSync(paths.unstarted, 'utf8');
    return text === '' ? undefined : (JSON.parse(text) as JobStatusJson);
  } catch {
    return undefined;
  }
}

/** The current owner of a job: the adopter's, else the submitter's. */
export function readOwnerFile(paths: LocalJobPaths, record: JobRecord): OwnerFile {
  try {
    return JSON.parse(readFileSync(paths.owner, 'utf8')) as OwnerFile;
  } catch {
    return { generation: 0, owner: record.owner };
  }
}

/** True if executor instance `owner` is open in a live process (its registry file is there). */
export function ownerAliveIn(workDirectory: string, owner: OwnerInfo): boolean {
  return isAlive(owner) && existsSync(path.join(workDirectory, '.owners', owner.id));
}

/** Native ids of accepted jobs (a non-empty `<id>.job`) in a work directory, oldest first. */
export function listJobIds(workDirectory: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(workDirectory);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw storageError('list', workDirectory, err);
  }
  const ids: string[] = [];
  for (const e of entries) {
    if (e.startsWith('.') || !e.endsWith('.job')) continue;
    const id = e.slice(0, -4);
    if (!NATIVE_ID.test(id)) continue;
    try {
      if (statSync(path.join(workDirectory, e)).size > 0) ids.push(id);
    } catch {
      // removed while listing
    }
  }
  return ids.sort();
}

/** What a local native id may look like (it names files, so no separators). */
export const NATIVE_ID = /^[A-Za-z0-9._-]+$/;

/** True if `id` can be a native id of this executor. */
export function isNativeId(id: unknown): id is string {
  return typeof id === 'string' && NATIVE_ID.test(id) && id !== '.' && id !== '..';
}
