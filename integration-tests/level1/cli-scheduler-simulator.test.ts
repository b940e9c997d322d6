// Level 1: the CLI over the pbs (PBS Pro and, detected from `qstat --version`, Torque), lsf, cobalt
// and flux executors, each on its scheduler simulator (test-only): `exaworks run --executor <name>`
// passes the job's output and exit code on, and `exaworks submit --script` hands an existing batch
// script over and `wait` tracks it. The CLI depends on every executor package it can run.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startSchedulerSimulator, type SimulatedScheduler } from '../simulators/simulator.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/exaworks.js');
const DIRECTIVE: Record<SimulatedScheduler, string> = {
  pbs: '#PBS -N handed',
  torque: '#PBS -N handed',
  lsf: '#BSUB -J handed',
  cobalt: '#COBALT -t 5',
  flux: '# flux: -n 1',
};

it('the CLI package depends on every batch executor package (the registry loads them by name)', () => {
  const manifest = JSON.parse(readFileSync(path.resolve(BIN, '../../package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const name of ['slurm', 'pbs', 'lsf', 'cobalt', 'flux'])
    expect(manifest.dependencies).toHaveProperty(`@exaworks/executors-${name}`);
});

describe.each(['pbs', 'torque', 'lsf', 'cobalt', 'flux'] as const)('exaworks CLI on the %s scheduler simulator', (scheduler) => {
  const sim = startSchedulerSimulator(scheduler, { slots: 2 });
  afterAll(() => sim.close());
  const work = mkdtempSync(path.join(os.tmpdir(), `exa-cli-${scheduler}-`));
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { ...process.env, ...sim.env }, cwd: work, timeout: 180_000 },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  // Torque is the pbs executor's other flavour, told apart by `qstat --version` (flavour "auto").
  const executor = scheduler === 'torque' ? 'pbs' : scheduler;
  const common = ['--executor', executor, '--work-dir', work, '--executor-config', '{"pollInterval":250,"initialPollDelay":50}'];

  it('runs a job and exits with its exit code, its output shown', { timeout: 240_000 }, async () => {
    const r = await cli(['run', ...common, '--', '/bin/sh', '-c', 'echo "hello from $0"; exit 3', scheduler]);
    expect(r.stdout).toContain(`hello from ${scheduler}`);
    expect(r.code).toBe(3);
    if (scheduler === 'torque') {
      // Detected, then queried in Torque's text format (PBS Pro's would be `-F json`).
      const qstat = sim.invocations('qstat');
      expect(qstat.some((i) => i.args[0] === '--version')).toBe(true);
      expect(qstat.some((i) => i.args.includes('-F'))).toBe(false);
    }
  });

  it('hands over an existing batch script with submit --script, and wait reports its end', { timeout: 240_000 }, async () => {
    const script = path.join(work, 'own.sh');
    writeFileSync(script, `#!/bin/sh\n${DIRECTIVE[scheduler]}\nexit 0\n`);
    chmodSync(script, 0o755);
    const sub = await cli(['submit', ...common, '--script', script]);
    expect(sub.code).toBe(0);
    const id = sub.stdout.trim();
    expect(id).not.toBe('');
    expect(sim.jobs().length).toBeGreaterThan(0);
    const w = await cli(['wait', ...common, '--timeout', '120', id]);
    expect(w.code).toBe(0);
  });
});
