/**
 * Staging on the batch executors over the scheduler simulator (test-only): stage-in, stage-out
 * and cleanup done by the submit script under PSI/J's modes and flags, seen through the Job API.
 */
import { existsSync, lstatSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getExecutor, type JobExecutor, type JobState } from '@exaworks/jpsi-core';
import { startSchedulerSimulator, type SimulatedScheduler } from '../../simulators/simulator.js';

/** Registers the staging suite for one simulated scheduler (one per test file: it owns PATH). */
export function batchStagingSuite(scheduler: SimulatedScheduler): void {
  describe(`staging on the ${scheduler} scheduler simulator`, () => {
    const sim = startSchedulerSimulator(scheduler, { slots: 2 });
    sim.install();
    const root = mkdtempSync(path.join(os.tmpdir(), `exa-stage-${scheduler}-`));
    let ex: JobExecutor | undefined;
    const executor = async () => {
      // Torque is the pbs executor's other flavour (detected from `qstat --version`).
      ex ??= await getExecutor(scheduler === 'torque' ? 'pbs' : scheduler, {
        workDirectory: path.join(root, 'work'),
        pollInterval: 250,
        initialPollDelay: 50,
      });
      return ex;
    };
    afterAll(async () => {
      await ex?.close();
      sim.close();
    });

    it('stages in (COPY, LINK), stages out on success (MOVE, IF_PRESENT skips) and cleans up', { timeout: 180_000 }, async () => {
      const src = path.join(root, 'input.txt');
      writeFileSync(src, 'payload\n');
      const jobDir = mkdtempSync(path.join(root, 'job dir '));
      const results = path.join(root, 'results');
      const seen: JobState[] = [];
      const job = await (await executor()).submit({
        executable: '/bin/sh',
        arguments: ['-c', 'cat in/copy.txt linked.txt > out.txt; mkdir scratch; echo tmp > scratch/t'],
        directory: jobDir,
        stageIn: [
          { source: src, target: 'in/copy.txt', mode: 'COPY' },
          { source: `file://${src}`, target: 'linked.txt', mode: 'LINK' },
        ],
        stageOut: [
          { source: 'out.txt', target: path.join(results, 'out.txt'), mode: 'MOVE', flags: ['ON_SUCCESS'] },
          { source: 'absent.txt', target: path.join(results, 'absent.txt'), mode: 'COPY', flags: ['IF_PRESENT', 'ALWAYS'] },
          { source: 'in/copy.txt', target: path.join(results, 'on-error.txt'), mode: 'COPY', flags: ['ON_ERROR'] },
        ],
        cleanup: ['scratch'],
      });
      job.onStatus((_j, s) => seen.push(s.state));
      const status = await job.wait({ timeout: 120_000 });
      expect(status).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
      expect(readFileSync(path.join(results, 'out.txt'), 'utf8')).toBe('payload\npayload\n');
      expect(existsSync(path.join(jobDir, 'out.txt'))).toBe(false);
      expect(lstatSync(path.join(jobDir, 'linked.txt')).isSymbolicLink()).toBe(true);
      expect(existsSync(path.join(results, 'absent.txt'))).toBe(false);
      expect(existsSync(path.join(results, 'on-error.txt'))).toBe(false);
      expect(existsSync(path.join(jobDir, 'scratch'))).toBe(false);
      expect(seen.slice(-3)).toEqual(['STAGE_OUT', 'CLEANUP', 'COMPLETED']);
    });

    it('fails a job whose stage-in source is missing without running it, and one whose stage-out source is missing', {
      timeout: 180_000,
    }, async () => {
      const ran = path.join(root, 'ran');
      const noInput = await (await executor()).submit({
        executable: '/bin/touch',
        arguments: [ran],
        stageIn: [{ source: path.join(root, 'no-such-file'), target: 'x', mode: 'COPY' }],
      });
      const s1 = await noInput.wait({ timeout: 120_000 });
      expect(s1?.state).toBe('FAILED');
      expect(s1?.message ?? '').toMatch(/stage-in/);
      expect(existsSync(ran)).toBe(false);
      const noOutput = await (await executor()).submit({
        executable: '/bin/true',
        directory: mkdtempSync(path.join(root, 'job-')),
        stageOut: [{ source: 'never-written.txt', target: path.join(root, 'never.txt'), mode: 'COPY' }],
      });
      const s2 = await noOutput.wait({ timeout: 120_000 });
      expect(s2?.state).toBe('FAILED');
      expect(s2?.message ?? '').toMatch(/stage-out/);
    });
  });
}
