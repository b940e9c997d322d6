/**
 * The SDK's one durable journal: an append-only JSON-lines file.
 *
 * - An append is accepted only when its whole line is in the file: short writes are looped over,
 *   and a write that fails (ENOSPC, EIO, …) truncates the file back to where the batch began and
 *   rejects every record of that batch with a {@link StorageError}. Nothing is half-accepted.
 * - Records appended during one event-loop turn go to the file in one `write` (one `fsync` when
 *   `fsync` is on), so a thousand state changes cost one system call, not a thousand. A batch is
 *   written early once it reaches 1 MiB, so memory stays bounded.
 * - The reader tolerates a torn last line (a writer killed mid-append) and only the last; a torn
 *   line anywhere else is corruption and is reported. Opening for append first cuts a torn tail
 *   off, so the next record never glues onto half a line.
 * - {@link Journal.compact} rewrites the file with the live records only (temp file + fsync +
 *   rename), so readers see either the old file or the new one.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from '../errors.js';

/** The `write(2)` the journal uses: returns how many bytes it wrote (possibly fewer than asked). */
export type JournalWriteFn = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

/** Options of {@link Journal.open}. */
export interface JournalOptions {
  /**
   * `fsync` the file after every batch, so an accepted record survives power loss, not only a
   * killed process.
   * @default false
   */
  fsync?: boolean;
  /** File mode of a new journal. @default 0o600 */
  mode?: number;
  /**
   * Replaces the `write` system call (tests inject short writes with it).
   * @default fs.writeSync
   */
  write?: JournalWriteFn;
}

/** What {@link readJournal} found in a file. */
export interface JournalContents<T> {
  /** Every complete record, in file order. */
  readonly records: T[];
  /** Whether the last line was torn (and ignored). */
  readonly tornTail: boolean;
  /** Byte length of the complete lines: where the next append must begin. */
  readonly validBytes: number;
}

const NEWLINE = 0x0a;
/** Characters queued before a batch is written without waiting for the end of the turn. */
const MAX_BATCH_BYTES = 1 << 20;

/** Parses journal text; only the last line may be incomplete. */
function parseJournal<T>(file: string, data: Buffer): JournalContents<T> {
  const records: T[] = [];
  let start = 0;
  let line = 1;
  while (start < data.length) {
    const end = data.indexOf(NEWLINE, start);
    if (end === -1) return { records, tornTail: true, validBytes: start };
    if (end > start) {
      const text = data.toString('utf8', start, end);
      try {
        records.push(JSON.parse(text) as T);
      } catch (cause) {
        throw new StorageError(`Corrupt journal record at ${file}:${line}: the line is not JSON.`, { cause });
      }
    }
    start = end + 1;
    line++;
  }
  return { records, tornTail: false, validBytes: data.length };
}

/**
 * Reads a journal file. A missing file reads as empty.
 * @throws {@link StorageError} if the file cannot be read or a line other than the last is not JSON.
 */
export function readJournal<T = unknown>(file: string): JournalContents<T> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], tornTail: false, validBytes: 0 };
    throw new StorageError(`Could not read journal ${file}: ${(cause as Error).message}`, { cause });
  }
  return parseJournal<T>(file, data);
}

/** Writes all of `buffer` to `fd`, looping over short writes; returns bytes written before a failure via `progress`. */
function writeAll(write: JournalWriteFn, fd: number, buffer: Uint8Array, progress?: { written: number }): void {
  let offset = 0;
  while (offset < buffer.length) {
    const n = write(fd, buffer, offset, buffer.length - offset);
    // A zero-byte write with no error would loop forever: report it like a full disk.
    if (n <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    offset += n;
    if (progress) progress.written = offset;
  }
}

/** Words for a failed write's cause: a full disk or quota is named as such. */
export function writeFailureReason(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'EDQUOT') return 'the disk quota is exceeded';
  return (cause as Error).message;
}

