import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { InsecureDirectoryError, Job, shellQuote } from '@exaworks/jpsi-core';
import { LocalJobInspector } from './inspect.js';
import { LocalExecutor } from './executor.js';
import { RECORD_FORMAT } from './store.js';
import { makeFifo, releaseFifo, tempDir, useExecutors } from './test-support/helpers.js';
import { asOtherUser, ensureOtherUser, otherUserUnavailable } from './test-support/other-user.js';

const executor = useExecutors({ maxCores: 1, pollInterval: 50 });
const shared: string[] = [];
afterAll(() => {
  for (const d of shared) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory directly under /tmp (so the second user can reach it), owned by us. */
function sharedDir(): string {
  const d = mkdtempSync('/tmp/xw-shared-');
  shared.push(d);
  return d;
}

/** A job record as the local executor writes it, owned by a dead executor: the next one would adopt and run it. */
function plantedRecord(nativeId: string, marker: string): string {
  return `${JSON.stringify({
    format: RECORD_FORMAT,
    nativeId,
    jobId: 'planted',
    submittedAt: new Date().toISOString(),
    cwd: '/tmp',
    cores: 1,
    owner: { id: '999999-1-0', pid: 999999, startTime: '1' },
    spec: { executable: '/bin/touch', arguments: [marker] },
  })}\n`;
}

const unavailable = otherUserUnavailable();
if (unavailable !== undefined && process.env.CI) throw new Error(`the shared-directory tests must run in CI: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(
  `LocalExecutor: work directories another user can write (${unavailable ?? 'a second real user'})`,
  () => {
    it('refuses a work directory owned by another user: a record planted there is never run as us (executor, inspector)', async () => {
      const { uid, gid } = ensureOtherUser();
      const root = sharedDir();
      chmodSync(root, 0o777);
      const work = path.join(root, 'w');
      const marker = path.join(root, 'pwned');
      // The other user makes the directory the victim will name, and plants a job in it.
      asOtherUser(
        `mkdir -m 700 ${shellQuote(work)} ${shellQuote(`${work}/.journal`)} && printf '%s' ${shellQuote(plantedRecord('0planted-1-00000', marker))} > ${shellQuote(`${work}/.journal/1.jsonl`)}`,
      );
      expect(statSync(work).uid).toBe(uid);
      let error: unknown;
      try {
        const e = new LocalExecutor({ workDirectory: work, pollInterval: 50 });
        await e.ready();
        await new Promise((r) => setTimeout(r, 500));
        await e.close();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InsecureDirectoryError);
      expect((error as InsecureDirectoryError).code).toBe('EXAWORKS_INSECURE_DIRECTORY');
      expect((error as InsecureDirectoryError).path).toBe(work);
      expect((error as Error).message).toContain(`owned by uid ${uid}, not by you (uid 0)`);
      expect(() => new LocalJobInspector(work)).toThrow(InsecureDirectoryError);
      expect(existsSync(marker)).toBe(false);
      expect(gid).toBeGreaterThan(0);
    });

    it('refuses a work directory of ours that others can write (/tmp/w made 1777): a planted record is never run', async () => {
      ensureOtherUser();
      const root = sharedDir();
      chmodSync(root, 0o777);
      const work = path.join(root, 'w');
      mkdirSync(work);
      chmodSync(work, 0o1777); // as `mkdir /tmp/w; chmod 1777` for a team
      const marker = path.join(root, 'pwned');
      asOtherUser(
        `mkdir ${shellQuote(`${work}/.journal`)} && printf '%s' ${shellQuote(plantedRecord('0planted-2-00000', marker))} > ${shellQuote(`${work}/.journal/2.jsonl`)}`,
      );
      expect(() => new LocalExecutor({ workDirectory: work })).toThrow(/writable by others \(mode 1777\)/);
      expect(existsSync(marker)).toBe(false);
      chmodSync(work, 0o770);
      expect(() => new LocalExecutor({ workDirectory: work })).toThrow(/writable by its group \(mode 0770\)/);
      // Once it is private again it is trusted; the planted record, owned by the other user, is still only a file.
      chownSync(path.join(work, '.journal', '2.jsonl'), 0, 0);
      rmSync(path.join(work, '.journal'), { recursive: true });
      chmodSync(work, 0o700);
      const e = new LocalExecutor({ workDirectory: work });
      await e.close();
    });
  },
);

describe('LocalExecutor: private files', () => {
  it('creates a missing work directory 0700 and every per-job file 0600', async () => {
    const work = path.join(tempDir('xw-private-'), 'a', 'work');
    const e = executor({ workDirectory: work, keepFiles: true });
    expect(statSync(work).mode & 0o777).toBe(0o700);
    const job = await e.submit(new Job({ executable: '/bin/sh', arguments: ['-c', 'exit 3'] }));
    expect((await job.wait({ timeout: 30_000 }))?.exitCode).toBe(3);
    for (const kind of ['result', 'sh']) {
      expect([kind, statSync(path.join(work, `${job.nativeId}.${kind}`)).mode & 0o777]).toEqual([kind, 0o600]);
    }
    // The journal holding its record (and environment), and the directories beside the jobs.
    const journal = path.join(work, '.journal', `${job.nativeId!.split('-')[1]}.jsonl`);
    expect(statSync(journal).mode & 0o777).toBe(0o600);
    for (const dir of ['.journal', '.owners', '.agents'])
      expect([dir, statSync(path.join(work, dir)).mode & 0o777]).toEqual([dir, 0o700]);
  });

  it('never writes through a <id>.result symlink found in the work directory: the job still ends as its process did', async () => {
    const dir = tempDir('xw-planted-');
    // Jobs run through their scripts (python3 "missing"): the job script is what writes `<id>.result`.
    LocalExecutor.agentOptions = { python: '/no/such/python3' };
    onTestFinished(() => {
      LocalExecutor.agentOptions = {};
    });
    const e = executor();
    const hold = makeFifo(dir);
    // The first job holds the one core, so the second waits in the queue with its native id known.
    const first = await e.submit(new Job({ executable: '/bin/sh', arguments: ['-c', `read _ < ${shellQuote(hold)}`] }));
    const second = await e.submit(new Job({ executable: '/bin/sh', arguments: ['-c', 'exit 4'] }));
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const link = path.join(e.workDirectory, `${second.nativeId}.result`);
    symlinkSync(victim, link);
    await releaseFifo(hold);
    expect((await first.wait({ timeout: 30_000 }))?.state).toBe('COMPLETED');
    const status = await second.wait({ timeout: 30_000 });
    expect(status?.state).toBe('FAILED');
    expect(status?.exitCode).toBe(4);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});
