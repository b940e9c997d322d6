// Level 2: Flux job ids as Flux prints them by default (F58 with `ƒ`, e.g. `ƒ2bB3uJ9d`) and in their
// ASCII form (`f2bB3uJ9d`), on the flux executor over the Flux scheduler simulator (test-only).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Job, JobState, ValidationError } from '@exaworks/jpsi-core';
import type { BatchExecutor } from '@exaworks/executors-batch';
import { createFluxExecutor } from '@exaworks/executors-flux';
import { startSchedulerSimulator } from '../simulators/simulator.js';

describe('Flux ids on the flux scheduler simulator', () => {
  const sim = startSchedulerSimulator('flux', { slots: 2 });
  sim.install();
  const work = mkdtempSync(path.join(os.tmpdir(), 'exa-flux-ids-'));
  const config = { workDirectory: work, pollInterval: 250, initialPollDelay: 50, commandTimeout: 60_000 };
  const executors: BatchExecutor[] = [];
  const make = () => {
    const ex = createFluxExecutor(config);
    executors.push(ex);
    return ex;
  };
  afterAll(async () => {
    for (const ex of executors) await ex.close();
    sim.close();
  });

  it('attaches to a job submitted with plain `flux batch` by the ƒ id Flux printed', { timeout: 120_000 }, async () => {
    const script = path.join(work, 'own.sh');
    writeFileSync(script, '#!/bin/sh\n# flux: -n 1\nexit 0\n');
    chmodSync(script, 0o755);
    const { FLUX_F58_FORCE_ASCII: _ascii, ...env } = process.env;
    const printed = execFileSync('flux', ['batch', script], { env, cwd: work, encoding: 'utf8' }).trim();
    expect(printed).toMatch(/^ƒ[1-9A-HJ-NP-Za-km-z]+$/);
    const job = new Job();
    await make().attach(job, printed);
    expect(job.nativeId).toBe(`f${printed.slice(1)}`);
    expect((await job.wait({ timeout: 60_000 }))?.state).toBe(JobState.COMPLETED);
  });

  it('finds an SDK job’s record by either form of its id', { timeout: 120_000 }, async () => {
    const ex = make();
    const job = await ex.submit({ executable: '/bin/sh', arguments: ['-c', 'exit 4'] });
    expect(job.nativeId).toMatch(/^f/);
    expect((await job.wait({ timeout: 60_000 }))?.state).toBe(JobState.FAILED);
    const again = new Job();
    await make().attach(again, `ƒ${job.nativeId!.slice(1)}`);
    expect(again.spec?.executable).toBe('/bin/sh');
    expect(again.status).toMatchObject({ state: JobState.FAILED, exitCode: 4 });
  });

  it('refuses ids with other characters, naming the field', { timeout: 30_000 }, async () => {
    const err = await make()
      .attach(new Job(), 'ƒ12;rm -rf')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toMatch(/nativeId/);
  });
});