/** Options of {@link writeFully} and {@link appendFully}. */
export interface FullWriteOptions {
  /** `fsync` after the write. @default false */
  readonly fsync?: boolean;
  /** Replaces the `write` system call (tests inject short writes with it). @default fs.writeSync */
  readonly write?: JournalWriteFn;
}

/**
 * Writes all of `data` to `fd` (looping over short writes), or throws a {@link StorageError}
 * naming `file`; what was written before a failure stays (callers remove a file they created).
 */
export function writeFully(fd: number, data: string | Uint8Array, file: string, options: FullWriteOptions = {}): void {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    writeAll(options.write ?? writeSync, fd, buffer);
    if (options.fsync) fsyncSync(fd);
  } catch (cause) {
    throw new StorageError(`Could not write ${file}: ${writeFailureReason(cause)}.`, { cause });
  }
}

/**
 * Appends all of `data` to `fd` (opened with O_APPEND) or nothing: on a failure after a short
 * write the file is truncated back to where this append began, so a reader never meets half a
 * line glued to the next one, and a {@link StorageError} names `file`. Only for files with one
 * appender at a time.
 */
export function appendFully(fd: number, data: string | Uint8Array, file: string, options: FullWriteOptions = {}): void {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const progress = { written: 0 };
  try {
    writeAll(options.write ?? writeSync, fd, buffer, progress);
    if (options.fsync) fsyncSync(fd);
  } catch (cause) {
    if (progress.written > 0) {
      try {
        ftruncateSync(fd, fstatSync(fd).size - progress.written);
      } catch {
        // the torn tail stays; readers skip a line that is not JSON
      }
    }
    throw new StorageError(`Could not append to ${file}: ${writeFailureReason(cause)}. Nothing of it was recorded.`, {
      cause,
    });
  }
}

interface Pending {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * An open append-only journal of JSON records.
 *
 * ```ts fragment
 * const { journal, records } = await Journal.open<MyRecord>('/path/state.jsonl', { fsync: true });
 * await journal.append({ kind: 'started', id: 'a' });
 * await journal.close();
 * ```
 */
export class Journal<T = unknown> {
  readonly file: string;
  readonly #fsync: boolean;
  readonly #write: JournalWriteFn;
  readonly #mode: number;
  #fd: number;
  #size: number;
  #lines: string[] = [];
  #waiters: Pending[] = [];
  #scheduled = false;
  #closed = false;
  #failure: StorageError | undefined;
  #unreported: StorageError | undefined;
  #pendingBytes = 0;

  private constructor(file: string, fd: number, size: number, options: JournalOptions) {
    this.file = file;
    this.#fd = fd;
    this.#size = size;
    this.#fsync = options.fsync ?? false;
    this.#write = options.write ?? writeSync;
    this.#mode = options.mode ?? 0o600;
  }

