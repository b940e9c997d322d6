import { appendFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageError } from './errors.js';
import { defaultWorkDirectory, jobPaths, readJsonLines, writeFileAtomic, writeFileExclusiveSync } from './workdir.js';

describe('work directory helpers', () => {
  it('lays out a job by native id and refuses ids that escape the directory', () => {
    const p = jobPaths('/w', '123-abc');
    expect(p.dir).toBe('/w');
    expect(p.record).toBe('/w/123-abc.job');
    expect(p.statusLog).toBe(p.record);
    expect([p.script, p.exitCode, p.stdout, p.stderr]).toEqual([
      '/w/123-abc.sh',
      '/w/123-abc.result',
      '/w/123-abc.out',
      '/w/123-abc.err',
    ]);
    for (const bad of ['..', '../x', 'a/b', '', 'a b']) expect(() => jobPaths('/w', bad)).toThrow(StorageError);
  });
  it('uses EXAWORKS_WORK_DIR when set', () => {
    const old = process.env.EXAWORKS_WORK_DIR;
    process.env.EXAWORKS_WORK_DIR = '/tmp/xw';
    try {
      expect(defaultWorkDirectory('local')).toBe('/tmp/xw/local');
    } finally {
      if (old === undefined) delete process.env.EXAWORKS_WORK_DIR;
      else process.env.EXAWORKS_WORK_DIR = old;
    }
  });
  it('writes atomically, leaving no temp files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exa-wd-'));
    const f = path.join(dir, 'x.json');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, 'two', { fsync: true });
    expect(await readFile(f, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['x.json']);
    await expect(writeFileAtomic(path.join(dir, 'missing', 'y'), 'z')).rejects.toBeInstanceOf(StorageError);
  });
  it('creates a file exclusively: the first caller wins, later ones get false', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exa-wd-'));
    const f = path.join(dir, 'claim');
    expect(writeFileExclusiveSync(f, 'first')).toBe(true);
    expect(writeFileExclusiveSync(f, 'second', { fsync: true })).toBe(false);
    expect(await readFile(f, 'utf8')).toBe('first');
    expect(() => writeFileExclusiveSync(path.join(dir, 'missing', 'y'), 'z')).toThrow(StorageError);
  });
  it('reads JSON lines tolerating only a torn last line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exa-wd-'));
    const f = path.join(dir, 'log.jsonl');
    expect(await readJsonLines(f)).toEqual([]);
    await writeFile(f, '{"a":1}\n{"a":2}\n');
    await appendFile(f, '{"a":');
    expect(await readJsonLines(f)).toEqual([{ a: 1 }, { a: 2 }]);
    await writeFile(f, '{"a":1}\ngarbage\n{"a":3}\n');
    await expect(readJsonLines(f)).rejects.toBeInstanceOf(StorageError);
  });
});
