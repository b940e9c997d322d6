import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortedError, createJobSpec, getLauncher, UnknownLauncherError, ValidationError } from '@exaworks/jpsi-core';
import { jobShell, MULTIPLE_SCRIPT, MultipleLauncher, SingleLauncher } from './basic.js';
import { createLauncher, launcherNames } from './providers.js';
import { MpirunLauncher } from './mpirun.js';
import { AprunLauncher, JsrunLauncher, SrunLauncher } from './scheduler-launchers.js';
import { alive, cleanup, readIf, runJob, tempDir, until } from './test-support/run-job.js';

const dirs: string[] = [];
const scratch = (): string => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(cleanup));

describe('single launcher', () => {
  it('launches [executable, ...arguments] once, warning that the process count is not honoured', async () => {
    const spec = createJobSpec({ executable: '/bin/echo', arguments: ['a b', 'c'], resources: { processCount: 4 } });
    const cmd = await new SingleLauncher().launchCommand(spec);
    expect(cmd).toEqual({
      argv: ['/bin/echo', 'a b', 'c'],
      env: {},
      warnings: [
        'the spec asks for 4 processes, but the single launcher starts one; set launcher "multiple" or "mpirun" to start 4',
      ],
    });
    // One process (nodes × ppn counts too): no warning.
    expect(await new SingleLauncher().launchCommand(createJobSpec({ executable: 'x' }))).toEqual({ argv: ['x'], env: {} });
    const two = await new SingleLauncher().launchCommand(createJobSpec({ executable: 'x', resources: { nodeCount: 2 } }));
    expect(two.warnings).toHaveLength(1);
    const job = await runJob({ executable: '/bin/echo', arguments: ['a b', 'c'] }, cmd);
    expect(job.stdout).toBe('a b c\n');
  });

  it('validates a plain-object spec and honours an aborted signal', async () => {
    await expect(new SingleLauncher().launchCommand({ executable: '' } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(
      new SingleLauncher().launchCommand(createJobSpec({ executable: 'x' }), { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('multiple launcher (real processes)', () => {
  const rankProgram = [
    '/bin/sh',
    '-c',
    'echo "$EXAWORKS_RANK $EXAWORKS_SIZE $_PSI_J_PROCESS_INDEX_ $_PSI_J_PROCESS_COUNT $1"; exit "$2"',
  ];

  it('argv is the shipped script, the count, then the program', async () => {
    const spec = createJobSpec({ executable: '/bin/true', arguments: ['x'], resources: { processCount: 3 } });
    const cmd = await new MultipleLauncher().launchCommand(spec);
    expect(cmd.argv).toEqual(['/bin/sh', MULTIPLE_SCRIPT, '3', '/bin/true', 'x']);
    // Bash, which keeps exported bash functions, when a pre-launch script may export some.
    const withPreLaunch = await new MultipleLauncher().launchCommand(
      createJobSpec({ executable: '/bin/true', preLaunch: '/etc/profile', resources: { processCount: 2 } }),
    );
    expect(withPreLaunch.argv[0]).toBe('/bin/bash');
    expect(readFileSync(MULTIPLE_SCRIPT, 'utf8').startsWith('#!/bin/sh')).toBe(true);
  });

  it('runs 3 copies, each with a distinct rank, appending to the same stdout', async () => {
    const input = {
      executable: rankProgram[0]!,
      arguments: [...rankProgram.slice(1), 'job', 'arg with space', '0'],
      resources: { processCount: 3 },
    };
    const job = await runJob(input, await new MultipleLauncher().launchCommand(createJobSpec(input)));
    const lines = job.stdout.trim().split('\n').sort();
    expect(lines).toEqual(['0 3 1 3 arg with space', '1 3 2 3 arg with space', '2 3 3 3 arg with space']);
    expect(job.result).toEqual({ exitCode: 0 });
  });

  it('exits with the exit code of the lowest-ranked failing copy', async () => {
    // rank 0 succeeds, rank 1 exits 5 after a delay, rank 2 exits 9 at once: 5 wins (rank order, not time order).
    const code = 'case $EXAWORKS_RANK in 0) exit 0;; 1) sleep 0.2; exit 5;; 2) exit 9;; esac';
    const input = { executable: '/bin/sh', arguments: ['-c', code], resources: { nodeCount: 1, processesPerNode: 3 } };
    const job = await runJob(input, await new MultipleLauncher().launchCommand(createJobSpec(input)));
    expect(job.result).toEqual({ exitCode: 5 });
    expect(job.exitCode).toBe(5);
  });

  it('with a stdinPath, every copy opens it and reads all of it (as psij-python)', async () => {
    const d = scratch();
    writeFileSync(path.join(d, 'stdin.txt'), 'the job input\n');
    const input = {
      executable: '/bin/sh',
      arguments: ['-c', 'cat > "$0.$EXAWORKS_RANK"', path.join(d, 'in')],
      stdinPath: path.join(d, 'stdin.txt'),
      resources: { processCount: 3 },
    };
    const cmd = await new MultipleLauncher().launchCommand(createJobSpec(input));
    expect(cmd.argv.slice(1, 5)).toEqual([MULTIPLE_SCRIPT, '--stdin', path.join(d, 'stdin.txt'), '3']);
    const job = await runJob(input, cmd);
    expect(job.result).toEqual({ exitCode: 0 });
    for (const rank of [0, 1, 2]) expect(readIf(path.join(d, `in.${rank}`))).toBe('the job input\n');
  });

  it('a SIGTERM to the process group kills every copy', async () => {
    const d = scratch();
    const input = {
      executable: '/bin/sh',
      arguments: ['-c', 'echo $$ > "$0.$EXAWORKS_RANK"; exec sleep 30', path.join(d, 'pid')],
      resources: { processCount: 3 },
    };
    let group = 0;
    const running = runJob(input, await new MultipleLauncher().launchCommand(createJobSpec(input)), {
      detached: true,
      onSpawn: (pid) => (group = pid),
    });
    const pidFiles = [0, 1, 2].map((r) => path.join(d, `pid.${r}`));
    expect(await until(() => pidFiles.every((f) => readIf(f)?.endsWith('\n') === true))).toBe(true);
    const pids = pidFiles.map((f) => Number(readFileSync(f, 'utf8')));
    process.kill(-group, 'SIGTERM');
    const job = await running;
    expect(job.resultText).toBeUndefined();
    expect(await until(() => pids.every((p) => !alive(p)))).toBe(true);
  });

  it('rejects a bad count given directly to the script', async () => {
    const job = await runJob({ executable: 'x' }, { argv: ['/bin/sh', MULTIPLE_SCRIPT, '0', '/bin/true'], env: {} });
    expect(job.result?.exitCode).toBe(2);
    expect(job.stderr).toMatch(/process count must be a positive integer/);
  });
});

describe('providers and the jpsi-core registry', () => {
  it('getLauncher from jpsi-core finds every launcher of this package', async () => {
    // The registry imports the built package (dist/), so classes are compared by name.
    for (const cls of [MpirunLauncher, SingleLauncher, MultipleLauncher, SrunLauncher, JsrunLauncher, AprunLauncher]) {
      const launcher = await getLauncher(new cls().name);
      expect(launcher.constructor.name).toBe(cls.name);
      expect(typeof launcher.launchCommand).toBe('function');
    }
    const cmd = await (await getLauncher('srun')).launchCommand(
      createJobSpec({ executable: '/bin/true', resources: { processCount: 2 } }),
    );
    expect(cmd.argv).toEqual(['srun', '-n', '2', '/bin/true']);
  });

  it('an unknown name fails listing the available launchers', async () => {
    const err = await getLauncher('nosuch').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownLauncherError);
    for (const name of ['aprun', 'jsrun', 'mpirun', 'multiple', 'single', 'srun']) expect((err as Error).message).toContain(name);
    await expect(createLauncher('nosuch')).rejects.toThrow(
      /Unknown launcher "nosuch". Available: single, multiple, mpirun, srun, jsrun, aprun/,
    );
  });

  it('createLauncher validates configuration', async () => {
    expect(launcherNames()).toEqual(['single', 'multiple', 'mpirun', 'srun', 'jsrun', 'aprun', 'flux']);
    await expect(createLauncher('single', { bogus: 1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(createLauncher('mpirun', { program: '' })).rejects.toThrow(/program/);
    await expect(createLauncher('srun', { extraArgs: 'not-an-array' })).rejects.toThrow(/extraArgs/);
    expect(await createLauncher('srun', { program: '/opt/slurm/bin/srun' })).toBeInstanceOf(SrunLauncher);
  });
});

describe('jobShell: the one choice of the shell for job and launcher scripts', () => {
  const fn = 'BASH_FUNC_xw_probe%%';
  afterAll(() => {
    delete process.env[fn];
  });

  it('is /bin/sh for a plain spec, /bin/bash with a pre- or post-launch script', () => {
    expect(jobShell(createJobSpec({ executable: '/bin/true' }))).toBe('/bin/sh');
    expect(jobShell(createJobSpec({ executable: '/bin/true', preLaunch: 'pre.sh' }))).toBe('/bin/bash');
    expect(jobShell(createJobSpec({ executable: '/bin/true', postLaunch: 'post.sh' }))).toBe('/bin/bash');
  });

  it('is /bin/bash when the inherited environment carries an exported bash function, and only then', async () => {
    process.env[fn] = '() {  echo probe\n}';
    expect(jobShell(createJobSpec({ executable: '/bin/true' }))).toBe('/bin/bash');
    // A clean environment does not carry it.
    expect(jobShell(createJobSpec({ executable: '/bin/true', inheritEnvironment: false }))).toBe('/bin/sh');
    // A real job: the function reaches every copy of a multiple job through bash.
    const input = { executable: '/bin/bash', arguments: ['-c', 'xw_probe'], resources: { processCount: 2 } };
    const job = await runJob(input, await new MultipleLauncher().launchCommand(createJobSpec(input)));
    expect(job.result).toEqual({ exitCode: 0 });
    expect(job.stdout).toBe('probe\nprobe\n');
  });
});