  /**
   * Opens (creating if needed, with its directory) a journal for appending and returns the
   * records already in it. A torn last line is cut off first.
   * @throws {@link StorageError} if the file cannot be opened or is corrupt.
   */
  static async open<T = unknown>(
    file: string,
    options: JournalOptions = {},
  ): Promise<{ journal: Journal<T>; records: T[]; tornTail: boolean }> {
    const resolved = path.resolve(file);
    try {
      await mkdir(path.dirname(resolved), { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw new StorageError(`Could not create the directory of journal ${resolved}: ${(cause as Error).message}`, {
        cause,
      });
    }
    let fd: number;
    try {
      fd = openSync(resolved, 'a+', options.mode ?? 0o600);
    } catch (cause) {
      throw new StorageError(`Could not open journal ${resolved}: ${(cause as Error).message}`, { cause });
    }
    try {
      const contents = readJournal<T>(resolved);
      if (contents.tornTail) ftruncateSync(fd, contents.validBytes);
      const size = contents.tornTail ? contents.validBytes : fstatSync(fd).size;
      return { journal: new Journal<T>(resolved, fd, size, options), records: contents.records, tornTail: contents.tornTail };
    } catch (cause) {
      closeSync(fd);
      if (cause instanceof StorageError) throw cause;
      throw new StorageError(`Could not open journal ${resolved}: ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * Creates a new, empty journal synchronously, exclusively (O_EXCL, no symlink followed): for a
   * journal that belongs to one writer, named so no other writer picks the same file. Its
   * directory must exist. Returns undefined if something is at `file` already.
   * @throws {@link StorageError} if it cannot be created for another reason.
   */
  static create<T = unknown>(file: string, options: JournalOptions = {}): Journal<T> | undefined {
    const resolved = path.resolve(file);
    let fd: number;
    try {
      fd = openSync(
        resolved,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        options.mode ?? 0o600,
      );
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw new StorageError(`Could not create journal ${resolved}: ${writeFailureReason(cause)}.`, { cause });
    }
    return new Journal<T>(resolved, fd, 0, options);
  }

  /** Bytes of complete records in the file. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends a record. Resolves once its line is written (and fsynced, if configured) together
   * with the other records of the same event-loop turn.
   * @throws {@link StorageError} if the batch could not be written (the file is left as it was
   * before the batch), if the record cannot be serialised, or after {@link Journal.close}.
   */
  append(record: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // The waiter goes first: if this record fills the batch, it is written (and answered) with it.
      const waiter = { resolve, reject };
      this.#waiters.push(waiter);
      try {
        this.enqueue(record);
      } catch (err) {
        this.#waiters.splice(this.#waiters.lastIndexOf(waiter), 1);
        reject(err);
      }
    });
  }

  /**
   * Queues a record for the current batch without waiting for it (the fast path for callers that
   * only need {@link Journal.flush} at a commit point). A failed batch makes the next `append` or
   * `flush` reject.
   */
  enqueue(record: T): void {
    if (this.#closed) throw new StorageError(`Journal ${this.file} is closed.`);
    if (this.#failure) throw this.#failure;
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch (cause) {
      throw new StorageError(`Could not serialise a journal record: ${(cause as Error).message}`, { cause });
    }
    if (line === undefined) throw new StorageError('Could not serialise a journal record: it is not JSON.');
    this.#lines.push(line);
    this.#pendingBytes += line.length + 1;
    // A bounded batch: a turn that appends a million records writes them in 1 MiB pieces, not one huge string.
    if (this.#pendingBytes >= MAX_BATCH_BYTES) {
      this.#flushBatch();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flushBatch());
    }
  }

  /**
   * Resolves once everything queued so far is written. Rejects if a batch failed since the last
   * `flush` (so records queued with {@link Journal.enqueue} are never lost silently).
   */
  flush(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const unreported = this.#unreported;
    if (unreported) {
      this.#unreported = undefined;
      return Promise.reject(unreported);
    }
    if (this.#lines.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Writes what is queued now, synchronously (a commit point that cannot wait for the end of the
   * turn: a record another process must see before something happens).
   * @throws {@link StorageError} if it could not be written (nothing of the batch stays in the file).
   */
  flushNow(): void {
    if (this.#failure) throw this.#failure;
    // An earlier batch's failure was that batch's (its waiters were told): this write is judged alone.
    this.#unreported = undefined;
    this.#flushBatch();
    const unreported = this.#unreported;
    if (unreported) {
      this.#unreported = undefined;
      throw unreported;
    }
  }

  /** Writes the batch now. Synchronous: see the module comment for why one write per turn. */
  #flushBatch(): void {
    this.#scheduled = false;
    this.#pendingBytes = 0;
    const lines = this.#lines;
    const waiters = this.#waiters;
    this.#lines = [];
    this.#waiters = [];
    if (lines.length === 0) {
      for (const w of waiters) w.resolve();
      return;
    }
    lines.push('');
    const buffer = Buffer.from(lines.join('\n'), 'utf8');
    try {
      writeAll(this.#write, this.#fd, buffer);
      if (this.#fsync) fsyncSync(this.#fd);
      this.#size += buffer.length;
    } catch (cause) {
      const error = this.#writeFailed(cause);
      this.#unreported = error;
      for (const w of waiters) w.reject(error);
      return;
    }
    for (const w of waiters) w.resolve();
  }

  /** Takes the batch back out of the file; if even that fails, the journal refuses further appends. */
  #writeFailed(cause: unknown): StorageError {
    const reason = writeFailureReason(cause);
    const error = new StorageError(
      `Could not append to journal ${this.file}: ${reason}. The records of this batch were not accepted.`,
      { cause },
    );
    try {
      ftruncateSync(this.#fd, this.#size);
    } catch (truncateCause) {
      this.#failure = new StorageError(
        `Journal ${this.file} could not be restored after a failed write (${(truncateCause as Error).message}); reopen it.`,
        { cause: truncateCause },
      );
    }
    return error;
  }

  /**
   * Rewrites the journal with only `live` records (temp file, fsync, rename over the journal),
   * then continues appending to the new file. Records queued but not yet written are appended
   * after `live`.
   * @throws {@link StorageError} if the new file cannot be written; the old journal is then untouched.
   */
  async compact(live: Iterable<T>): Promise<void> {
    if (this.#closed) throw new StorageError(`Journal ${this.file} is closed.`);
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'wx', this.#mode);
      const parts: string[] = [];
      for (const r of live) parts.push(JSON.stringify(r));
      parts.push('');
      const buffer = Buffer.from(parts.length > 1 ? parts.join('\n') : '', 'utf8');
      writeAll(this.#write, fd, buffer);
      fsyncSync(fd);
      renameSync(tmp, this.file);
      closeSync(this.#fd);
      this.#fd = fd;
      fd = undefined;
      this.#size = buffer.length;
    } catch (cause) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      throw new StorageError(`Could not compact journal ${this.file}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Writes what is queued and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flushBatch();
    this.#closed = true;
    closeSync(this.#fd);
  }
}

/**
 * Reads a journal that another process may be appending to, a piece at a time: each
 * {@link JournalFollower.read} returns only the records completed since the last one. A torn or
 * half-written last line is left for the next read. A journal replaced by {@link Journal.compact}
 * (a new file at the path) is read again from its start, and `reset` says so.
 */
export class JournalFollower<T = unknown> {
  readonly file: string;
  #ino = -1;
  #offset = 0;

  constructor(file: string) {
    this.file = file;
  }

  /**
   * Records appended since the last call; `reset` when the file was replaced (or first read), so
   * the caller drops what it built from earlier records. A missing file reads as empty.
   * @throws {@link StorageError} if the file cannot be read.
   */
  read(): { records: T[]; reset: boolean } {
    let fd: number;
    try {
      fd = openSync(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
        const reset = this.#ino !== -1;
        this.#ino = -1;
        this.#offset = 0;
        return { records: [], reset };
      }
      throw new StorageError(`Could not read journal ${this.file}: ${(cause as Error).message}`, { cause });
    }
    try {
      const stat = fstatSync(fd);
      let reset = false;
      if (stat.ino !== this.#ino || stat.size < this.#offset) {
        reset = true;
        this.#ino = stat.ino;
        this.#offset = 0;
      }
      if (stat.size === this.#offset) return { records: [], reset };
      const data = Buffer.allocUnsafe(stat.size - this.#offset);
      let got = 0;
      while (got < data.length) {
        const n = readSync(fd, data, got, data.length - got, this.#offset + got);
        if (n === 0) break;
        got += n;
      }
      const complete = data.lastIndexOf(NEWLINE, got - 1) + 1;
      const records: T[] = [];
      let start = 0;
      while (start < complete) {
        const end = data.indexOf(NEWLINE, start);
        if (end > start) {
          try {
            records.push(JSON.parse(data.toString('utf8', start, end)) as T);
          } catch {
            // not JSON: a line a failed writer could not take back; it carries nothing
          }
        }
        start = end + 1;
      }
      this.#offset += complete;
      return { records, reset };
    } catch (cause) {
      throw new StorageError(`Could not read journal ${this.file}: ${(cause as Error).message}`, { cause });
    } finally {
      closeSync(fd);
    }
  }
}
