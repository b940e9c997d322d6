/**
 * The local executor's files. Jobs are recorded in journals, one per executor instance
 * (`.journal/<tag>.jsonl`, append-only, written only by that instance, one `write` per batch): a
 * job's record and its status lines, so accepting and running a job creates no file. The tag is
 * part of each native id, so any process finds a job's journal from its id alone. Rare per-job
 * files remain for what other processes decide (cancel requests, never-started decisions,
 * adoption), and a registry of live executors. Everything here is what another process needs to
 * find a job again.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JobSpecInput, JobStatusJson } from '@exaworks/jpsi-core';
// The internal entry, not the main one: read-only tools (inspect.ts) must not load zod.
import {
  Journal,
  JournalFollower,
  StorageError,
  ensurePrivateDirectory,
  jobPaths,
  writeFileAtomic,
  writeFileExclusiveSync,
  writeFully,
  type JobPaths,
} from '@exaworks/jpsi-core/internal';
import { isAlive, type ProcessIdentity } from './proc.js';

/** Version tag of the files written here. */
export const RECORD_FORMAT = 'exaworks-local/2';

/** Who owns (tracks and may start) a job: one executor instance in one process. */
export interface OwnerInfo extends ProcessIdentity {
  /** `<pid>-<startTime>-<instance>`, also the name of the owner's registry file. */
  readonly id: string;
}

/** A job as accepted: appended once, whole, to its submitter's journal before `submit` resolves. */
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
  | { readonly spawn: 'direct' }
  | { readonly spawn: 'exec'; readonly agent: { readonly pid: number; readonly startTime: string; readonly journal: string } };

/** The current owner of an adopted job, written atomically by the adopter. */
export interface OwnerFile {
  readonly generation: number;
  readonly owner: OwnerInfo;
  /** Tags of the adopters' journals, oldest first: each holds the status lines of its generation. */
  readonly journals?: readonly string[];
}

/** The first line of a journal: whose it is. */
export interface JournalHeader {
  readonly format: typeof RECORD_FORMAT;
  readonly journal: string;
  readonly owner: OwnerInfo;
}

/** A status line or spawn marker in a journal, with the job it is about. */
export type JobLine = (LogLine | SpawnMarker) & { readonly id: string };

/** One line of a journal. */
export type JournalEntry = JournalHeader | JobRecord | JobLine;

/** The rare per-job files, all directly in the work directory, named `<nativeId>.<kind>`. */
export interface LocalJobPaths extends JobPaths {
  /** The job these paths are of. */
  readonly nativeId: string;
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
    nativeId,
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

/** The journal tag inside a native id (`<time>-<tag>-<sequence>`), or undefined if it has none. */
export function journalTagOf(nativeId: string): string | undefined {
  const parts = nativeId.split('-');
  return parts.length === 3 && /^[a-z0-9]+$/.test(parts[1]!) ? parts[1] : undefined;
}

/** A journal's file in `workDirectory`. */
export function journalPath(workDirectory: string, tag: string): string {
  return path.join(workDirectory, '.journal', `${tag}.jsonl`);
}

function storageError(what: string, file: string, cause: unknown): StorageError {
  return new StorageError(`Could not ${what} ${file}: ${(cause as Error).message}`, { cause });
}

/** The journals and live-executor registry under one work directory. */
export class JobStore {
  readonly workDirectory: string;
  readonly #fsync: boolean;
  readonly #ownersDir: string;
  readonly #journalDir: string;
  readonly #nodeFiles = new Map<number, string>();
  readonly reader: LocalJobReader;
  #journal: Journal<JournalEntry> | undefined;
  #tag: string | undefined;
  #sequence = 0;
  #owner: OwnerInfo | undefined;

