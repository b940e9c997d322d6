import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobSpec, ValidationError, type JobSpecInput } from '@exaworks/jpsi-core';
import {
  AprunLauncher,
  aprunFlags,
  FluxRunLauncher,
  fluxRunFlags,
  JsrunLauncher,
  jsrunFlags,
  SrunLauncher,
  srunFlags,
} from './scheduler-launchers.js';
import { cleanup, runJob, tempDir } from './test-support/run-job.js';

const spec = (resources: JobSpecInput['resources']) => createJobSpec({ executable: 'a.out', resources });

describe('srun command lines', () => {
  it.each([
    [{}, ['-n', '1']],
    [{ processCount: 8 }, ['-n', '8']],
    [{ nodeCount: 2 }, ['-n', '2', '-N', '2', '--ntasks-per-node', '1']],
    [{ nodeCount: 2, processesPerNode: 4 }, ['-n', '8', '-N', '2', '--ntasks-per-node', '4']],
    [{ processCount: 6, processesPerNode: 3 }, ['-n', '6', '-N', '2', '--ntasks-per-node', '3']],
    [{ processCount: 4, cpuCoresPerProcess: 7 }, ['-n', '4', '-c', '7']],
    [{ processCount: 4, gpuCoresPerProcess: 1, exclusiveNodeUse: true }, ['-n', '4', '--gpus-per-task', '1', '--exclusive']],
    [
      { nodeCount: 2, processesPerNode: 2, cpuCoresPerProcess: 4, gpuCoresPerProcess: 2, exclusiveNodeUse: true },
      ['-n', '4', '-N', '2', '--ntasks-per-node', '2', '-c', '4', '--gpus-per-task', '2', '--exclusive'],
    ],
  ] as const)('%j → %j', (resources, flags) => {
    expect(srunFlags(spec(resources))).toEqual(flags);
  });

  it('builds the full argv with the program, extra words, then executable and arguments', async () => {
    const cmd = await new SrunLauncher({ program: '/opt/slurm/bin/srun', extraArgs: ['--mpi=pmix'] }).launchCommand(
      createJobSpec({ executable: 'a.out', arguments: ['x y'], resources: { processCount: 2 } }),
    );
    expect(cmd).toEqual({ argv: ['/opt/slurm/bin/srun', '--mpi=pmix', '-n', '2', 'a.out', 'x y'], env: {} });
  });

  it('rejects an unknown config field', () => {
    expect(() => new SrunLauncher({ bogus: true } as never)).toThrow(ValidationError);
  });
});

describe('jsrun command lines (one resource set per process)', () => {
  it.each([
    [{}, ['-n', '1', '-a', '1', '-c', '1', '-g', '0']],
    [{ processCount: 12 }, ['-n', '12', '-a', '1', '-c', '1', '-g', '0']],
    [{ nodeCount: 2, processesPerNode: 6 }, ['-n', '12', '-a', '1', '-c', '1', '-g', '0', '-r', '6']],
    [{ processCount: 6, cpuCoresPerProcess: 7, gpuCoresPerProcess: 1 }, ['-n', '6', '-a', '1', '-c', '7', '-g', '1']],
    [
      { nodeCount: 4, processesPerNode: 6, cpuCoresPerProcess: 7, gpuCoresPerProcess: 1 },
      ['-n', '24', '-a', '1', '-c', '7', '-g', '1', '-r', '6'],
    ],
  ] as const)('%j → %j', (resources, flags) => {
    expect(jsrunFlags(spec(resources))).toEqual(flags);
  });
});

describe('aprun command lines', () => {
  it.each([
    [{}, ['-n', '1']],
    [{ processCount: 64 }, ['-n', '64']],
    [{ nodeCount: 2, processesPerNode: 32 }, ['-n', '64', '-N', '32']],
    [{ processCount: 8, cpuCoresPerProcess: 4 }, ['-n', '8', '-d', '4']],
    [{ nodeCount: 4, processesPerNode: 8, cpuCoresPerProcess: 4, gpuCoresPerProcess: 1 }, ['-n', '32', '-N', '8', '-d', '4']],
  ] as const)('%j → %j', (resources, flags) => {
    expect(aprunFlags(spec(resources))).toEqual(flags);
  });
});

