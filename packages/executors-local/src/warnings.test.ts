// What the local executor cannot do as asked is said, not silently dropped; mpirun placement under it, for real.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job, JobState, type JobSpecInput, type JobStatus, type LogFields, type Logger } from '@exaworks/jpsi-core';
import { tempDir, useExecutors } from './test-support/helpers.js';

interface Line {
  level: string;
  message: string;
  fields: LogFields | undefined;
}
function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => lines.push({ level, message, fields });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const executor = useExecutors({ maxCores: 2, killGracePeriod: 500, pollInterval: 50 });

async function submitAndWait(spec: JobSpecInput, logger: Logger): Promise<{ job: Job; statuses: JobStatus[]; final: JobStatus }> {
  const e = executor({ logger });
  const job = new Job(spec);
  const statuses: JobStatus[] = [];
  job.onStatus((_j, s) => statuses.push(s));
  await e.submit(job);
  const final = (await job.wait({ timeout: 60_000 }))!;
  return { job, statuses, final };
}

describe('LocalExecutor: no silent ignoring', () => {
  it('warns (log line and QUEUED message) when single is asked for 4 processes', async () => {
    const { logger, lines } = recordingLogger();
    const { job, statuses, final } = await submitAndWait({ executable: '/bin/true', resources: { processCount: 4 } }, logger);
    expect(final.state).toBe(JobState.COMPLETED);
    const warn = lines.filter((l) => l.level === 'warn');
    expect(warn).toEqual([
      {
        level: 'warn',
        message:
          'the spec asks for 4 processes, but the single launcher starts one; set launcher "multiple" or "mpirun" to start 4',
        fields: { nativeId: job.nativeId, jobId: job.id },
      },
    ]);
    expect(statuses.find((s) => s.state === JobState.QUEUED)?.message).toMatch(/^Warning: the spec asks for 4 processes/);
  }, 30_000);

  it('warns about queueName, account, reservationId and custom attributes not prefixed local.', async () => {
    const { logger, lines } = recordingLogger();
    const { statuses } = await submitAndWait(
      {
        executable: '/bin/true',
        attributes: {
          duration: 30,
          queueName: 'debug',
          account: 'proj1',
          reservationId: 'r1',
          customAttributes: { 'slurm.constraint': 'haswell', 'local.anything': 1 },
        },
      },
      logger,
    );
    const expected =
      'the local executor ignores attributes queueName, account, reservationId, customAttributes["slurm.constraint"]';
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expected]);
    expect(statuses.find((s) => s.state === JobState.QUEUED)?.message).toBe(`Warning: ${expected}.`);
  }, 30_000);

  it('keeps the warning with the job: another executor attaching to it sees the QUEUED message too', async () => {
    const { logger } = recordingLogger();
    const workDirectory = tempDir('xw-warn-wd-');
    const e1 = executor({ logger, workDirectory });
    const job = await e1.submit(new Job({ executable: '/bin/true', attributes: { queueName: 'debug' } }));
    await job.wait({ timeout: 30_000 });
    const e2 = executor({ logger, workDirectory });
    const again = new Job();
    await e2.attach(again, job.nativeId!);
    await again.wait({ timeout: 30_000 });
    expect(again.history.find((s) => s.state === JobState.QUEUED)?.message).toBe(
      'Warning: the local executor ignores attribute queueName.',
    );
  }, 30_000);

  it('says nothing for a spec it honours whole', async () => {
    const { logger, lines } = recordingLogger();
    const { statuses } = await submitAndWait(
      { executable: '/bin/true', launcher: 'multiple', resources: { processCount: 2 }, attributes: { duration: 30 } },
      logger,
    );
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(statuses.find((s) => s.state === JobState.QUEUED)?.message).toBeUndefined();
  }, 30_000);
});

const has = (program: string): boolean => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const haveOpenMpi = has('mpirun');
const haveMpich = has('mpirun.mpich');

describe('LocalExecutor + mpirun, for real', () => {
  // psij-python's user-guide resource example: 2 nodes × 4 processes per node with mpirun.
  const userGuide = (out: string): JobSpecInput => ({
    executable: '/bin/sh',
    arguments: ['-c', 'echo "rank $OMPI_COMM_WORLD_RANK$PMI_RANK"'],
    launcher: 'mpirun',
    resources: { nodeCount: 2, processesPerNode: 4 },
    stdoutPath: out,
  });

  it.runIf(haveOpenMpi)(
    "psij-python's 2 nodes × 4 processes example completes with 8 ranks on this host, with a placement warning",
    async () => {
      const { logger, lines } = recordingLogger();
      const out = path.join(tempDir('xw-mpi-out-'), 'stdout');
      const { final } = await submitAndWait(userGuide(out), logger);
      expect(final, JSON.stringify(final)).toMatchObject({ state: JobState.COMPLETED, exitCode: 0 });
      const ranks = readFileSync(out, 'utf8').trim().split('\n').sort();
      expect(ranks).toEqual(Array.from({ length: 8 }, (_, r) => `rank ${r}`).sort());
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringContaining('only one host')]);
    },
    60_000,
  );

  it.runIf(haveOpenMpi)(
    "a job that mpirun refuses to launch ends FAILED with mpirun's own error in its message",
    async () => {
      // 64 cores per process on this machine: Open MPI finds no cpus to bind to and starts nothing.
      const { logger } = recordingLogger();
      const { final } = await submitAndWait(
        { executable: '/bin/true', launcher: 'mpirun', resources: { processCount: 1, cpuCoresPerProcess: 64 } },
        logger,
      );
      expect(final.state).toBe(JobState.FAILED);
      expect(final.message).toMatch(/^mpirun exited with status \d+ before starting any process: .*no available cpus/);
    },
    60_000,
  );

  it.runIf(haveMpich)(
    'MPICH: a job that mpirun.mpich refuses ends FAILED quoting it (stderr discarded by the spec)',
    async () => {
      const { registerLauncher } = await import('@exaworks/jpsi-core');
      const { MpirunLauncher } = await import('@exaworks/launcher');
      registerLauncher({ name: 'mpirun-mpich-test', create: () => new MpirunLauncher({ program: 'mpirun.mpich' }) });
      const { logger } = recordingLogger();
      const { final } = await submitAndWait(
        { executable: '/bin/true', launcher: 'mpirun-mpich-test', resources: { processCount: 1, cpuCoresPerProcess: 64 } },
        logger,
      );
      expect(final.state).toBe(JobState.FAILED);
      expect(final.message).toMatch(/^mpirun\.mpich exited with status \d+ before starting any process: .*core:64/);
    },
    60_000,
  );
});
