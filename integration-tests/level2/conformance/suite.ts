/**
 * The PSI/J conformance suite: one set of behaviours every JobExecutor must show, run against each
 * executor through the JobExecutor interface only (Level 2).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile, chmod } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, ValidationError, type JobExecutor, type JobSpecInput, type JobState, type JobStatus } from '@exaworks/jpsi-core';
import type { ConformanceTarget } from './target.js';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(HERE, '../../../../shared/fixtures/psij');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(pred: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

/** Registers the whole conformance suite for one target. */
export function psijConformanceSuite(target: ConformanceTarget): void {
  const scale = target.timeScale ?? 1;
  const T = (ms: number) => ms * scale;

  describe(`PSI/J conformance: ${target.title ?? target.name}`, () => {
    let ex: JobExecutor;
    let tmp: string;

    beforeAll(async () => {
      ex = await target.create();
      tmp = await mkdtemp(path.join(os.tmpdir(), `exa-conf-${target.name}-`));
    });
    afterAll(async () => {
      await ex?.close();
    });

    const file = (name: string) => path.join(tmp, name);
    async function runJob(spec: JobSpecInput, timeout = T(30_000)): Promise<{ job: Job; status: JobStatus }> {
      const job = await ex.submit(new Job(spec));
      const status = await job.wait({ timeout });
      if (!status) throw new Error(`job ${job.nativeId} did not finish within ${timeout} ms (state ${job.status.state})`);
      return { job, status };
    }

    it('runs /bin/echo and captures its stdout', async () => {
      const out = file('echo.out');
      const { job, status } = await runJob({ executable: '/bin/echo', arguments: ['hello', 'world'], stdoutPath: out });
      expect(status.state).toBe('COMPLETED');
      expect(status.exitCode).toBe(0);
      expect(job.nativeId).toBeTruthy();
      expect(await readFile(out, 'utf8')).toBe('hello world\n');
    });

    it('passes arguments with spaces, quotes, $(), backticks, globs, newlines and unicode unchanged', async () => {
      const fixture = JSON.parse(readFileSync(path.join(FIXTURES, 'tricky-args.json'), 'utf8')) as { arguments: string[] };
      const out = file('tricky.out');
      const [fmt, ...args] = fixture.arguments;
      const { status } = await runJob({ executable: '/bin/printf', arguments: [fmt!, ...args], stdoutPath: out });
      expect(status.state).toBe('COMPLETED');
      expect(await readFile(out, 'utf8')).toBe(args.map((a) => `${a}\n`).join(''));
    });

    it('sets the environment, inherited or not', async () => {
      process.env.EXA_CONFORMANCE_PARENT = 'parent-value';
      const env = { A: '1', SPACES: 'x y z', QUOTE: "it's", DOLLAR: '$HOME', PATH_LIKE: '/a:/b' };
      const inherit = file('env-inherit.out');
      const clean = file('env-clean.out');
      // The executor process (here: this one) is the parent whose environment is inherited.
      await runJob({ executable: '/usr/bin/env', environment: env, stdoutPath: inherit });
      await runJob({ executable: '/usr/bin/env', environment: env, inheritEnvironment: false, stdoutPath: clean });
      const parse = (text: string) =>
        new Map(
          text
            .trim()
            .split('\n')
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
      const a = parse(await readFile(inherit, 'utf8'));
      const b = parse(await readFile(clean, 'utf8'));
      for (const [k, v] of Object.entries(env)) {
        expect(a.get(k)).toBe(v);
        expect(b.get(k)).toBe(v);
      }
      expect(b.has('EXA_CONFORMANCE_PARENT')).toBe(false);
      expect(b.has('HOME')).toBe(false);
      if (target.name === 'local') expect(a.get('EXA_CONFORMANCE_PARENT')).toBe('parent-value');
    });

    it('runs in the given directory (with a space in its name)', async () => {
      const dir = await mkdtemp(path.join(tmp, 'work dir '));
      const out = file('pwd.out');
      await runJob({ executable: '/bin/pwd', directory: dir, stdoutPath: out });
      expect((await readFile(out, 'utf8')).trim()).toBe(dir);
    });

    it('reads stdin from a file and writes stdout and stderr to files', async () => {
      const input = file('in.txt');
      await writeFile(input, 'line one\nline two\n');
      const out = file('io.out');
      const err = file('io.err');
      const { status } = await runJob({
        executable: '/bin/sh',
        arguments: ['-c', 'cat; echo "to stderr" >&2'],
        stdinPath: input,
        stdoutPath: out,
        stderrPath: err,
      });
      expect(status.state).toBe('COMPLETED');
      expect(await readFile(out, 'utf8')).toBe('line one\nline two\n');
      expect(await readFile(err, 'utf8')).toBe('to stderr\n');
    });

    it('reports exit codes: 0 COMPLETED, non-zero FAILED with the code', async () => {
      expect((await runJob({ executable: '/bin/true' })).status).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
      expect((await runJob({ executable: '/bin/false' })).status).toMatchObject({ state: 'FAILED', exitCode: 1 });
      expect((await runJob({ executable: '/bin/sh', arguments: ['-c', 'exit 42'] })).status).toMatchObject({
        state: 'FAILED',
        exitCode: 42,
      });
    });

    it('fails a job whose executable does not exist, saying so', async () => {
      const err = file('missing.err');
      const { status } = await runJob({ executable: '/no/such/program', stderrPath: err });
      expect(status.state).toBe('FAILED');
      expect(status.exitCode).toBe(127);
    });

    it('rejects an invalid spec at submit with a field-level ValidationError', async () => {
      const bad = { executable: '/bin/true', resources: { processCount: 3, processesPerNode: 2 } };
      const error = await ex.submit(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.path).toBe('resources.processCount');
    });

    it('shows listeners the PSI/J state sequence, once each, for success and failure', async () => {
      for (const [exe, final] of [
        ['/bin/date', 'COMPLETED'],
        ['/bin/false', 'FAILED'],
      ] as const) {
        const jobSeen: JobState[] = [];
        const exSeen: JobState[] = [];
        const job = new Job({ executable: exe, stdoutPath: '/dev/null' });
        job.onStatus((_j, s) => jobSeen.push(s.state));
        const off = ex.onStatus((j, s) => {
          if (j === job) exSeen.push(s.state);
        });
        await ex.submit(job);
        await job.wait({ timeout: T(30_000) });
        off();
        const expected = ['QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', final];
        expect(jobSeen).toEqual(expected);
        expect(exSeen).toEqual(expected);
      }
    });

    it('cancels a running job, killing its processes', async () => {
      const pidFile = file('cancel-running.pid');
      const job = await ex.submit({
        executable: '/bin/sh',
        arguments: ['-c', `echo $$ > '${pidFile}'; sleep 60 & echo $! >> '${pidFile}'; wait`],
      });
      expect(
        await until(async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim().split('\n').length === 2, T(20_000)),
      ).toBe(true);
      const pids = (await readFile(pidFile, 'utf8')).trim().split('\n').map(Number);
      await job.cancel();
      const status = await job.wait({ timeout: T(20_000) });
      expect(status?.state).toBe('CANCELED');
      expect(await until(() => pids.every((p) => !alive(p)), T(10_000))).toBe(true);
    });

    it('cancels a queued job before it ever runs', async () => {
      const started = file('queued-started');
      const blockers = await Promise.all(
        Array.from({ length: target.capacity }, () => ex.submit({ executable: '/bin/sleep', arguments: ['60'] })),
      );
      const queued = await ex.submit({ executable: '/bin/sh', arguments: ['-c', `touch '${started}'`] });
      expect(queued.status.state).toBe('QUEUED');
      await queued.cancel();
      expect((await queued.wait({ timeout: T(10_000) }))?.state).toBe('CANCELED');
      await Promise.all(blockers.map((b) => b.cancel()));
      await Promise.all(blockers.map((b) => b.wait({ timeout: T(20_000) })));
      await new Promise((r) => setTimeout(r, T(500)));
      await expect(readFile(started)).rejects.toThrow();
    });

    it('treats cancel of a finished job as a no-op', async () => {
      const { job } = await runJob({ executable: '/bin/true' });
      await job.cancel();
      expect(job.status).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    });

    it(
      'kills a job that runs past its duration and says why',
      async () => {
        const t0 = Date.now();
        // Far longer than any scheduler's rounding of the walltime (Slurm's minimum is one minute).
        const { status } = await runJob({ executable: '/bin/sleep', arguments: ['600'], attributes: { duration: 2 } });
        expect(status.state).toBe('FAILED');
        expect(status.message ?? '').toMatch(/walltime|duration|time limit/i);
        expect(Date.now() - t0).toBeLessThan(T(20_000));
      },
      T(30_000),
    );

    it('wait with a timeout returns nothing while the job runs', async () => {
      const job = await ex.submit({ executable: '/bin/sleep', arguments: ['30'] });
      expect(await job.wait({ timeout: 300 })).toBeUndefined();
      expect(await job.wait({ targetStates: ['ACTIVE'], timeout: T(20_000) })).toMatchObject({ state: 'ACTIVE' });
      await job.cancel();
      expect((await job.wait({ timeout: T(20_000) }))?.state).toBe('CANCELED');
    });

    it('lets a second process attach by native id, see the job end, and list it', async () => {
      const out = file('attach.out');
      const job = await ex.submit({
        executable: '/bin/sh',
        arguments: ['-c', 'sleep 1; echo attached; exit 7'],
        stdoutPath: out,
      });
      const child = path.join(HERE, 'attach-child.mjs');
      const { stdout } = await run(process.execPath, [child, target.name, JSON.stringify(target.config), job.nativeId!], {
        timeout: T(60_000),
      });
      const report = JSON.parse(stdout) as {
        seenAtAttach: string;
        final: { state: string; exitCode: number } | null;
        listed: boolean;
      };
      expect(['QUEUED', 'STAGE_IN', 'ACTIVE', 'FAILED']).toContain(report.seenAtAttach);
      expect(report.final).toMatchObject({ state: 'FAILED', exitCode: 7 });
      expect(report.listed).toBe(true);
      expect(await job.wait({ timeout: T(20_000) })).toMatchObject({ state: 'FAILED', exitCode: 7 });
      expect(await readFile(out, 'utf8')).toBe('attached\n');
      // Attaching to a finished job reports its final state.
      const again = await run(process.execPath, [child, target.name, JSON.stringify(target.config), job.nativeId!], {
        timeout: T(60_000),
      });
      expect(JSON.parse(again.stdout)).toMatchObject({ seenAtAttach: 'FAILED', final: { state: 'FAILED', exitCode: 7 } });
    });

    it('lets a second process cancel a running job', async () => {
      const job = await ex.submit({ executable: '/bin/sleep', arguments: ['60'] });
      await job.wait({ targetStates: ['ACTIVE'], timeout: T(20_000) });
      const child = path.join(HERE, 'attach-child.mjs');
      const { stdout } = await run(
        process.execPath,
        [child, target.name, JSON.stringify(target.config), job.nativeId!, 'cancel'],
        { timeout: T(60_000) },
      );
      expect(JSON.parse(stdout).final).toMatchObject({ state: 'CANCELED' });
      expect((await job.wait({ timeout: T(20_000) }))?.state).toBe('CANCELED');
    });

    it('lists the native ids of its jobs', async () => {
      const { job } = await runJob({ executable: '/bin/true' });
      expect(await ex.list()).toContain(job.nativeId);
    });

    describe('multi-process jobs', () => {
      const script = async (name: string, body: string) => {
        const p = file(name);
        await writeFile(p, `#!/bin/sh\n${body}\n`);
        await chmod(p, 0o755);
        return p;
      };

      it('single launcher runs one process', async () => {
        const out = file('single.out');
        await runJob({ executable: '/bin/echo', arguments: ['one'], launcher: 'single', stdoutPath: out });
        expect(await readFile(out, 'utf8')).toBe('one\n');
      });

      it.runIf(target.launchers.includes('multiple'))('multiple launcher runs N copies, each knowing its rank', async () => {
        const out = file('multiple.out');
        const rank = await script('rank.sh', 'echo "rank=$EXAWORKS_RANK size=$EXAWORKS_SIZE"');
        const { status } = await runJob({
          executable: rank,
          launcher: 'multiple',
          resources: { processCount: 3 },
          stdoutPath: out,
        });
        expect(status.state).toBe('COMPLETED');
        const lines = (await readFile(out, 'utf8')).trim().split('\n').sort();
        expect(lines).toEqual(['rank=0 size=3', 'rank=1 size=3', 'rank=2 size=3']);
      });

      it.runIf(target.launchers.includes('multiple'))('multiple launcher propagates a failing copy’s exit code', async () => {
        const fail = await script('fail-rank.sh', '[ "$EXAWORKS_RANK" = 1 ] && exit 9; exit 0');
        const { status } = await runJob({ executable: fail, launcher: 'multiple', resources: { processCount: 3 } });
        expect(status).toMatchObject({ state: 'FAILED', exitCode: 9 });
      });

      // MPI programs start through mpirun, or under Flux through `flux run` (the `flux` launcher).
      const mpi = target.launchers.includes('mpirun') ? 'mpirun' : target.launchers.includes('flux') ? 'flux' : undefined;
      for (const n of [1, 2, 4]) {
        it.runIf(mpi !== undefined)(`${mpi ?? 'mpirun'} runs ${n} ranks, each seeing its rank and the size`, async () => {
          const out = file(`mpirun-${n}.out`);
          const rank = await script(
            `mpi-rank-${n}.sh`,
            'echo "rank=${OMPI_COMM_WORLD_RANK:-$PMI_RANK} size=${OMPI_COMM_WORLD_SIZE:-$PMI_SIZE}"',
          );
          const { status } = await runJob(
            { executable: rank, launcher: mpi, resources: { processCount: n }, stdoutPath: out },
            T(60_000),
          );
          expect(status.state).toBe('COMPLETED');
          const lines = (await readFile(out, 'utf8')).trim().split('\n').sort();
          expect(lines).toEqual(Array.from({ length: n }, (_, i) => `rank=${i} size=${n}`));
        });
      }

      it.runIf(mpi !== undefined)(`${mpi ?? 'mpirun'} propagates a failing rank’s exit code`, async () => {
        const fail = await script('mpi-fail.sh', '[ "${OMPI_COMM_WORLD_RANK:-$PMI_RANK}" = 1 ] && exit 5; exit 0');
        const { status } = await runJob({ executable: fail, launcher: mpi, resources: { processCount: 2 } }, T(60_000));
        expect(status.state).toBe('FAILED');
        expect(status.exitCode).toBe(5);
      });

      // Registered only where srun is the target's own launcher (Slurm): elsewhere the case does not apply.
      if (target.launchers.includes('srun'))
        it('srun runs N tasks inside the allocation, each seeing its rank', async () => {
          const out = file('srun.out');
          const rank = await script('srun-rank.sh', 'echo "rank=$SLURM_PROCID size=$SLURM_NTASKS"');
          const { status } = await runJob(
            { executable: rank, launcher: 'srun', resources: { processCount: 3 }, stdoutPath: out },
            T(60_000),
          );
          expect(status.state).toBe('COMPLETED');
          const lines = (await readFile(out, 'utf8')).trim().split('\n').sort();
          expect(lines).toEqual(['rank=0 size=3', 'rank=1 size=3', 'rank=2 size=3']);
        });

      const parallel = mpi ? mpi : target.launchers.includes('multiple') ? 'multiple' : undefined;

      it.runIf(parallel !== undefined)(`pre- and post-launch scripts run once per job, not per rank (${parallel})`, async () => {
        const log = file('prepost.log');
        const pre = await script('pre.sh', `echo pre >> '${log}'\nexport EXA_FROM_PRE=yes`);
        const post = await script('post.sh', `echo post >> '${log}'`);
        const out = file('prepost.out');
        const body = await script('prepost-body.sh', 'echo "from-pre=$EXA_FROM_PRE"');
        const { status } = await runJob(
          {
            executable: body,
            launcher: parallel,
            resources: { processCount: 4 },
            preLaunch: pre,
            postLaunch: post,
            stdoutPath: out,
          },
          T(60_000),
        );
        expect(status.state).toBe('COMPLETED');
        expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(['pre', 'post']);
        expect((await readFile(out, 'utf8')).trim().split('\n')).toEqual(Array(4).fill('from-pre=yes'));
      });

      it.runIf(parallel !== undefined)(
        `a failing pre-launch script fails the job without launching it (${parallel})`,
        async () => {
          const ran = file('prefail-ran');
          const pre = await script('pre-fail.sh', 'return 3 2>/dev/null || exit 3');
          const body = await script('prefail-body.sh', `touch '${ran}'`);
          const { status } = await runJob(
            { executable: body, launcher: parallel, resources: { processCount: 2 }, preLaunch: pre },
            T(60_000),
          );
          expect(status.state).toBe('FAILED');
          expect(status.message ?? '').toMatch(/pre-launch/i);
          await expect(readFile(ran)).rejects.toThrow();
        },
      );

      it.runIf(parallel !== undefined)(`cancel kills every rank (${parallel})`, async () => {
        const pids = file('ranks.pids');
        const body = await script('rank-sleep.sh', `echo $$ >> '${pids}'\nexec sleep 60`);
        const job = await ex.submit({ executable: body, launcher: parallel, resources: { processCount: 2 } });
        expect(
          await until(
            async () => (await readFile(pids, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).length === 2,
            T(30_000),
          ),
        ).toBe(true);
        const ranks = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
        await job.cancel();
        expect((await job.wait({ timeout: T(20_000) }))?.state).toBe('CANCELED');
        expect(await until(() => ranks.every((p) => !alive(p)), T(10_000))).toBe(true);
      });
    });
  });
}
