/**
 * The durable outbox: a JSON-lines file of publishes not yet acknowledged, so that a sender
 * restarted after a crash resends them under the same identity (and receivers de-duplicate them).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { StorageError } from '@exaworks/jpsi-core';
import { writeFileAtomic } from '@exaworks/jpsi-core/internal';

/** One publish kept in the outbox. */
export interface OutboxEntry {
  /** Sequence number. */
  readonly s: number;
  /** Topic. */
  readonly tp: string;
  /** Data as published. */
  readonly d: unknown;
  /** Hold at the hub until a subscriber exists. */
  readonly w: boolean;
}

type Line = { k: 'h'; id: string; epoch: string; seq: number } | ({ k: 'p' } & OutboxEntry) | { k: 'a'; s: number[] };

/**
 * Writes all of `data` to `fd`, looping over short writes (a full disk returns fewer bytes, or
 * throws ENOSPC, which is reported as a {@link StorageError}).
 */
export function writeFully(
  fd: number,
  data: Uint8Array,
  write: (fd: number, b: Uint8Array, off: number) => number = writeChunk,
): void {
  let off = 0;
  while (off < data.length) {
    const n = write(fd, data, off);
    if (n <= 0) throw new StorageError(`A write made no progress (${off} of ${data.length} bytes written).`);
    off += n;
  }
}

function writeChunk(fd: number, b: Uint8Array, off: number): number {
  return writeSync(fd, b, off, b.length - off);
}

/** Parses the outbox file, ignoring a torn last line (a writer killed mid-append). */
function parse(text: string, file: string): Line[] {
  const lines = text.split('\n');
  const out: Line[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as Line);
    } catch (cause) {
      if (i === lines.length - 1) break; // torn tail: the append never completed, so it was never sent
      throw new StorageError(`Corrupt outbox record at ${file}:${i + 1}`, { cause });
    }
  }
  return out;
}

/** A file-backed outbox. Open it with {@link Outbox.open}. */
export class Outbox {
  readonly #file: string;
  readonly #fsync: boolean;
  readonly #live = new Map<number, OutboxEntry>();
  #fd: number;
  #acked = 0;
  /** Lines appended while a compaction runs: written to the old file too, and replayed onto the new one. */
  #during: string[] | undefined;
  /** The sender's id, kept across restarts. */
  readonly id: string;
  /** The sender's incarnation, kept across restarts so receivers recognise resends. */
  readonly epoch: string;
  /** The last sequence number used. */
  lastSeq: number;

  private constructor(file: string, fsync: boolean, id: string, epoch: string, seq: number, live: OutboxEntry[]) {
    this.#file = file;
    this.#fsync = fsync;
    this.id = id;
    this.epoch = epoch;
    this.lastSeq = seq;
    for (const e of live) this.#live.set(e.s, e);
    this.#fd = -1;
  }

  /**
   * Opens (or creates, mode 0600) an outbox file, compacting it to its unacknowledged entries.
   * @param id the sender id to use for a new file; an existing file keeps its own.
   * @throws {@link StorageError} if the file cannot be read or written, or is corrupt before its last line.
   */
  static async open(file: string, id: string, options: { fsync?: boolean } = {}): Promise<Outbox> {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new StorageError(`Could not read the outbox ${file}: ${(err as Error).message}`, { cause: err });
    }
    let header: Extract<Line, { k: 'h' }> | undefined;
    const live = new Map<number, OutboxEntry>();
    let seq = 0;
    for (const line of parse(text, file)) {
      if (line.k === 'h') header = line;
      else if (line.k === 'p') {
        live.set(line.s, { s: line.s, tp: line.tp, d: line.d, w: line.w });
        seq = Math.max(seq, line.s);
      } else if (line.k === 'a') for (const s of line.s) live.delete(s);
    }
    const box = new Outbox(
      file,
      options.fsync === true,
      header?.id ?? id,
      header?.epoch ?? randomBytes(9).toString('base64url'),
      Math.max(seq, header?.seq ?? 0),
      [...live.values()],
    );
    await box.#compact();
    return box;
  }

  /** The unacknowledged entries, oldest first. */
  entries(): OutboxEntry[] {
    return [...this.#live.values()];
  }

  /** Number of unacknowledged entries. */
  get size(): number {
    return this.#live.size;
  }

  /** Records a publish before it is sent. */
  put(entry: OutboxEntry): void {
    this.#live.set(entry.s, entry);
    this.lastSeq = Math.max(this.lastSeq, entry.s);
    this.#append({ k: 'p', ...entry });
  }

  /** Records acknowledgements. */
  ack(seqs: readonly number[]): void {
    const known = seqs.filter((s) => this.#live.delete(s));
    if (known.length === 0) return;
    this.#append({ k: 'a', s: known });
    this.#acked += known.length;
    // Rewrite once the file is mostly acknowledged history.
    if (this.#acked > 10_000 && this.#acked > 4 * this.#live.size) void this.#compact().catch(() => undefined);
  }

  /** Closes the file. */
  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #append(line: Line): void {
    if (this.#fd < 0) throw new StorageError(`The outbox ${this.#file} is closed.`);
    const text = `${JSON.stringify(line)}\n`;
    this.#during?.push(text);
    try {
      writeFully(this.#fd, Buffer.from(text));
      if (this.#fsync) fsyncSync(this.#fd);
    } catch (cause) {
      if (cause instanceof StorageError) throw cause;
      throw new StorageError(`Could not append to the outbox ${this.#file}: ${(cause as Error).message}`, { cause });
    }
  }

  async #compact(): Promise<void> {
    if (this.#during) return;
    const lines: Line[] = [{ k: 'h', id: this.id, epoch: this.epoch, seq: this.lastSeq }];
    for (const e of this.#live.values()) lines.push({ k: 'p', ...e });
    this.#during = [];
    try {
      await writeFileAtomic(this.#file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''), { fsync: this.#fsync, mode: 0o600 });
      const fd = openSync(this.#file, 'a', 0o600);
      if (this.#during.length) writeFully(fd, Buffer.from(this.#during.join('')));
      if (this.#fd >= 0) closeSync(this.#fd);
      this.#fd = fd;
      this.#acked = 0;
    } finally {
      this.#during = undefined;
    }
  }
}
