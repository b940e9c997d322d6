// Full disk: on a real, small tmpfs (mounted by the test, as root), every write is whole or a
// typed error, a submit that cannot be recorded is not accepted, and what a job was told is
// what a reopened work directory says.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Job, JobState, StorageError } from '@exaworks/jpsi-core';
import { type LocalExecutor, type LocalExecutorConfigInput, createLocalExecutor } from './index.js';
import { cleanupDirs, jobEntries, makeFifo, releaseFifo, tempDir, until } from './test-support/helpers.js';
import { journalPath, journalTagOf } from './store.js';

const isRoot = process.getuid?.() === 0;
const mounts: string[] = [];
const open: LocalExecutor[] = [];

afterAll(async () => {
  for (const e of open.splice(0)) await e.close();
  for (const m of mounts.splice(0)) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // already gone
    }
  }
  cleanupDirs();
});

/** A fresh tmpfs of `size` bytes (root only); unmounted after the file. */
function tmpfs(size: number): string {
  const dir = tempDir('xw-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Fills the file system of `dir` completely with one file; returns its path. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) {
      try {
        if (writeSync(fd, chunk) < chunk.length) break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Frees `bytes` of the filler (a whole number of pages). */
function free(filler: string, bytes: number): void {
  const size = statSync(filler).size;
  execFileSync('truncate', ['-s', String(Math.max(0, size - bytes)), filler]);
}

function executor(config: LocalExecutorConfigInput): LocalExecutor {
  const e = createLocalExecutor({ maxCores: 1, pollInterval: 50, killGracePeriod: 300, ...config });
  open.push(e);
  return e;
}

function ledgerCount(ledger: string, name: string): number {
  if (!existsSync(ledger)) return 0;
  return readFileSync(ledger, 'utf8')
    .split('\n')
    .filter((l) => l === name).length;
}

const PAGE = 4096;

// Root mounts the tmpfs; CI runs as root (scripts/ci-setup.sh), so there it never skips.
describe.skipIf(!isRoot && process.env.CI === undefined)('LocalExecutor on a full disk (real tmpfs)', () => {
  it('a submit whose record cannot be written whole fails with a StorageError and the job is not accepted', async () => {
    const wd = path.join(tmpfs(256 * 1024), 'w');
    mkdirSync(wd);
    const e = executor({ workDirectory: wd, recover: false });
    await (await e.submit({ executable: '/bin/true' })).wait({ timeout: 30_000 }); // node file and agent journal exist
    const filler = fill(wd);
    free(filler, PAGE); // one page left: a record of three pages is written in part, then ENOSPC
    const before = (await e.list()).length;
    const journal = journalPath(wd, journalTagOf((await e.list())[0]!)!);
    const size = statSync(journal).size;
    const big = { executable: '/bin/echo', arguments: ['x'.repeat(3 * PAGE)] };
    await expect(e.submit(big)).rejects.toBeInstanceOf(StorageError);
    await expect(e.submit(big)).rejects.toThrow(/disk is full/);
    expect(statSync(journal).size).toBe(size); // no torn record left behind
    expect((await e.list()).length).toBe(before);
  }, 60_000);

  it('a node file that does not fit is a StorageError and leaves no .tmp file', async () => {
    const wd = path.join(tmpfs(128 * 1024), 'w');
    mkdirSync(wd);
    const e = executor({ workDirectory: wd, recover: false, maxCores: 64 });
    const filler = fill(wd);
    free(filler, 2 * PAGE);
    // 40,000 lines of the host name: far more than two pages.
    await expect(e.submit({ executable: '/bin/true', resources: { processCount: 40_000 } })).rejects.toBeInstanceOf(StorageError);
    const nodeFiles = path.join(wd, '.nodefiles');
    const left = existsSync(nodeFiles) ? readdirSync(nodeFiles) : [];
    expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(left.filter((f) => f === 'localhost-40000')).toEqual([]);
  }, 60_000);

  it('a torn STAGE_IN line is taken back: the job runs at most once, and a reopened work directory says what the job was told', async () => {
    const wd = path.join(tmpfs(512 * 1024), 'w');
    mkdirSync(wd);
    const outside = tempDir('xw-ledger-');
    const ledger = path.join(outside, 'ledger');
    const hold = makeFifo(outside);
    const errors: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (msg: string) => void errors.push(msg),
    };
    // One core: the probe and the target wait behind the blocker, so only their records reach the journal.
    const e = executor({ workDirectory: wd, recover: false, logger, maxCores: 1 });
    const blocker = await e.submit({ executable: '/bin/sh', arguments: ['-c', `read _ < ${hold}`] });
    await blocker.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
    // Its ACTIVE line goes out with the turn's batch, maybe after the status: in the journal before measuring.
    await until(() => jobEntries(wd, blocker.nativeId!).some((l) => l.state === 'ACTIVE'), 30_000, 'the ACTIVE line');
    const spec = (n: number) => ({
      executable: '/bin/sh',
      arguments: ['-c', `echo target >> ${ledger}`, 'a'.repeat(n)],
      name: 'target',
    });
    // A probe of the same shape tells the record's size for a given padding.
    const targetFile = journalPath(wd, journalTagOf(blocker.nativeId!)!);
    const beforeProbe = statSync(targetFile).size;
    const probe = await e.submit(spec(5000));
    const probeSize = statSync(targetFile).size - beforeProbe;
    await probe.cancel(); // decided in its own `<id>.unstarted` file: the journal does not grow
    const base = statSync(targetFile).size;
    // The target's record ends the journal 30 bytes before a page boundary: its STAGE_IN line cannot fit whole.
    const padding = (((PAGE - 30 - ((base + probeSize) % PAGE)) % PAGE) + PAGE) % PAGE;
    const target = await e.submit(spec(5000 + padding));
    expect(statSync(targetFile).size % PAGE).toBe(PAGE - 30);
    const filler = fill(wd);
    await releaseFifo(hold); // the blocker ends; the target starts on a full disk
    await until(
      () => ledgerCount(ledger, 'target') > 0 || errors.some((m) => /final state/.test(m)),
      30_000,
      'the target to run or its start to fail',
    );
    const cut = readFileSync(targetFile, 'utf8');
    expect(cut.endsWith('\n')).toBe(true); // no torn tail: the partial line was taken back
    rmSync(filler);
    const told = await target.wait({ timeout: 30_000 });
    await e.close();
    const again = executor({ workDirectory: wd });
    const j = new Job();
    await again.attach(j, target.nativeId!);
    const reread = await j.wait({ timeout: 30_000 });
    expect(ledgerCount(ledger, 'target')).toBeLessThanOrEqual(1);
    expect(reread?.state).toBe(told?.state);
    // Its start could not be recorded: it never ran, and it says why.
    expect(told).toMatchObject({ state: 'FAILED' });
    expect(told?.message).toMatch(/disk is full/);
    expect(ledgerCount(ledger, 'target')).toBe(0);
  }, 90_000);
});
