// Jobs whose executor is gone: walltime and the SIGKILL after a SIGTERM still hold, adopted jobs
// count against maxCores, canceling starts nothing, and an exit that came first beats a cancel.
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, JobState } from '@exaworks/jpsi-core';
import type { LocalExecutor, LocalExecutorConfigInput } from './index.js';
import { readExecAgentJournal } from './exec-agent.js';
import { groupExists } from './proc.js';
import { jobEntries, makeFifo, releaseFifo, runChild, tempDir, until, useExecutors } from './test-support/helpers.js';

const makeExecutor = useExecutors({ maxCores: 2, killGracePeriod: 300, pollInterval: 50 });
const executor = (workDirectory: string, config: LocalExecutorConfigInput = {}): LocalExecutor =>
  makeExecutor({ workDirectory, ...config });

/** The pid (= process group) recorded on a job's ACTIVE line. */
function activePid(wd: string, id: string): number | undefined {
  for (const line of jobEntries(wd, id).slice(1) as { state?: string; pid?: number }[]) {
    if (line.state === 'ACTIVE' && line.pid !== undefined) return line.pid;
  }
  return undefined;
}

/** Lets readers of the FIFO that are there now go, without blocking when there is none. */
function tryRelease(fifo: string): void {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return; // no reader yet (ENXIO)
  }
  try {
    writeSync(fd, 'go\n');
  } finally {
    closeSync(fd);
  }
}

function ledgerLines(ledger: string): string[] {
  return existsSync(ledger) ? readFileSync(ledger, 'utf8').split('\n').filter(Boolean) : [];
}