describe('flux run flags', () => {
  it.each([
    [{ processCount: 4 }, ['-n', '4']],
    [
      { nodeCount: 2, processesPerNode: 3, cpuCoresPerProcess: 2, gpuCoresPerProcess: 1 },
      ['-n', '6', '-N', '2', '-c', '2', '-g', '1'],
    ],
    [{ processCount: 2, exclusiveNodeUse: true }, ['-n', '2', '--exclusive']],
  ] as const)('%j → %j', (resources, flags) => {
    expect(fluxRunFlags(spec(resources))).toEqual(flags);
  });

  it('the launch command is `flux run`, extra words after `run`', async () => {
    const cmd = await new FluxRunLauncher({ extraArgs: ['--label-io'] }).launchCommand(
      createJobSpec({ executable: '/bin/echo', arguments: ['a b'], resources: { processCount: 2 } }),
    );
    expect(cmd.argv).toEqual(['flux', 'run', '--label-io', '-n', '2', '/bin/echo', 'a b']);
  });
});

// jsrun and aprun cannot be installed here: these runs put a STAND-IN (test-support/stand-in-bin)
// first on PATH. The production path is unchanged: launcher → job script → `jsrun`/`aprun` on PATH.
describe('jsrun and aprun end to end through stand-ins', () => {
  const standInBin = fileURLToPath(new URL('./test-support/stand-in-bin', import.meta.url));
  const dir = tempDir('xw-standin-');
  afterAll(() => cleanup(dir));
  beforeAll(() => {
    for (const f of ['jsrun', 'aprun', 'launcher-stand-in.sh']) chmodSync(path.join(standInBin, f), 0o755);
  });
  const env = (argvFile: string) => ({
    ...process.env,
    PATH: `${standInBin}:${process.env.PATH ?? ''}`,
    STAND_IN_ARGV_FILE: argvFile,
  });
  const recorded = (argvFile: string) => readFileSync(argvFile, 'utf8').split('\n\n')[0]!.split('\n');

  it('jsrun stand-in: the job script runs jsrun with the derived flags and the ranks run', async () => {
    const argvFile = path.join(dir, 'jsrun.argv');
    const input = {
      executable: '/bin/sh',
      arguments: ['-c', 'echo "rank $JSM_NAMESPACE_RANK of $JSM_NAMESPACE_SIZE: $0"', 'arg with space'],
      resources: { nodeCount: 1, processesPerNode: 3, cpuCoresPerProcess: 2 },
    };
    const cmd = await new JsrunLauncher().launchCommand(createJobSpec(input));
    const job = await runJob(input, cmd, { env: env(argvFile) });
    expect(recorded(argvFile)).toEqual([
      'jsrun',
      '-n',
      '3',
      '-a',
      '1',
      '-c',
      '2',
      '-g',
      '0',
      '-r',
      '3',
      '/bin/sh',
      ...input.arguments,
    ]);
    expect(job.stdout.trim().split('\n').sort()).toEqual([
      'rank 0 of 3: arg with space',
      'rank 1 of 3: arg with space',
      'rank 2 of 3: arg with space',
    ]);
    expect(job.result).toEqual({ exitCode: 0 });
  });

  it('aprun stand-in: the job script runs aprun with the derived flags and a failing rank fails the job', async () => {
    const argvFile = path.join(dir, 'aprun.argv');
    const input = {
      executable: '/bin/sh',
      arguments: ['-c', 'echo "pe $ALPS_APP_PE"; [ "$ALPS_APP_PE" != 1 ] || exit 6'],
      resources: { processCount: 2, cpuCoresPerProcess: 4 },
    };
    const cmd = await new AprunLauncher().launchCommand(createJobSpec(input));
    const job = await runJob(input, cmd, { env: env(argvFile) });
    expect(recorded(argvFile)).toEqual(['aprun', '-n', '2', '-d', '4', '/bin/sh', ...input.arguments]);
    expect(job.stdout.trim().split('\n').sort()).toEqual(['pe 0', 'pe 1']);
    expect(job.result).toEqual({ exitCode: 6 });
  });

  it('a missing jsrun (no stand-in on PATH) is reported as a machinery failure', async () => {
    const input = { executable: '/bin/true' };
    const cmd = await new JsrunLauncher().launchCommand(createJobSpec(input));
    const job = await runJob(input, cmd, { env: { ...process.env, PATH: '/usr/bin:/bin' } });
    expect(job.result).toEqual({ exitCode: 127, failure: 'program not found: jsrun' });
  });
});
