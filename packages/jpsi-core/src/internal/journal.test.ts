import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, StorageError } from '../errors.js';
import { Journal, JournalFollower, appendFully, readJournal, writeFully } from './journal.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'xw-journal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => path.join(root, `j${n++}`, 'journal.jsonl');

describe('Journal', () => {
  it('appends records of one event-loop turn in one write and reads them back in order', async () => {
    const file = fresh();
    let writes = 0;
    const { journal, records } = await Journal.open<{ i: number }>(file, {
      write: (fd, b, o, l) => {
        writes++;
        return writeSync(fd, b, o, l);
      },
    });
    expect(records).toEqual([]);
    await Promise.all(Array.from({ length: 100 }, (_, i) => journal.append({ i })));
    expect(writes).toBe(1);
    await journal.append({ i: 100 });
    expect(writes).toBe(2);
    await journal.close();
    const back = readJournal<{ i: number }>(file);
    expect(back.records.map((r) => r.i)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(back.tornTail).toBe(false);
    expect((await Journal.open(file)).records).toHaveLength(101);
  });

  it('writes a batch early once it reaches 1 MiB', async () => {
    const file = fresh();
    let writes = 0;
    const { journal } = await Journal.open<{ pad: string }>(file, {
      write: (fd, b, o, l) => {
        writes++;
        return writeSync(fd, b, o, l);
      },
    });
    const pad = 'x'.repeat(1000);
    await Promise.all(Array.from({ length: 3000 }, () => journal.append({ pad })));
    expect(writes).toBe(3); // ~3 MB in one turn: two full batches and the rest
    await journal.close();
    expect(readJournal(file).records).toHaveLength(3000);
  });

  it('loops over short writes until the whole batch is in the file', async () => {
    const file = fresh();
    const { journal } = await Journal.open<{ s: string }>(file, {
      fsync: true,
      write: (fd, b, o, l) => writeSync(fd, b, o, Math.min(l, 7)), // at most 7 bytes per call
    });
    await Promise.all(['alpha', 'beta', 'gamma'].map((s) => journal.append({ s })));
    await journal.close();
    expect(readFileSync(file, 'utf8')).toBe('{"s":"alpha"}\n{"s":"beta"}\n{"s":"gamma"}\n');
  });

  it('ignores a torn last line, cuts it off before appending, and rejects a torn line in the middle', async () => {
    const file = fresh();
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '{"a":1}\n{"a":2}\n{"a":');
    expect(readJournal(file)).toMatchObject({ records: [{ a: 1 }, { a: 2 }], tornTail: true, validBytes: 16 });
    const { journal, records, tornTail } = await Journal.open(file);
    expect(records).toEqual([{ a: 1 }, { a: 2 }]);
    expect(tornTail).toBe(true);
    await journal.append({ a: 3 });
    await journal.close();
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');

    appendFileSync(file, 'not json\n{"a":4}\n');
    expect(() => readJournal(file)).toThrow(/Corrupt journal record at .*:4/);
    await expect(Journal.open(file)).rejects.toBeInstanceOf(StorageError);
  });

  it('compacts to the live records through a temp file and keeps appending', async () => {
    const file = fresh();
    const { journal } = await Journal.open<{ k: string; v: number }>(file);
    for (let v = 0; v < 50; v++) await journal.append({ k: `key${v % 3}`, v });
    const before = journal.size;
    await journal.compact([
      { k: 'key0', v: 48 },
      { k: 'key1', v: 49 },
    ]);
    expect(journal.size).toBeLessThan(before);
    await journal.append({ k: 'key2', v: 50 });
    await journal.close();
    expect(readJournal(file).records).toEqual([
      { k: 'key0', v: 48 },
      { k: 'key1', v: 49 },
      { k: 'key2', v: 50 },
    ]);
    const leftovers = (await import('node:fs')).readdirSync(path.dirname(file)).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });

  it('reports an unserialisable record and a closed journal with StorageError', async () => {
    const { journal } = await Journal.open<unknown>(fresh());
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(journal.append(cyclic)).rejects.toMatchObject({ code: ErrorCode.STORAGE });
    await journal.close();
    await expect(journal.append({})).rejects.toThrow(/closed/);
  });

  it('an injected failing write mid-batch leaves no partial line and rejects the whole batch', async () => {
    const file = fresh();
    let fail = false;
    const { journal } = await Journal.open<{ i: number }>(file, {
      write: (fd, b, o, l) => {
        if (!fail) return writeSync(fd, b, o, l);
        if (o === 0) return writeSync(fd, b, o, Math.min(l, 5)); // a short first write, then the disk is full
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    });
    await journal.append({ i: 1 });
    fail = true;
    const batch = [journal.append({ i: 2 }), journal.append({ i: 3 })];
    for (const p of batch) await expect(p).rejects.toThrow(/disk is full.*not accepted/);
    fail = false;
    await journal.append({ i: 4 });
    await journal.close();
    expect(readFileSync(file, 'utf8')).toBe('{"i":1}\n{"i":4}\n');
  });
});

describe('Journal.create and flushNow', () => {
  it('creates a journal only where nothing is (no symlink followed) and writes synchronously at flushNow', () => {
    const file = fresh();
    mkdirSync(path.dirname(file), { recursive: true });
    const journal = Journal.create<{ i: number }>(file)!;
    expect(Journal.create(file)).toBeUndefined();
    const link = path.join(path.dirname(file), 'link.jsonl');
    symlinkSync(path.join(path.dirname(file), 'elsewhere'), link);
    expect(Journal.create(link)).toBeUndefined(); // a dangling symlink is "something there": never followed
    expect(existsSync(path.join(path.dirname(file), 'elsewhere'))).toBe(false);
    journal.enqueue({ i: 1 });
    journal.enqueue({ i: 2 });
    expect(readFileSync(file, 'utf8')).toBe('');
    journal.flushNow();
    expect(readFileSync(file, 'utf8')).toBe('{"i":1}\n{"i":2}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    void journal.close();
  });

  it('flushNow throws for its own failed write and not for an earlier batch the waiters were told about', async () => {
    const file = fresh();
    mkdirSync(path.dirname(file), { recursive: true });
    let fail = false;
    const enospc = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    const journal = Journal.create<{ i: number }>(file, { write: (fd, b, o, l) => (fail ? enospc() : writeSync(fd, b, o, l)) })!;
    fail = true;
    await expect(journal.append({ i: 1 })).rejects.toThrow(/disk is full/);
    journal.enqueue({ i: 2 });
    expect(() => journal.flushNow()).toThrow(/disk is full/);
    fail = false;
    journal.enqueue({ i: 3 });
    journal.flushNow(); // written: an earlier failure is not blamed on it
    expect(readFileSync(file, 'utf8')).toBe('{"i":3}\n');
    await journal.close();
  });
});

describe('JournalFollower', () => {
  it('returns only what was appended since the last read, leaves a half-written line for later, and starts over on a new file', async () => {
    const file = fresh();
    mkdirSync(path.dirname(file), { recursive: true });
    const follower = new JournalFollower<{ i: number }>(file);
    expect(follower.read()).toEqual({ records: [], reset: false });
    writeFileSync(file, '{"i":1}\n{"i":2}\n{"i":');
    expect(follower.read()).toEqual({ records: [{ i: 1 }, { i: 2 }], reset: true });
    expect(follower.read()).toEqual({ records: [], reset: false });
    appendFileSync(file, '3}\nnot json\n{"i":4}\n');
    expect(follower.read()).toEqual({ records: [{ i: 3 }, { i: 4 }], reset: false });
    // Compaction puts a new file at the path: read again from its start.
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, '{"i":9}\n');
    renameSync(tmp, file);
    expect(follower.read()).toEqual({ records: [{ i: 9 }], reset: true });
    rmSync(file);
    expect(follower.read()).toEqual({ records: [], reset: true });
  });
});

// A real full disk: a 64 KiB tmpfs mounted by the test. Needs root (CI runs as root).
const isRoot = process.getuid?.() === 0;
describe.runIf(isRoot || process.env.CI)('Journal on a real full disk (tmpfs)', () => {
  it('ENOSPC is a typed StorageError, nothing of the failed batch is in the file, and later appends work', async () => {
    const mountPoint = mkdtempSync(path.join(os.tmpdir(), 'xw-journal-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
    try {
      const file = path.join(mountPoint, 'journal.jsonl');
      const filler = path.join(mountPoint, 'filler');
      writeFileSync(filler, Buffer.alloc(16 * 1024));
      const { journal } = await Journal.open<{ i: number; pad: string }>(file, { fsync: true });
      const pad = 'x'.repeat(1000);
      let accepted = 0;
      let error: unknown;
      for (let i = 0; i < 200 && error === undefined; i++) {
        // Batches of 3 records (~3 KB) so that a batch straddles the end of the space.
        const batch = [0, 1, 2].map((k) => journal.append({ i: i * 3 + k, pad }));
        const results = await Promise.allSettled(batch);
        const rejected = results.filter((r) => r.status === 'rejected');
        if (rejected.length > 0) {
          expect(rejected).toHaveLength(3); // all or nothing
          error = (rejected[0] as PromiseRejectedResult).reason;
        } else accepted += 3;
      }
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe(ErrorCode.STORAGE);
      expect((error as Error).message).toMatch(/disk is full/);
      expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
      const back = readJournal<{ i: number }>(file);
      expect(back.tornTail).toBe(false);
      expect(back.records.map((r) => r.i)).toEqual(Array.from({ length: accepted }, (_, i) => i));
      // Once space is freed the same journal appends again, right after the last accepted record.
      rmSync(filler);
      await journal.append({ i: -1, pad: '' });
      await journal.compact(back.records.slice(0, 2) as { i: number; pad: string }[]);
      await journal.append({ i: -2, pad: '' });
      await journal.close();
      expect(readJournal<{ i: number }>(file).records.map((r) => r.i)).toEqual([0, 1, -2]);
    } finally {
      execFileSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('appendFully and writeFully', () => {
  const dir = path.join(root, 'full');
  mkdirSync(dir, { recursive: true });
  // A `write` that writes at most `chunk` bytes per call, and fails with ENOSPC after `budget` bytes.
  const limited = (chunk: number, budget: number) => {
    let left = budget;
    return (fd: number, b: Uint8Array, o: number, l: number): number => {
      if (left <= 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      const n = writeSync(fd, b, o, Math.min(l, chunk, left));
      left -= n;
      return n;
    };
  };

  it('loops over short writes until everything is written', () => {
    const file = path.join(dir, 'short');
    const fd = openSync(file, 'a');
    appendFully(fd, 'one line of text\n', file, { write: limited(3, 1000) });
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('one line of text\n');
  });

  it('takes a partial append back and throws a StorageError saying the disk is full', () => {
    const file = path.join(dir, 'torn');
    writeFileSync(file, 'first\n');
    const fd = openSync(file, 'a');
    let error: unknown;
    try {
      appendFully(fd, 'second line\n', file, { write: limited(4, 5) });
    } catch (err) {
      error = err;
    }
    closeSync(fd);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe(ErrorCode.STORAGE);
    expect((error as Error).message).toMatch(/disk is full.*Nothing of it was recorded/);
    expect(readFileSync(file, 'utf8')).toBe('first\n'); // no torn tail for the next line to glue onto
  });

  it('writeFully reports a failed write as a StorageError naming the file', () => {
    const file = path.join(dir, 'whole');
    const fd = openSync(file, 'w');
    expect(() => writeFully(fd, 'x'.repeat(100), file, { write: limited(10, 50) })).toThrow(
      /Could not write .*whole: the disk is full/,
    );
    closeSync(fd);
  });
});
