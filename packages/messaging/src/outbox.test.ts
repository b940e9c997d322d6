/** The durable outbox: torn last lines, short writes, compaction, identity across restarts. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StorageError } from '@exaworks/jpsi-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Outbox, writeFully } from './outbox.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'xw-outbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Outbox', () => {
  it('keeps unacknowledged entries and the sender identity across reopen; the file is private', async () => {
    const file = path.join(dir, 'a.outbox');
    const box = await Outbox.open(file, 'sender-1');
    for (let s = 1; s <= 5; s++) box.put({ s, tp: 't', d: { s }, w: false });
    box.ack([1, 3]);
    box.close();
    const again = await Outbox.open(file, 'ignored');
    expect(again.id).toBe('sender-1');
    expect(again.epoch).toBe(box.epoch);
    expect(again.lastSeq).toBe(5);
    expect(again.entries().map((e) => e.s)).toEqual([2, 4, 5]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    again.close();
  });

  it('tolerates a torn last line (a writer killed mid-append) and keeps appending cleanly after it', async () => {
    const file = path.join(dir, 'b.outbox');
    const box = await Outbox.open(file, 'sender-2');
    box.put({ s: 1, tp: 't', d: 'one', w: true });
    box.close();
    appendFileSync(file, '{"k":"p","s":2,"tp":"t","d":"tw');
    const again = await Outbox.open(file, 'sender-2');
    expect(again.entries()).toEqual([{ s: 1, tp: 't', d: 'one', w: true }]);
    again.put({ s: 2, tp: 't', d: 'two', w: false });
    again.close();
    const third = await Outbox.open(file, 'sender-2');
    expect(third.entries().map((e) => e.d)).toEqual(['one', 'two']);
    third.close();
  });

  it('refuses corruption before the last line', async () => {
    const file = path.join(dir, 'c.outbox');
    writeFileSync(file, '{"k":"h","id":"x","epoch":"e","seq":0}\ngarbage\n{"k":"a","s":[1]}\n');
    await expect(Outbox.open(file, 'x')).rejects.toBeInstanceOf(StorageError);
  });

  it('compacts once mostly acknowledged, without losing entries appended meanwhile', async () => {
    const file = path.join(dir, 'd.outbox');
    const box = await Outbox.open(file, 'sender-4');
    for (let s = 1; s <= 12_000; s++) {
      box.put({ s, tp: 't', d: s, w: false });
      if (s > 10) box.ack([s - 10]);
    }
    await new Promise((r) => setTimeout(r, 200));
    box.close();
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThan(5_000);
    const again = await Outbox.open(file, 'sender-4');
    expect(again.entries().map((e) => e.s)).toEqual(Array.from({ length: 10 }, (_, i) => 11_991 + i));
    again.close();
  });
});

describe('writeFully', () => {
  it('loops over short writes and reports a write that makes no progress', () => {
    const data = Buffer.from('hello outbox');
    const got: number[] = [];
    writeFully(3, data, (_fd, b, off) => {
      got.push(b[off]!);
      return 1; // one byte at a time, like a nearly full disk
    });
    expect(Buffer.from(got).toString()).toBe('hello outbox');
    expect(() => writeFully(3, data, () => 0)).toThrow(StorageError);
  });
});