  constructor(workDirectory: string, fsync: boolean) {
    this.workDirectory = path.resolve(workDirectory);
    this.#fsync = fsync;
    this.#ownersDir = path.join(this.workDirectory, '.owners');
    this.#journalDir = path.join(this.workDirectory, '.journal');
    // Private to its user (0700): records hold environments, and a file planted by another user
    // would be run, cancelled or decided as this one. Refused otherwise (InsecureDirectoryError).
    ensurePrivateDirectory(this.workDirectory);
    try {
      for (const dir of [this.#ownersDir, this.agentsDirectory, this.#journalDir])
        mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw storageError('create the work directory', this.#ownersDir, cause);
    }
    this.reader = new LocalJobReader(this.workDirectory);
  }

  /** Where the spawn agents keep their start journals. */
  get agentsDirectory(): string {
    return path.join(this.workDirectory, '.agents');
  }

  paths(nativeId: string): LocalJobPaths {
    return localJobPaths(this.workDirectory, nativeId);
  }

  /** This instance's journal, created (exclusively, with a fresh tag) on its first line. */
  #writer(): Journal<JournalEntry> {
    if (this.#journal) return this.#journal;
    if (!this.#owner) throw new StorageError('The job store has no owner registered.');
    for (;;) {
      const tag = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
      const journal = Journal.create<JournalEntry>(journalPath(this.workDirectory, tag), { fsync: this.#fsync });
      if (!journal) continue; // that tag is taken: pick another
      journal.enqueue({ format: RECORD_FORMAT, journal: tag, owner: this.#owner });
      this.#journal = journal;
      this.#tag = tag;
      return journal;
    }
  }

  /** This instance's journal tag (creating its journal if needed). */
  get tag(): string {
    this.#writer();
    return this.#tag!;
  }

  /**
   * A native id: unique across processes and hosts sharing the directory (the journal tag is
   * created exclusively), sorting by submission time (milliseconds, base 36, fixed width, first),
   * and naming the journal that holds the job.
   */
  newNativeId(): string {
    const time = Date.now().toString(36).padStart(9, '0');
    const seq = (this.#sequence++ % 36 ** 5).toString(36).padStart(5, '0');
    return `${time}-${this.tag}-${seq}`;
  }

  /**
   * Accepts a job: appends its record to this instance's journal and writes it now (with
   * whatever else is queued). This is the commit point.
   * @throws {@link StorageError} if it could not be written whole (nothing of it stays).
   */
  createRecord(record: JobRecord): void {
    const journal = this.#writer();
    journal.enqueue(record);
    journal.flushNow();
  }

  /** Reads a job's record and lines (see {@link LocalJobReader.read}). */
  readJob(nativeId: string): JobFile | undefined {
    return this.reader.read(nativeId);
  }

  /** The record of a job, or undefined if there is none (never accepted, or not a job). */
  readRecord(nativeId: string): JobRecord | undefined {
    return this.readJob(nativeId)?.record;
  }

  /**
   * Appends status lines of job `id` and writes them now (with everything else queued): for
   * lines another process must be able to see before this one goes on.
   * @throws {@link StorageError} if they could not be written whole.
   */
  append(id: string, lines: readonly (LogLine | SpawnMarker)[]): void {
    const journal = this.#writer();
    for (const line of lines) journal.enqueue({ id, ...line });
    journal.flushNow();
  }

  /**
   * Appends status lines of job `id` with the batch of this event-loop turn (one `write` for all
   * of them): resolves once they are in the file, rejects with a {@link StorageError} if not.
   */
  appendSoon(id: string, lines: readonly (LogLine | SpawnMarker)[]): Promise<void> {
    const journal = this.#writer();
    for (let i = 0; i < lines.length - 1; i++) journal.enqueue({ id, ...lines[i]! });
    return journal.append({ id, ...lines.at(-1)! });
  }

  /** Queues status lines of job `id` for the next write (see {@link JobStore.flush}); nothing waits for them. */
  enqueue(id: string, lines: readonly (LogLine | SpawnMarker)[]): void {
    const journal = this.#writer();
    for (const line of lines) journal.enqueue({ id, ...line });
  }

  /** Writes what is queued now (see {@link Journal.flushNow}). */
  flush(): void {
    this.#journal?.flushNow();
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
   * process doing the same: the O_EXCL `<id>.unstarted` file holds the one decision (readers
   * take it from there). Returns the decision that counts.
   */
  async decideUnstarted(paths: LocalJobPaths, status: JobStatusJson): Promise<JobStatusJson> {
    if (this.claim(paths.unstarted, JSON.stringify(status))) return status;
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
   * (an O_EXCL claim file); the winner then writes the owner file, which names its journal.
   */
  async adopt(paths: LocalJobPaths, current: OwnerFile, me: OwnerInfo): Promise<boolean> {
    let generation = current.generation + 1;
    // A claimant that died before writing the owner file must not strand the job: claim the next generation.
    while (!this.claim(`${paths.adoptPrefix}${generation}`, me.id)) {
      if (!this.#claimantDead(`${paths.adoptPrefix}${generation}`)) return false;
      generation++;
    }
    const journals = [...(current.journals ?? []), this.tag];
    this.flush(); // the journal's header is on disk before any reader is sent to it
    const next: OwnerFile = { generation, owner: me, journals };
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
    this.#owner = owner;
    const file = path.join(this.#ownersDir, owner.id);
    try {
      closeSync(openSync(file, 'w', 0o600));
    } catch (cause) {
      throw storageError('create', file, cause);
    }
  }

  /** Marks an executor instance gone; its journal is written out and closed. */
  unregisterOwner(owner: OwnerInfo): void {
    try {
      void this.#journal?.close();
    } finally {
      rmSync(path.join(this.#ownersDir, owner.id), { force: true });
    }
  }

  /** True if that executor instance is open in a live process. */
  ownerAlive(owner: OwnerInfo): boolean {
    return ownerAliveIn(this.workDirectory, owner);
  }

  /** Native ids of accepted jobs, oldest first. */
  list(): string[] {
    return this.reader.ids();
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

/** What one journal says about one job. */
interface JobEntries {
  record: JobRecord | undefined;
  readonly lines: (LogLine | SpawnMarker)[];
}

/** What is known of one journal so far. */
interface FollowedJournal {
  readonly follower: JournalFollower<JournalEntry>;
  readonly jobs: Map<string, JobEntries>;
  header: JournalHeader | undefined;
}

function isRecord(entry: JournalEntry): entry is JobRecord {
  return (entry as JobRecord).nativeId !== undefined && (entry as JobRecord).spec !== undefined;
}

/**
 * Reads the jobs of a work directory from its journals, following each journal as it grows (a
 * read costs only what was appended since the last one). Holds only the journals it was asked
 * about. Never writes.
 */
export class LocalJobReader {
  readonly workDirectory: string;
  readonly #journals = new Map<string, FollowedJournal>();

  constructor(workDirectory: string) {
    this.workDirectory = path.resolve(workDirectory);
  }

  /** The journal `tag`, brought up to date. */
  #journal(tag: string): FollowedJournal {
    let j = this.#journals.get(tag);
    if (!j) {
      j = {
        follower: new JournalFollower<JournalEntry>(journalPath(this.workDirectory, tag)),
        jobs: new Map(),
        header: undefined,
      };
      this.#journals.set(tag, j);
    }
    const { records, reset } = j.follower.read();
    if (reset) j.jobs.clear();
    for (const entry of records) {
      if ((entry as JournalHeader | null)?.journal === tag && j.header === undefined) j.header = entry as JournalHeader;
      else addEntry(j.jobs, entry);
    }
    return j;
  }

  /** Who writes journal `tag` (its first line), if it says. */
  writerOf(tag: string): OwnerInfo | undefined {
    return this.#journal(tag).header?.owner;
  }

  /** Tags of the journals holding lines of job `nativeId`: its submitter's, then its adopters'. */
  journalsOf(nativeId: string, record: JobRecord): string[] {
    const home = journalTagOf(nativeId);
    const adopters = readOwnerFile(localJobPaths(this.workDirectory, nativeId), record).journals ?? [];
    return [...(home === undefined ? [] : [home]), ...adopters.filter((t) => t !== home)];
  }

  /**
   * A job's record and status lines: undefined if there is none (never accepted, or being
   * written right now). Lines come from its submitter's journal, then from each adopter's, in
   * generation order (each adopter's journal is named in the owner file, read afresh each time);
   * nothing after the first final line counts. A record of another format is not a job here.
   * @throws {@link StorageError} if a journal cannot be read.
   */
  read(nativeId: string): JobFile | undefined {
    const tag = journalTagOf(nativeId);
    if (tag === undefined) return undefined;
    const home = this.#journal(tag).jobs.get(nativeId);
    if (!home?.record) return undefined;
    const paths = localJobPaths(this.workDirectory, nativeId);
    let lines = home.lines;
    const adopters = readOwnerFile(paths, home.record).journals ?? [];
    if (adopters.length > 0) {
      lines = [...lines];
      for (const t of adopters) if (t !== tag) lines.push(...(this.#journal(t).jobs.get(nativeId)?.lines ?? []));
    }
    return jobFileFrom(home.record, lines, paths);
  }

  /** Native ids of accepted jobs, oldest first (every journal is read). */
  ids(): string[] {
    const ids: string[] = [];
    for (const tag of this.tags()) {
      for (const [id, entries] of this.#journal(tag).jobs) if (entries.record && journalTagOf(id) === tag) ids.push(id);
    }
    return ids.sort();
  }

  /** Tags of the journals in the work directory. */
  tags(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(path.join(this.workDirectory, '.journal'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw storageError('list', path.join(this.workDirectory, '.journal'), err);
    }
    return entries.filter((e) => e.endsWith('.jsonl') && /^[a-z0-9]+\.jsonl$/.test(e)).map((e) => e.slice(0, -6));
  }
}

function addEntry(jobs: Map<string, JobEntries>, entry: JournalEntry): void {
  if (entry === null || typeof entry !== 'object') return;
  if (isRecord(entry)) {
    if (entry.format !== RECORD_FORMAT) return;
    const known = jobs.get(entry.nativeId);
    if (known) known.record ??= entry;
    else jobs.set(entry.nativeId, { record: entry, lines: [] });
    return;
  }
  const id = (entry as JobLine).id;
  if (typeof id !== 'string') return; // the header
  const { id: _, ...line } = entry as JobLine;
  const known = jobs.get(id);
  if (known) known.lines.push(line as LogLine | SpawnMarker);
  else jobs.set(id, { record: undefined, lines: [line as LogLine | SpawnMarker] });
}

/** A job's file as readers see it, from its record and its lines in order. */
function jobFileFrom(record: JobRecord, raw: readonly (LogLine | SpawnMarker)[], paths: LocalJobPaths): JobFile {
  const lines: LogLine[] = [];
  let final: JobStatusJson | undefined;
  let starting = false;
  let spawn: SpawnMarker | undefined;
  for (const entry of raw) {
    if (final) break;
    const line = entry as LogLine;
    if (typeof line.state !== 'string') {
      const marker = entry as SpawnMarker;
      if (marker.spawn === 'agent' || marker.spawn === 'direct' || marker.spawn === 'exec') spawn = marker;
      continue;
    }
    if (line.state === 'STAGE_IN') spawn = undefined; // a new start attempt (an adopter's)
    lines.push(line);
    if (STARTED_STATES.has(line.state)) starting = true;
    if (FINAL_STATES.has(line.state)) final = line;
  }
  // A never-started job decided through `<id>.unstarted` (by its owner or a canceller).
  if (!final) {
    const decided = readUnstartedFile(paths);
    if (decided) {
      lines.push(decided);
      final = decided;
    }
  }
  return { record, lines, final, starting, spawn };
}

/** Reads a job's record and lines from the journals of its work directory (see {@link LocalJobReader.read}). */
export function readJobFile(paths: LocalJobPaths): JobFile | undefined {
  return new LocalJobReader(path.dirname(paths.unstarted)).read(paths.nativeId);
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

/** Native ids of accepted jobs in a work directory, oldest first. */
export function listJobIds(workDirectory: string): string[] {
  return new LocalJobReader(workDirectory).ids();
}

/** What a local native id may look like (it names files, so no separators). */
export const NATIVE_ID = /^[A-Za-z0-9._-]+$/;

/** True if `id` can be a native id of this executor. */
export function isNativeId(id: unknown): id is string {
  return typeof id === 'string' && NATIVE_ID.test(id) && id !== '.' && id !== '..';
}