describe('LocalExecutor: jobs whose executor is gone', () => {
  it('a job past its walltime is killed by itself after its submitter exited, and reads FAILED for walltime', async () => {
    const wd = tempDir();
    const hold = makeFifo(tempDir('xw-hold-'));
    // Held on a FIFO: it can only end by being killed (or by the release at the end, on failure).
    const spec = { executable: '/bin/sh', arguments: ['-c', `read _ < ${hold}`], attributes: { duration: 1 } };
    const out = (await runChild({ op: 'submit', workDirectory: wd, specs: [spec], waitActive: true })) as { ids: string[] };
    const id = out.ids[0]!;
    const pid = activePid(wd, id)!;
    expect(pid).toBeGreaterThan(0);
    try {
      await until(() => !groupExists(pid), 20_000, 'the job to kill itself at its walltime');
    } finally {
      if (groupExists(pid)) await releaseFifo(hold);
    }
    const e = executor(wd);
    const j = new Job();
    await e.attach(j, id);
    const status = await j.wait({ timeout: 20_000 });
    expect(status).toMatchObject({ state: 'FAILED', reason: 'walltime' });
    expect(status?.message).toMatch(/exceeded its walltime of 1 s/);
  }, 60_000);

  it('a job that ignores SIGTERM is SIGKILLed after the grace period although its executor closed right after the cancel', async () => {
    const wd = tempDir();
    // A grace period the close surely beats: the executor's own SIGKILL timer never fires.
    const first = executor(wd, { killGracePeriod: 3000 });
    // The whole job ignores SIGTERM (sleep inherits the ignore).
    const job = await first.submit({ executable: '/bin/sh', arguments: ['-c', "trap '' TERM; sleep 600"] });
    await job.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
    const pid = activePid(wd, job.nativeId!)!;
    await first.cancel(job);
    await first.close(); // the executor's own SIGKILL timer dies with it
    await until(() => !groupExists(pid), 20_000, 'the SIGKILL after the grace period');
    const e = executor(wd);
    const j = new Job();
    await e.attach(j, job.nativeId!);
    expect(await j.wait({ timeout: 20_000 })).toMatchObject({ state: 'CANCELED' });
  }, 60_000);

  it('adopted running jobs count against maxCores: no more than maxCores run at once after an adoption', async () => {
    const wd = tempDir();
    const dir = tempDir('xw-cores-');
    const ledger = path.join(dir, 'ledger');
    const hold = makeFifo(dir);
    const spec = (name: string) => ({
      executable: '/bin/sh',
      arguments: ['-c', `echo ${name} >> ${ledger}; read _ < ${hold} || true`],
      name,
    });
    const first = executor(wd, { maxCores: 2 });
    const jobs = [];
    for (const name of ['r1', 'r2', 'q1', 'q2']) jobs.push(await first.submit(spec(name)));
    await jobs[1]!.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
    await jobs[0]!.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
    await first.close(); // r1, r2 run on; q1, q2 wait
    const e = executor(wd, { maxCores: 2 });
    await e.ready();
    // Many poll intervals: the queued orphans must not start while the two adopted ones hold the cores.
    await new Promise((r) => setTimeout(r, 1000));
    expect(ledgerLines(ledger).sort()).toEqual(['r1', 'r2']);
    expect(e.usedCores).toBe(2);
    // Then they all run, once each.
    const views = jobs.map((j) => ({ v: new Job(), id: j.nativeId! }));
    for (const { v, id } of views) await e.attach(v, id);
    await until(
      () => {
        tryRelease(hold);
        return views.every(({ v }) => v.status.state === 'COMPLETED' || v.status.state === 'FAILED');
      },
      60_000,
      'every job to end',
    );
    for (const { v } of views) expect(v.status.state).toBe('COMPLETED');
    expect(ledgerLines(ledger).sort()).toEqual(['q1', 'q2', 'r1', 'r2']);
  }, 90_000);

  it('canceling a queued orphan (recover and adopt off, as `exaworks cancel` opens it) never starts it nor any other orphan', async () => {
    const wd = tempDir();
    const dir = tempDir('xw-cancel-');
    const ledger = path.join(dir, 'ledger');
    const hold = makeFifo(dir);
    const first = executor(wd, { maxCores: 1 });
    const blocker = await first.submit({ executable: '/bin/sh', arguments: ['-c', `read _ < ${hold}`] });
    const q1 = await first.submit({ executable: '/bin/sh', arguments: ['-c', `echo q1 >> ${ledger}`] });
    const q2 = await first.submit({ executable: '/bin/sh', arguments: ['-c', `echo q2 >> ${ledger}`] });
    await blocker.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
    await first.close();
    await releaseFifo(hold); // the blocker ends: cores would be free for an adopter
    await until(() => {
      const pid = activePid(wd, blocker.nativeId!);
      return pid !== undefined && !groupExists(pid);
    }, 20_000);
    const canceller = executor(wd, { recover: false, adopt: false, maxCores: 4 });
    const j = new Job();
    await canceller.attach(j, q1.nativeId!);
    await canceller.cancel(j);
    expect(await j.wait({ timeout: 20_000 })).toMatchObject({ state: 'CANCELED' });
    expect(j.history.map((s) => s.state)).toEqual(['NEW', 'QUEUED', 'CANCELED']);
    const other = new Job();
    await canceller.attach(other, q2.nativeId!);
    await new Promise((r) => setTimeout(r, 500));
    expect(other.status.state).toBe('QUEUED'); // watched, not adopted, not started
    await canceller.close();
    expect(ledgerLines(ledger)).toEqual([]);
    // A later adopter runs the other orphan, once, and leaves the canceled one alone.
    const e = executor(wd);
    const again = new Job();
    await e.attach(again, q2.nativeId!);
    expect((await again.wait({ timeout: 30_000 }))?.state).toBe('COMPLETED');
    expect(ledgerLines(ledger)).toEqual(['q2']);
  }, 90_000);

  it('an exit that came before the cancel wins: COMPLETED, not CANCELED with exit code 0', async () => {
    const e = executor(tempDir(), { recover: false });
    const hold = makeFifo(tempDir('xw-hold-'));
    const job = await e.submit({ executable: '/bin/sh', arguments: ['-c', `read _ < ${hold}`] });
    await job.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
    // Let it go from another process, then block this event loop until the job has written its
    // result, so the cancel below lands before this process has heard of the exit (the window
    // where 4 of 738 went wrong).
    spawn('/bin/sh', ['-c', `echo go > ${hold}`], { stdio: 'ignore' }).unref();
    // Its end is recorded where the executor will read it: the exec agent's journal (a shell-free job).
    const agents = path.join(e.workDirectory, '.agents');
    const ended = () =>
      readdirSync(agents)
        .filter((f) => f.endsWith('.exec'))
        .some((f) => readExecAgentJournal(path.join(agents, f), job.nativeId!).status !== undefined);
    const end = Date.now() + 20_000;
    while (!ended() && Date.now() < end) {
      // busy wait on purpose
    }
    expect(ended()).toBe(true);
    expect(job.status.state).toBe('ACTIVE');
    await e.cancel(job);
    expect(await job.wait({ timeout: 20_000 })).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
  }, 60_000);
});
