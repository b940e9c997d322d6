/**
 * The Slurm executor against a real (private, one-node) Slurm: tracking that never lies, submit
 * errors, walltime, attach after a restart and to foreign jobs, handed-over scripts, the CLI.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, JobNotFoundError, SubmitError, getExecutor, shellQuote, silentLogger, type JobStatus } from '@exaworks/jpsi-core';
import type { BatchExecutor } from '@exaworks/executors-batch';
import { createSlurmExecutor } from '@exaworks/executors-slurm';
import { freshWorkDirectory, run, scontrolJob, slurmState, slurmUp, squeueShim, until, withPathFirst } from './support.js';

const CLI = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const CHILD = fileURLToPath(new URL('../level2/batch-records/submit-child.mjs', import.meta.url));

describe.runIf(slurmUp)('Slurm executor (real Slurm)', () => {
  let tmp: string;
  let work: string;
  let ex: BatchExecutor;
  // One walltime job started first and checked last, so its minute runs behind the other tests.
  let walltimeJob: Job;
  let walltimeStart: number;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'exa-slurm-ex-'));
    work = path.join(tmp, 'work');
    ex = createSlurmExecutor({ workDirectory: work, pollInterval: 250, initialPollDelay: 100, commandTimeout: 10_000 });
    walltimeStart = Date.now();
    walltimeJob = await ex.submit({ executable: '/bin/sleep', arguments: ['600'], attributes: { duration: 1 } });
  });
  afterAll(async () => {
    await ex?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  const file = (name: string) => path.join(tmp, name);
  async function finish(job: Job, ms = 30_000): Promise<JobStatus> {
    const status = await job.wait({ timeout: ms });
    if (!status) throw new Error(`job ${job.nativeId} still ${job.status.state} after ${ms} ms`);
    return status;
  }

  it('is found by name through the registry and keeps its work directory private (0700)', async () => {
    const byName = await getExecutor('slurm', { workDirectory: work });
    expect(byName.name).toBe('slurm');
    await byName.close();
    expect((await stat(work)).mode & 0o777).toBe(0o700);
  });

  it('agrees with Slurm on exit codes: Slurm itself records FAILED 4:0 for a job exiting 4', async () => {
    const job = await ex.submit({ executable: '/bin/sh', arguments: ['-c', 'exit 4'] });
    expect(await finish(job)).toMatchObject({ state: 'FAILED', exitCode: 4 });
    const native = await scontrolJob(job.nativeId!);
    expect(native).toMatchObject({ JobState: 'FAILED', ExitCode: '4:0' });
    const ok = await ex.submit({ executable: '/bin/true' });
    expect(await finish(ok)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(await scontrolJob(ok.nativeId!)).toMatchObject({ JobState: 'COMPLETED', ExitCode: '0:0' });
  });

  it('runs srun inside the allocation: 4 tasks, each with its rank', async () => {
    const out = file('srun.out');
    const job = await ex.submit({
      executable: '/bin/sh',
      arguments: ['-c', 'echo "$SLURM_PROCID/$SLURM_NTASKS"'],
      launcher: 'srun',
      resources: { processCount: 4 },
      stdoutPath: out,
    });
    expect((await finish(job)).state).toBe('COMPLETED');
    expect((await readFile(out, 'utf8')).trim().split('\n').sort()).toEqual(['0/4', '1/4', '2/4', '3/4']);
  });

  it('stages in and out inside the Slurm job, under PSI/J flags, and cleans up', async () => {
    const jobDir = file('staging job');
    await writeFile(file('input.txt'), 'in');
    const job = await ex.submit({
      executable: '/bin/sh',
      arguments: ['-c', 'cat data/input.txt > result.txt; echo tmp > scratch.txt'],
      directory: jobDir,
      stageIn: [{ source: file('input.txt'), target: 'data/input.txt', mode: 'COPY' }],
      stageOut: [
        { source: 'result.txt', target: file('staged/result.txt'), flags: ['ON_SUCCESS'] },
        { source: 'result.txt', target: file('staged/on-error.txt'), flags: ['ON_ERROR'] },
        { source: 'absent.txt', target: file('staged/absent.txt'), flags: ['IF_PRESENT'] },
      ],
      cleanup: ['scratch.txt'],
    });
    const seen: string[] = [];
    job.onStatus((_j, s) => seen.push(s.state));
    expect(await finish(job)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(await readFile(file('staged/result.txt'), 'utf8')).toBe('in');
    await expect(stat(file('staged/on-error.txt'))).rejects.toThrow();
    await expect(stat(path.join(jobDir, 'scratch.txt'))).rejects.toThrow();
    expect(seen.slice(-4)).toEqual(['ACTIVE', 'STAGE_OUT', 'CLEANUP', 'COMPLETED']);
    const missing = await ex.submit({
      executable: '/bin/true',
      directory: jobDir,
      stageOut: [{ source: 'nope', target: file('x') }],
    });
    expect(await finish(missing)).toMatchObject({ state: 'FAILED', exitCode: 1 });
    expect(missing.status.message).toMatch(/stage-out source .*nope does not exist/);
  });

  it('turns slurm.* custom attributes into directives Slurm applies', async () => {
    const job = await ex.submit({
      executable: '/bin/true',
      name: 'custom-attrs',
      attributes: { customAttributes: { 'slurm.comment': 'from-exaworks', 'pbs.l': 'ignored' } },
    });
    await finish(job);
    expect(await scontrolJob(job.nativeId!)).toMatchObject({ Comment: 'from-exaworks', JobName: 'custom-attrs' });
  });

  it("reports a refused submission as a SubmitError carrying Slurm's message", async () => {
    const badQueue = await ex.submit({ executable: '/bin/true', attributes: { queueName: 'no-such-partition' } }).catch((e) => e);
    expect(badQueue).toBeInstanceOf(SubmitError);
    expect((badQueue as Error).message).toMatch(/Invalid partition name specified/);
    // The one node has 4000 MB: a limit no node can meet is refused at submission.
    const tooBig = await ex.submit({ executable: '/bin/true', resources: { memory: 100 * 1024 ** 3 } }).catch((e) => e);
    expect(tooBig).toBeInstanceOf(SubmitError);
    expect((tooBig as Error).message).toMatch(/Memory specification can not be satisfied/);
  });

  it('asks squeue once per poll for 100 active jobs', async () => {
    const own = await freshWorkDirectory(tmp, 'work-100');
    const shim = await squeueShim(own);
    const quiet = createSlurmExecutor({ workDirectory: own, pollInterval: 600_000, initialPollDelay: 600_000 });
    try {
      // Held jobs stay PENDING without taking CPUs: 100 active jobs for as long as the test wants.
      const jobs = await Promise.all(
        Array.from({ length: 100 }, () =>
          quiet.submit({ executable: '/bin/true', attributes: { customAttributes: { 'slurm.hold': true } } }),
        ),
      );
      await withPathFirst(shim.dir, async () => {
        const before = quiet.pollStats.queries;
        for (let i = 0; i < 3; i++) await quiet.pollNow();
        const calls = (await readFile(shim.calls, 'utf8')).trim().split('\n').length;
        expect(quiet.pollStats.queries - before).toBe(3);
        expect(calls).toBe(3);
      });
      expect(jobs.every((j) => j.status.state === 'QUEUED')).toBe(true);
      await Promise.all(jobs.map((j) => j.cancel()));
      await quiet.pollNow();
      expect(jobs.every((j) => j.status.state === 'CANCELED')).toBe(true);
    } finally {
      await quiet.close();
    }
  }, 120_000);

  it('never reports a final state while squeue fails or hangs (failing-squeue shim); then reports the truth', async () => {
    const own = await freshWorkDirectory(tmp, 'work-failing');
    const shim = await squeueShim(own);
    const ex2 = createSlurmExecutor({
      workDirectory: own,
      pollInterval: 600_000,
      initialPollDelay: 600_000,
      commandTimeout: 500,
      logger: silentLogger, // the failures are the point here
    });
    try {
      const job = await ex2.submit({ executable: '/bin/sh', arguments: ['-c', 'exit 3'] });
      // Slurm (asked directly) finishes the job while the executor's squeue is broken.
      expect(await until(async () => (await slurmState(job.nativeId!)) === 'FAILED', 30_000)).toBe(true);
      await withPathFirst(shim.dir, async () => {
        await writeFile(shim.fail, '');
        for (let i = 0; i < 3; i++) await ex2.pollNow();
        expect(job.status.state).toBe('QUEUED');
        expect(ex2.tracking(job)?.problem).toMatch(/squeue failed: .*Unable to contact slurm controller/);
        await rm(shim.fail);
        await writeFile(shim.hang, '');
        await ex2.pollNow();
        expect(job.status.state).toBe('QUEUED');
        expect(ex2.tracking(job)?.problem).toMatch(/did not answer within 500 ms/);
        expect(ex2.pollStats.failures).toBe(4);
        await rm(shim.hang);
        await ex2.pollNow();
      });
      expect(job.status).toMatchObject({ state: 'FAILED', exitCode: 3 });
    } finally {
      await ex2.close();
    }
  }, 60_000);

  it('ends a job that left the queue without an exit-code file as FAILED, saying its outcome is unknown', async () => {
    const own = await freshWorkDirectory(tmp, 'work-gone');
    const shim = await squeueShim(own);
    const ex2 = createSlurmExecutor({ workDirectory: own, pollInterval: 600_000, initialPollDelay: 600_000 });
    try {
      const job = await ex2.submit({ executable: '/bin/true' });
      expect(await until(async () => (await slurmState(job.nativeId!)) === 'COMPLETED', 30_000)).toBe(true);
      // What a purged job and a lost file look like: squeue no longer lists it, and its .ec file is gone.
      const record = JSON.parse(await readFile(path.join(own, `${job.nativeId}.job`), 'utf8')) as { key: string };
      await rm(path.join(own, `${record.key}.ec`));
      await writeFile(shim.hide, `^${job.nativeId}|\n`);
      await withPathFirst(shim.dir, async () => {
        for (let i = 0; i < 4 && job.status.state === 'QUEUED'; i++) await ex2.pollNow();
      });
      expect(job.status.state).toBe('FAILED');
      expect(job.status.message).toMatch(/left the slurm queue without recording an exit code: its outcome is unknown/);
      expect(job.status.metadata).toMatchObject({ reason: 'unknown' });
    } finally {
      await ex2.close();
    }
  }, 60_000);

  it('lets a new executor (a restarted client) attach by native id and see the end', async () => {
    const first = createSlurmExecutor({ workDirectory: work, pollInterval: 250 });
    const job = await first.submit({ executable: '/bin/sh', arguments: ['-c', 'sleep 2; exit 6'] });
    const id = job.nativeId!;
    await first.close();
    const second = createSlurmExecutor({ workDirectory: work, pollInterval: 250 });
    try {
      const again = new Job();
      await second.attach(again, id);
      expect(again.spec?.executable).toBe('/bin/sh');
      expect(await finish(again)).toMatchObject({ state: 'FAILED', exitCode: 6 });
      expect(await second.list()).toContain(id);
    } finally {
      await second.close();
    }
  });

  it('loses nothing when the client dies after sbatch accepted the job but before it wrote the record', async () => {
    const crashWork = await freshWorkDirectory(tmp, 'crash');
    // An sbatch wrapper first on PATH: the real sbatch accepts the job, then the wrapper holds the
    // answer on a FIFO nobody opens, and the submitting process is killed in that window.
    const wrap = file('wrap-bin');
    await mkdir(wrap, { recursive: true });
    const fifo = file('hold.fifo');
    await run('mkfifo', [fifo]);
    const accepted = file('sbatch.accepted');
    const real = (await run('sh', ['-c', 'command -v sbatch'])).stdout.trim();
    await writeFile(
      path.join(wrap, 'sbatch'),
      `#!/bin/sh\nout=$(${shellQuote(real)} "$@") || exit $?\nprintf '%s\\n' "$out" > ${shellQuote(accepted)}\nread _ < ${shellQuote(fifo)}\nprintf '%s\\n' "$out"\n`,
      { mode: 0o755 },
    );
    const out = file('crash.out');
    // Held in Slurm (--hold): the job cannot run and write its id, so only squeue can tell which it is.
    const spec = {
      executable: '/bin/sh',
      arguments: ['-c', 'echo survived'],
      stdoutPath: out,
      attributes: { customAttributes: { 'slurm.hold': true } },
    };
    const child = spawn(process.execPath, [CHILD, 'slurm', JSON.stringify({ workDirectory: crashWork })], {
      env: { ...process.env, PATH: `${wrap}${path.delimiter}${process.env.PATH ?? ''}`, EXA_CHILD_SPEC: JSON.stringify(spec) },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      expect(
        await until(
          () =>
            stat(accepted).then(
              () => true,
              () => false,
            ),
          30_000,
        ),
      ).toBe(true);
      const id = (await readFile(accepted, 'utf8')).trim();
      child.kill('SIGKILL');
      await exited;
      expect((await readdir(crashWork)).filter((f) => f.endsWith('.intent'))).toHaveLength(1);
      const fresh = createSlurmExecutor({ workDirectory: crashWork, pollInterval: 250 });
      try {
        expect(await fresh.list()).toContain(id);
        const job = new Job();
        await fresh.attach(job, id);
        expect(job.spec?.executable).toBe('/bin/sh');
        expect(job.status.state).toBe('QUEUED');
        await run('scontrol', ['release', id]);
        expect(await finish(job, 60_000)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
        expect(await readFile(out, 'utf8')).toBe('survived\n');
      } finally {
        await fresh.close();
      }
    } finally {
      child.kill('SIGKILL');
      // Let the orphaned wrapper finish (it still waits on the FIFO).
      await writeFile(fifo, 'go\n');
    }
  }, 120_000);

  it('attaches to a job submitted outside the SDK, and refuses an id nobody knows', async () => {
    const { stdout } = await run('sbatch', ['--parsable', '--wrap', 'sleep 1; exit 2'], { cwd: tmp });
    const id = stdout.trim();
    const job = new Job();
    await ex.attach(job, id);
    expect(await finish(job)).toMatchObject({ state: 'FAILED', exitCode: 2, metadata: { nativeState: 'FAILED' } });
    await expect(ex.attach(new Job(), '999999')).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('hands an existing batch script to Slurm as-is (submitScript) and tracks it', async () => {
    const script = file('handed.sh');
    const out = file('handed.out');
    await writeFile(
      script,
      `#!/bin/bash\n#SBATCH --job-name=handed-over\n#SBATCH --output=${out}\necho "as-is $SLURM_JOB_NAME"\n`,
    );
    const job = await ex.submitScript(script);
    expect(await finish(job)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(await readFile(out, 'utf8')).toBe('as-is handed-over\n');
  });

  it('cancels a running job: CANCELED here and CANCELLED in Slurm', async () => {
    const job = await ex.submit({ executable: '/bin/sleep', arguments: ['300'] });
    await job.wait({ targetStates: ['ACTIVE'], timeout: 30_000 });
    await job.cancel();
    expect((await finish(job)).state).toBe('CANCELED');
    expect(await slurmState(job.nativeId!)).toBe('CANCELLED');
  });

  it('exaworks run --executor slurm --nodes 1 --processes 2 --launcher srun -- hostname', async () => {
    const env = { ...process.env, EXAWORKS_WORK_DIR: path.join(tmp, 'cli-work') };
    const { stdout } = await run(
      process.execPath,
      [CLI, 'run', '--quiet', '--executor', 'slurm', '--nodes', '1', '--processes', '2', '--launcher', 'srun', '--', 'hostname'],
      { env, timeout: 60_000 },
    );
    expect(stdout.trim().split('\n')).toEqual([os.hostname(), os.hostname()]);
    const script = file('cli-job.sh');
    await writeFile(script, '#!/bin/bash\nexit 9\n');
    // From a directory of the test's: Slurm writes the script's default output (slurm-<id>.out) where it was submitted.
    const submitted = await run(process.execPath, [CLI, 'submit', '--executor', 'slurm', '--script', script], {
      env,
      cwd: tmp,
      timeout: 60_000,
    });
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^\d+$/);
    const waited = await run(process.execPath, [CLI, 'wait', '--json', '--executor', 'slurm', '--timeout', '60', id], {
      env,
      timeout: 90_000,
    }).catch((e: { code: number; stdout: string }) => e);
    expect(waited.stdout).toMatch(/"state":\s*"FAILED"/);
    expect((waited as { code?: number }).code).toBe(9);
  }, 120_000);

  it('fails a job killed at its walltime, with reason walltime', async () => {
    const status = await finish(walltimeJob, 150_000);
    expect(status.state).toBe('FAILED');
    expect(status.metadata).toMatchObject({ reason: 'walltime', nativeState: 'TIMEOUT' });
    expect(status.message).toMatch(/walltime/);
    expect(Date.now() - walltimeStart).toBeGreaterThan(55_000);
  }, 160_000);
});
