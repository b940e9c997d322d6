/**
 * Batch tracking over the scheduler simulator (test-only): one query command per poll for 100
 * active jobs (fewer where the run time matters more than the count: the polling is the base's), and a failing query command never produces a final state.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFinalState, JobState, type Job } from '@exaworks/jpsi-core';
import type { BatchExecutor, BatchExecutorConfigInput } from '@exaworks/executors-batch';
import { createCobaltExecutor } from '@exaworks/executors-cobalt';
import { createFluxExecutor } from '@exaworks/executors-flux';
import { createLsfExecutor } from '@exaworks/executors-lsf';
import { createPbsExecutor } from '@exaworks/executors-pbs';
import { startSchedulerSimulator, type SimulatedScheduler } from '../../simulators/simulator.js';

const CREATE: Record<SimulatedScheduler, (c: BatchExecutorConfigInput) => BatchExecutor | Promise<BatchExecutor>> = {
  pbs: (c) => createPbsExecutor({ ...c, flavour: 'pro' }),
  torque: (c) => createPbsExecutor({ ...c, flavour: 'torque' }),
  lsf: createLsfExecutor,
  cobalt: createCobaltExecutor,
  flux: createFluxExecutor,
};
const QUERY: Record<SimulatedScheduler, string> = { pbs: 'qstat', torque: 'qstat', lsf: 'bjobs', cobalt: 'qstat', flux: 'jobs' };

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

/** Registers the tracking suite for one simulated scheduler (one per test file: it owns PATH). */
export function batchPollingSuite(scheduler: SimulatedScheduler, jobCount = 100): void {
  describe(`batch tracking on the ${scheduler} scheduler simulator`, () => {
    const sim = startSchedulerSimulator(scheduler, { slots: 4 });
    sim.install();
    let ex: BatchExecutor;
    const created = CREATE[scheduler]({
      workDirectory: mkdtempSync(path.join(os.tmpdir(), `exa-poll-${scheduler}-`)),
      pollInterval: 300,
      initialPollDelay: 50,
      maxPollBackoff: 600,
      // A busy 2-core machine (and 100 node processes) can make one simulated command slow.
      commandTimeout: 120_000,
    });
    const jobs: Job[] = [];
    beforeAll(async () => {
      ex = await created;
    });
    afterAll(async () => {
      await ex?.close();
      sim.close();
    });

    let gate: string;
    let gated: Job;

    it(`asks the scheduler once per poll about all ${jobCount + 1} active jobs`, { timeout: 600_000 }, async () => {
      // First a job that holds its slot until the test opens a FIFO (it ends during the outage below).
      gate = path.join(mkdtempSync(path.join(os.tmpdir(), 'exa-poll-gate-')), 'gate');
      execFileSync('mkfifo', [gate]);
      gated = await ex.submit({ executable: '/bin/sh', arguments: ['-c', `read x < '${gate}'`] });
      for (let i = 0; i < jobCount / 5; i++) {
        jobs.push(
          ...(await Promise.all(Array.from({ length: 5 }, () => ex.submit({ executable: '/bin/sleep', arguments: ['600'] })))),
        );
      }
      const ids = [gated, ...jobs].map((j) => j.nativeId!);
      expect(new Set(ids).size).toBe(jobCount + 1);
      await ex.pollNow();
      const before = { log: sim.invocations(QUERY[scheduler]).length, polls: ex.pollStats.queries };
      expect(await until(() => ex.pollStats.queries >= before.polls + 3, 60_000)).toBe(true);
      await ex.pollNow();
      const after = { log: sim.invocations(QUERY[scheduler]), polls: ex.pollStats.queries };
      const queries = after.log.slice(before.log);
      // One scheduler query per poll, each naming every active job.
      expect(queries.length).toBe(after.polls - before.polls);
      for (const q of queries) for (const id of ids) expect(q.args).toContain(id);
      expect(jobs.every((j) => j.status.state === JobState.QUEUED || j.status.state === JobState.ACTIVE)).toBe(true);
      expect(await gated.wait({ targetStates: [JobState.ACTIVE], timeout: 60_000 })).toMatchObject({ state: JobState.ACTIVE });
    });

    it('keeps every job’s last state while the query command fails, then decides from fresh answers', {
      timeout: 300_000,
    }, async () => {
      sim.failQueries('cannot connect to the scheduler (simulated outage)');
      const failures = ex.pollStats.failures;
      const seen: string[] = [];
      gated.onStatus((_j, s) => seen.push(s.state));
      // The job itself ends while nobody can ask the scheduler about it.
      writeFileSync(gate, 'go\n');
      expect(await until(() => sim.jobs().some((j) => j.id === gated.nativeId && j.state === 'finished'), 60_000)).toBe(true);
      expect(await until(() => ex.pollStats.failures >= failures + 3, 60_000)).toBe(true);
      expect(isFinalState(gated.status.state)).toBe(false);
      expect(seen.some((s) => isFinalState(s as JobState))).toBe(false);
      expect(jobs.every((j) => !isFinalState(j.status.state))).toBe(true);
      expect(ex.tracking(gated)?.problem ?? '').toMatch(/simulated outage|exit status|failed/i);
      sim.failQueries(undefined);
      expect(await gated.wait({ timeout: 60_000 })).toMatchObject({ state: JobState.COMPLETED, exitCode: 0 });
    });
  });
}
