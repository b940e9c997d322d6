// Level 2: what the batch base keeps in its work directory, on the pbs executor's Torque flavour over
// the Torque scheduler simulator (test-only). Torque does not say that a job was deleted (no substate
// like PBS Pro's 91), so a cancel is known only from the executor's own marker and record:
// - a cancel from a second executor is CANCELED in the first one too, whichever decides first;
// - list() also returns jobs the scheduler has forgotten, with their recorded final state;
// - a crash between the scheduler accepting a job and the record write loses nothing.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Job, JobState, isFinalState } from '@exaworks/jpsi-core';
import type { BatchExecutor, BatchJobRecord } from '@exaworks/executors-batch';
import { createPbsExecutor } from '@exaworks/executors-pbs';
import { startSchedulerSimulator } from '../simulators/simulator.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

async function until(pred: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

describe('batch records on the Torque scheduler simulator', () => {
  // Finished jobs stay in `qstat` for 3 s (Torque's keep_completed), then Torque forgets them.
  const sim = startSchedulerSimulator('torque', { slots: 4, historySeconds: 3 });
  sim.install();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'exa-records-torque-'));
  const executors: BatchExecutor[] = [];
  const make = async (workDirectory: string, pollInterval = 250) => {
    const ex = await createPbsExecutor({
      workDirectory,
      flavour: 'auto',
      pollInterval,
      initialPollDelay: 50,
      commandTimeout: 60_000,
    });
    executors.push(ex);
    return ex;
  };
  afterAll(async () => {
    for (const ex of executors) await ex.close();
    sim.close();
  });

  it('detects Torque from `qstat --version`', { timeout: 60_000 }, async () => {
    const ex = await make(path.join(tmp, 'detect'));
    expect(ex.adapter.stateMap.C).toBeDefined();
  });

  it('a cancel from a second executor is CANCELED in the first one, though Torque only reports "completed"', {
    timeout: 120_000,
  }, async () => {
    const work = path.join(tmp, 'cancel');
    // The first executor polls rarely, so the second one decides (and tidies up) first: the race that lost the marker.
    const first = await make(work, 3_600_000);
    const job = await first.submit({ executable: '/bin/sleep', arguments: ['600'] });
    const id = job.nativeId!;
    expect(await until(() => sim.jobs().some((j) => j.id === id && j.state === 'running' && j.pid !== null), 60_000)).toBe(true);

    const second = await make(work);
    const other = new Job();
    await second.attach(other, id);
    await other.cancel();
    const seen = await other.wait({ timeout: 60_000 });
    expect(seen?.state).toBe(JobState.CANCELED);
    // What Torque itself says: completed, with the script's exit status (143 after the TERM).
    const out = execFileSync('qstat', ['-f', id], { encoding: 'utf8' });
    expect(out).toMatch(/job_state = C/);
    expect(out).toMatch(/exit_status = 143/);
    // The second executor recorded the end and only then removed the marker.
    const record = JSON.parse(readFileSync(path.join(work, `${id}.job`), 'utf8')) as BatchJobRecord;
    expect(record.final?.state).toBe(JobState.CANCELED);
    expect(await until(() => !readdirSync(work).some((f) => f.endsWith('.cancel')), 10_000)).toBe(true);

    await first.pollNow();
    for (let i = 0; i < 3 && !isFinalState(job.status.state); i++) await first.pollNow();
    expect(job.status.state).toBe(JobState.CANCELED);
  });

  it('several Job objects attached to one native id all follow it, the late one replaying what it missed', {
    timeout: 120_000,
  }, async () => {
    const ex = await make(path.join(tmp, 'handles'));
    const heard: string[] = [];
    ex.onStatus((j, status) => heard.push(`${j.id}:${status.state}`));
    const job = await ex.submit({ executable: '/bin/sh', arguments: ['-c', 'exit 3'] });
    const id = job.nativeId!;
    const early = new Job();
    await ex.attach(early, id);
    expect((await job.wait({ timeout: 60_000 }))?.state).toBe(JobState.FAILED);
    // Bound while the job was tracked, or after it ended (then from its record): both end FAILED 3.
    const late = new Job();
    await ex.attach(late, id);
    for (const handle of [job, early, late]) {
      const status = await handle.wait({ timeout: 60_000 });
      expect(status?.state).toBe(JobState.FAILED);
      expect(status?.exitCode).toBe(3);
    }
    expect(early.history.map((s) => s.state)).toEqual(job.history.map((s) => s.state));
    // Executor listeners heard the end once about the Job that submitted it, and never about the extra handle.
    expect(heard.filter((h) => h === `${job.id}:${JobState.FAILED}`)).toHaveLength(1);
    expect(heard.filter((h) => h.startsWith(`${early.id}:`))).toEqual([]);
  });

  it('list() returns jobs Torque has forgotten, with their recorded final state, once each', { timeout: 120_000 }, async () => {
    const work = path.join(tmp, 'list');
    const ex = await make(work);
    const ok = await ex.submit({ executable: '/bin/true' });
    const bad = await ex.submit({ executable: '/bin/sh', arguments: ['-c', 'exit 7'] });
    expect((await ok.wait({ timeout: 60_000 }))?.state).toBe(JobState.COMPLETED);
    expect((await bad.wait({ timeout: 60_000 }))?.state).toBe(JobState.FAILED);
    const ids = [ok.nativeId!, bad.nativeId!];
    // Torque forgets them after keep_completed: qstat no longer knows either id.
    expect(
      await until(() => {
        try {
          execFileSync('qstat', ['-f', ...ids], { stdio: 'pipe' });
          return false;
        } catch (e) {
          return (
            (e as { status?: number }).status === 153 && !String((e as { stdout?: unknown }).stdout ?? '').includes('Job Id')
          );
        }
      }, 60_000),
    ).toBe(true);
    const fresh = await make(work);
    const listed = await fresh.listJobs();
    const names = listed.map((e) => e.nativeId);
    expect(new Set(names).size).toBe(names.length);
    expect(listed.find((e) => e.nativeId === ok.nativeId)).toMatchObject({ state: JobState.COMPLETED, listedByScheduler: false });
    expect(listed.find((e) => e.nativeId === bad.nativeId)).toMatchObject({
      state: JobState.FAILED,
      final: { exitCode: 7 },
      listedByScheduler: false,
    });
    expect(await fresh.list()).toEqual(expect.arrayContaining(ids));
    // And attach gives the recorded end, not a guess about a job the scheduler no longer knows.
    const again = new Job();
    await fresh.attach(again, bad.nativeId!);
    expect(again.status).toMatchObject({ state: JobState.FAILED, exitCode: 7 });
  });

  it('a list() elsewhere while a submit waits for qsub’s answer takes over the intent, and the submit still succeeds', {
    timeout: 180_000,
  }, async () => {
    const work = path.join(tmp, 'inflight');
    const wrap = path.join(tmp, 'wrap-inflight');
    mkdirSync(wrap, { recursive: true });
    const fifo = path.join(tmp, 'inflight.fifo');
    execFileSync('mkfifo', [fifo]);
    const accepted = path.join(tmp, 'inflight.accepted');
    writeFileSync(
      path.join(wrap, 'qsub'),
      `#!/bin/sh\nout=$(${JSON.stringify(path.join(sim.binDir, 'qsub'))} "$@") || exit $?\nprintf '%s\\n' "$out" > ${JSON.stringify(accepted)}\nread _ < ${JSON.stringify(fifo)}\nprintf '%s\\n' "$out"\n`,
    );
    chmodSync(path.join(wrap, 'qsub'), 0o755);
    const submitter = await make(work);
    const saved = process.env.PATH;
    process.env.PATH = `${wrap}${path.delimiter}${saved ?? ''}`;
    try {
      const pending = submitter.submit({ executable: '/bin/true' });
      expect(await until(() => existsSync(accepted), 90_000)).toBe(true);
      const id = readFileSync(accepted, 'utf8').trim();
      const other = await make(work);
      expect(await other.list()).toContain(id);
      expect(readdirSync(work).filter((f) => f.endsWith('.intent'))).toHaveLength(0);
      writeFileSync(fifo, 'go\n');
      const job = await pending;
      expect(job.nativeId).toBe(id);
      expect((await job.wait({ timeout: 60_000 }))?.state).toBe(JobState.COMPLETED);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('a crash after qsub accepted the job but before the record was written loses nothing', { timeout: 180_000 }, async () => {
    const work = path.join(tmp, 'crash');
    mkdirSync(work, { recursive: true });
    // A qsub wrapper first on PATH: the real (simulated) qsub accepts the job, then the wrapper
    // holds its answer on a FIFO the test never opens, so the submitting process is killed in the window.
    const wrap = path.join(tmp, 'wrap-bin');
    mkdirSync(wrap, { recursive: true });
    const fifo = path.join(tmp, 'hold.fifo');
    execFileSync('mkfifo', [fifo]);
    const accepted = path.join(tmp, 'accepted');
    writeFileSync(
      path.join(wrap, 'qsub'),
      `#!/bin/sh\nout=$(${JSON.stringify(path.join(sim.binDir, 'qsub'))} "$@") || exit $?\nprintf '%s\\n' "$out" > ${JSON.stringify(accepted)}\nread _ < ${JSON.stringify(fifo)}\nprintf '%s\\n' "$out"\n`,
    );
    chmodSync(path.join(wrap, 'qsub'), 0o755);
    const out = path.join(tmp, 'crash.out');
    const child = spawn(
      process.execPath,
      [path.join(HERE, 'batch-records/submit-child.mjs'), 'pbs', JSON.stringify({ workDirectory: work, flavour: 'torque' })],
      {
        env: {
          ...process.env,
          PATH: `${wrap}${path.delimiter}${process.env.PATH ?? ''}`,
          EXA_CHILD_SPEC: JSON.stringify({ executable: '/bin/sh', arguments: ['-c', 'echo survived; exit 0'], stdoutPath: out }),
        },
        stdio: 'ignore',
      },
    );
    const exited = new Promise((r) => child.on('exit', r));
    expect(await until(() => existsSync(accepted), 90_000)).toBe(true);
    const id = readFileSync(accepted, 'utf8').trim();
    child.kill('SIGKILL');
    await exited;
    // In the window: an intent, no record.
    expect(readdirSync(work).filter((f) => f.endsWith('.intent'))).toHaveLength(1);
    expect(existsSync(path.join(work, `${id}.job`))).toBe(false);

    const ex = await make(work);
    expect(await ex.list()).toContain(id);
    expect(existsSync(path.join(work, `${id}.job`))).toBe(true);
    const job = new Job();
    await ex.attach(job, id);
    expect(job.spec?.executable).toBe('/bin/sh');
    const status = await job.wait({ timeout: 90_000 });
    expect(status).toMatchObject({ state: JobState.COMPLETED, exitCode: 0 });
    expect(readFileSync(out, 'utf8')).toBe('survived\n');
    // Let the orphaned wrapper finish (it still waits on the FIFO).
    writeFileSync(fifo, 'go\n');
  });
});
