// mpirun for real: Debian's Open MPI (mpirun) and MPICH (mpirun.mpich), installed by scripts/install-mpi.sh.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, createJobSpec, LauncherError, type JobSpecInput } from '@exaworks/jpsi-core';
import {
  allocationNodeCount,
  detectMpiFlavour,
  flavourFromVersion,
  MpirunLauncher,
  mpirunFlags,
  mpirunPlacement,
  nodeFileHosts,
  REPORT_LAUNCH_SCRIPT,
} from './mpirun.js';
import { cleanup, readIf, runJob, tempDir } from './test-support/run-job.js';

const has = (program: string): boolean => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const haveOpenMpi = has('mpirun') && has('mpicc');
const haveMpich = has('mpirun.mpich') && has('mpicc.mpich');
const requireTools = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

describe('MPI tools', () => {
  // In CI the MPI tests must run: a missing tool fails here instead of silently skipping below.
  it.runIf(requireTools)(
    'mpirun/mpicc and mpirun.mpich/mpicc.mpich are installed (required in CI; run scripts/install-mpi.sh)',
    () => {
      expect({ haveOpenMpi, haveMpich }).toEqual({ haveOpenMpi: true, haveMpich: true });
    },
  );
});

const MPI_PROGRAM = `#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int rank, size;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  printf("rank %d of %d\\n", rank, size);
  fflush(stdout);
  MPI_Finalize();
  /* argv[1], if given, is "RANK:CODE": that rank exits with CODE. */
  if (argc > 1) {
    int failRank = 0, code = 0;
    if (sscanf(argv[1], "%d:%d", &failRank, &code) == 2 && rank == failRank) return code;
  }
  return 0;
}
`;

const dir = tempDir('xw-mpi-');
afterAll(() => cleanup(dir));

function compile(mpicc: string, out: string): string {
  const src = path.join(dir, 'ranks.c');
  writeFileSync(src, MPI_PROGRAM);
  const r = spawnSync(mpicc, ['-O0', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mpicc} failed: ${r.stderr}`);
  return out;
}

function ranksOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('rank '))
    .sort();
}

const expectedRanks = (n: number) => Array.from({ length: n }, (_, r) => `rank ${r} of ${n}`).sort();

describe('mpirunFlags (command lines)', () => {
  const spec = (resources: JobSpecInput['resources']) => createJobSpec({ executable: 'a.out', resources });
  it.each([
    ['openmpi', {}, ['-n', '1', '--oversubscribe']],
    ['openmpi', { processCount: 4 }, ['-n', '4', '--oversubscribe']],
    ['openmpi', { nodeCount: 2, processesPerNode: 3 }, ['-n', '6', '--oversubscribe', '--map-by', 'ppr:3:node']],
    ['openmpi', { processCount: 8, nodeCount: 2 }, ['-n', '8', '--oversubscribe', '--map-by', 'ppr:4:node']],
    ['openmpi', { processCount: 4, cpuCoresPerProcess: 2 }, ['-n', '4', '--oversubscribe', '--map-by', 'slot:PE=2']],
    [
      'openmpi',
      { processCount: 4, processesPerNode: 2, cpuCoresPerProcess: 2 },
      ['-n', '4', '--oversubscribe', '--map-by', 'ppr:2:node:PE=2'],
    ],
    ['mpich', {}, ['-n', '1']],
    ['mpich', { nodeCount: 2, processesPerNode: 3 }, ['-n', '6', '-ppn', '3']],
    ['mpich', { processCount: 4, cpuCoresPerProcess: 2 }, ['-n', '4', '-bind-to', 'core:2']],
    ['generic', { nodeCount: 2, processesPerNode: 3, cpuCoresPerProcess: 2 }, ['-n', '6']],
  ] as const)('%s %j → %j', (flavour, resources, flags) => {
    expect(mpirunFlags(spec(resources), flavour)).toEqual(flags);
  });

  it('adds the host file and honours oversubscribe: false', () => {
    expect(mpirunFlags(spec({ processCount: 2 }), 'openmpi', { nodeFile: '/n', oversubscribe: false })).toEqual([
      '-n',
      '2',
      '--hostfile',
      '/n',
    ]);
    expect(mpirunFlags(spec({ processCount: 2 }), 'mpich', { nodeFile: '/n' })).toEqual(['-n', '2', '-f', '/n']);
  });

  it('recognises flavours from --version output', () => {
    expect(flavourFromVersion('mpirun (Open MPI) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/')).toBe(
      'openmpi',
    );
    expect(flavourFromVersion('HYDRA build details:\n    Version: 4.0.2')).toBe('mpich');
    expect(flavourFromVersion('Intel(R) MPI Library for Linux* OS, Version 2021.6')).toBe('mpich');
    expect(flavourFromVersion('something else 1.0')).toBe('generic');
  });

  it('uses a configured flavour and extra words without probing', async () => {
    const launcher = new MpirunLauncher({ program: '/nonexistent/mpirun', flavour: 'mpich', extraArgs: ['-v'] });
    const cmd = await launcher.launchCommand(
      createJobSpec({ executable: 'a.out', arguments: ['x y'], resources: { processCount: 2 } }),
      { nodeFile: '/nodes' },
    );
    expect(cmd).toEqual({
      argv: ['/bin/sh', REPORT_LAUNCH_SCRIPT, '6', '/nonexistent/mpirun', '-v', '-n', '2', '-f', '/nodes', 'a.out', 'x y'],
      env: {},
      reportsFailures: true,
    });
    const plain = new MpirunLauncher({ program: '/nonexistent/mpirun', flavour: 'mpich', reportFailures: false });
    expect(await plain.launchCommand(createJobSpec({ executable: 'a.out' }))).toEqual({
      argv: ['/nonexistent/mpirun', '-n', '1', 'a.out'],
      env: {},
    });
  });

  it('singleHost drops per-node placement but keeps cores per process', () => {
    const s = spec({ nodeCount: 2, processesPerNode: 4, cpuCoresPerProcess: 2 });
    expect(mpirunFlags(s, 'openmpi', { singleHost: true })).toEqual(['-n', '8', '--oversubscribe', '--map-by', 'slot:PE=2']);
    expect(mpirunFlags(s, 'mpich', { singleHost: true })).toEqual(['-n', '8', '-bind-to', 'core:2']);
  });
});

describe('mpirunPlacement (where ranks may go)', () => {
  const spec = (resources: JobSpecInput['resources']) => createJobSpec({ executable: 'a.out', resources });
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const noAllocation = {};

  it('reads the distinct hosts of a node file; a missing file is unknown', () => {
    expect(nodeFileHosts(file('hosts-a', 'n1\nn1\n n2 slots=4\n\nn1\n'))).toEqual(['n1', 'n2']);
    expect(nodeFileHosts(path.join(dir, 'no-such-node-file'))).toBeUndefined();
  });

  it('one host and a multi-node spec: runs every process on it, with a warning naming the counts', () => {
    const one = file('hosts-one', 'here\n'.repeat(8));
    const p = mpirunPlacement(spec({ nodeCount: 2, processesPerNode: 4 }), one, noAllocation);
    expect(p).toEqual({
      nodeFile: one,
      singleHost: true,
      warning:
        'the spec asks for 2 nodes × 4 processes per node, but only one host (here) is available: all 8 processes run on it',
    });
    // One node asked for: nothing to relax.
    expect(mpirunPlacement(spec({ nodeCount: 1, processesPerNode: 4 }), one, noAllocation)).toEqual({
      nodeFile: one,
      singleHost: false,
    });
  });

  it('several hosts, or a node file not written yet: placement is honoured', () => {
    const two = file('hosts-two', 'n1\nn2\n');
    const s = spec({ nodeCount: 2, processesPerNode: 4 });
    expect(mpirunPlacement(s, two, noAllocation)).toEqual({ nodeFile: two, singleHost: false });
    const later = path.join(dir, 'written-in-the-allocation');
    expect(mpirunPlacement(s, later, noAllocation)).toEqual({ nodeFile: later, singleHost: false });
    expect(mpirunPlacement(s, undefined, noAllocation)).toEqual({ singleHost: false });
  });

  it('inside a multi-node allocation a one-host node file is dropped, so mpirun places over the allocation', () => {
    const one = file('hosts-one-b', 'here\n');
    const s = spec({ nodeCount: 2, processesPerNode: 4 });
    expect(mpirunPlacement(s, one, { SLURM_JOB_NUM_NODES: '2' })).toEqual({ singleHost: false });
    expect(mpirunPlacement(s, one, { SLURM_JOB_NUM_NODES: '1' })).toMatchObject({ singleHost: true });
    expect(allocationNodeCount({ SLURM_NNODES: '3' })).toBe(3);
    expect(allocationNodeCount({ PBS_NODEFILE: file('pbs-nodes', 'a\na\nb\n') })).toBe(2);
    expect(allocationNodeCount({ LSB_MCPU_HOSTS: 'login1 1 c1 4 c2 4' })).toBe(3);
    expect(allocationNodeCount({ COBALT_PARTSIZE: '4' })).toBe(4);
    expect(allocationNodeCount({})).toBeUndefined();
  });
});

// psij-python's user-guide resource example: 2 nodes × 4 processes per node, mpirun launcher.
const userGuideExample = (executable: string) => ({
  executable,
  launcher: 'mpirun',
  resources: { nodeCount: 2, processesPerNode: 4 },
});
const oneHostNodeFile = (name: string, count: number): string => {
  const f = path.join(dir, name);
  writeFileSync(f, 'localhost\n'.repeat(count));
  return f;
};

describe('mpirun placement and launcher failures, for real', () => {
  it.runIf(haveOpenMpi)(
    "Open MPI: psij-python's 2 nodes × 4 example runs 8 ranks on the one host of the node file",
    async () => {
      const program = compile('mpicc', path.join(dir, 'ranks-openmpi-placement'));
      const nodeFile = oneHostNodeFile('nodes-8', 8);
      const input = userGuideExample(program);
      const cmd = await new MpirunLauncher().launchCommand(createJobSpec(input), { nodeFile });
      expect(cmd.argv).not.toContain('ppr:4:node');
      expect(cmd.warnings).toEqual([expect.stringContaining('all 8 processes run on it')]);
      const job = await runJob(input, cmd, { nodeFile });
      expect(ranksOf(job.stdout), job.stderr).toEqual(expectedRanks(8));
      expect(job.result).toEqual({ exitCode: 0 });
    },
    60_000,
  );

  it.runIf(haveMpich)(
    "MPICH: psij-python's 2 nodes × 4 example runs 8 ranks on the one host of the node file",
    async () => {
      const program = compile('mpicc.mpich', path.join(dir, 'ranks-mpich-placement'));
      const nodeFile = oneHostNodeFile('nodes-8m', 8);
      const input = userGuideExample(program);
      const cmd = await new MpirunLauncher({ program: 'mpirun.mpich' }).launchCommand(createJobSpec(input), { nodeFile });
      expect(cmd.argv).not.toContain('-ppn');
      const job = await runJob(input, cmd, { nodeFile });
      expect(ranksOf(job.stdout), job.stderr).toEqual(expectedRanks(8));
      expect(job.result).toEqual({ exitCode: 0 });
    },
    60_000,
  );

  it.runIf(haveOpenMpi)(
    "Open MPI: a placement mpirun refuses fails the job with mpirun's own words in the result, not only in stderr",
    async () => {
      // Honoured placement (the node file is not written yet as far as the launcher knows), so
      // Open MPI refuses `ppr:4:node` for 8 ranks on the one host it then finds.
      const input = userGuideExample('/bin/true');
      const cmd = await new MpirunLauncher().launchCommand(createJobSpec(input));
      expect(cmd.argv).toContain('ppr:4:node');
      const job = await runJob(input, cmd);
      expect(job.result?.exitCode).not.toBe(0);
      expect(job.result?.failure).toMatch(/^mpirun exited with status \d+ before starting any process: .*ppr/);
      expect(job.stderr).toMatch(/ppr/); // and it still reaches the job's stderr
      expect(readIf(path.join(job.dir, 'job.result.launch'))).toBeUndefined();
    },
    60_000,
  );

  it.runIf(haveMpich)(
    "MPICH: a node file mpirun cannot read fails the job with mpirun's own words",
    async () => {
      const input = { executable: '/bin/true', launcher: 'mpirun', resources: { processCount: 2 } };
      const missing = path.join(dir, 'no-such-hosts');
      const cmd = await new MpirunLauncher({ program: 'mpirun.mpich' }).launchCommand(createJobSpec(input), {
        nodeFile: missing,
      });
      const job = await runJob(input, cmd);
      expect(job.result?.exitCode).not.toBe(0);
      expect(job.result?.failure).toMatch(/^mpirun\.mpich exited with status \d+ before starting any process: .+/);
      expect(job.result?.failure).toContain('no-such-hosts');
    },
    60_000,
  );

  it.runIf(haveOpenMpi)(
    'a failing rank is the program failing: its exit code, and no launcher message',
    async () => {
      const input = { executable: '/bin/sh', arguments: ['-c', 'echo oops >&2; exit 3'], resources: { processCount: 2 } };
      const job = await runJob(input, await new MpirunLauncher().launchCommand(createJobSpec(input)));
      expect(job.result).toEqual({ exitCode: 3 });
      expect(job.stderr).toContain('oops');
    },
    60_000,
  );
});

describe('mpirun flavour detection', () => {
  it('a missing mpirun is a LauncherError that says what to do', async () => {
    const err = await new MpirunLauncher({ program: 'exaworks-no-such-mpirun' })
      .launchCommand(createJobSpec({ executable: 'x' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LauncherError);
    expect((err as Error).message).toMatch(/"exaworks-no-such-mpirun" was not found on PATH\. Install Open MPI or MPICH/);
    // Failures are not cached: the same error comes from a fresh probe.
    await expect(detectMpiFlavour('exaworks-no-such-mpirun')).rejects.toBeInstanceOf(LauncherError);
  });

  it('an aborted signal stops the probe', async () => {
    await expect(detectMpiFlavour('mpirun-aborted-probe', AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    const slow = path.join(dir, 'slow-mpirun');
    writeFileSync(slow, '#!/bin/sh\nsleep 10\n', { mode: 0o755 });
    const controller = new AbortController();
    const started = Date.now();
    const probe = detectMpiFlavour(slow, controller.signal);
    setTimeout(() => controller.abort(new Error('user gave up')), 100);
    await expect(probe).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it.runIf(haveOpenMpi)('detects Open MPI once per process (cached)', async () => {
    const first = detectMpiFlavour('mpirun');
    expect(await first).toBe('openmpi');
    expect(detectMpiFlavour('mpirun')).toBe(first);
  });

  it.runIf(haveMpich)('detects MPICH behind mpirun.mpich', async () => {
    expect(await detectMpiFlavour('mpirun.mpich')).toBe('mpich');
  });
});

describe.skipIf(!haveOpenMpi)('mpirun launcher with Open MPI, for real', () => {
  let program = '';
  beforeAll(() => {
    program = compile('mpicc', path.join(dir, 'ranks-openmpi'));
  });

  it.each([1, 2, 4])(
    '-n %i: every rank runs and sees its rank and the size (2-core machine)',
    async (n) => {
      const input = { executable: program, resources: { processCount: n } };
      const cmd = await new MpirunLauncher().launchCommand(createJobSpec(input));
      if (process.getuid?.() === 0) expect(cmd.env).toEqual({ OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' });
      const job = await runJob(input, cmd);
      expect(ranksOf(job.stdout), job.stderr).toEqual(expectedRanks(n));
      expect(job.result).toEqual({ exitCode: 0 });
    },
    60_000,
  );

  it('ranks also see OMPI_COMM_WORLD_RANK/SIZE', async () => {
    const input = {
      executable: '/bin/sh',
      arguments: ['-c', 'echo "env $OMPI_COMM_WORLD_RANK/$OMPI_COMM_WORLD_SIZE"'],
      resources: { processCount: 2 },
    };
    const job = await runJob(input, await new MpirunLauncher().launchCommand(createJobSpec(input)));
    expect(job.stdout.split('\n').filter(Boolean).sort()).toEqual(['env 0/2', 'env 1/2']);
  }, 60_000);

  it('propagates the exit code of a failing rank', async () => {
    const input = { executable: program, arguments: ['1:3'], resources: { processCount: 2 } };
    const job = await runJob(input, await new MpirunLauncher().launchCommand(createJobSpec(input)));
    expect(job.result?.exitCode).toBe(3);
    expect(job.exitCode).toBe(3);
  }, 60_000);

  it('uses PSIJ_NODEFILE as the host file', async () => {
    const nodeFile = path.join(dir, 'nodes');
    writeFileSync(nodeFile, 'localhost\nlocalhost\n');
    const input = { executable: program, resources: { processCount: 2 } };
    const cmd = await new MpirunLauncher().launchCommand(createJobSpec(input), { nodeFile });
    expect(cmd.argv).toContain('--hostfile');
    const job = await runJob(input, cmd, { nodeFile });
    expect(ranksOf(job.stdout), job.stderr).toEqual(expectedRanks(2));
  }, 60_000);

  it('runs with a clean environment too (PATH from the job script)', async () => {
    const input = { executable: program, inheritEnvironment: false, resources: { processCount: 2 } };
    const job = await runJob(input, await new MpirunLauncher().launchCommand(createJobSpec(input)));
    expect(ranksOf(job.stdout), job.stderr).toEqual(expectedRanks(2));
  }, 60_000);
});

describe.skipIf(!haveMpich)('mpirun launcher with MPICH (mpirun.mpich), for real', () => {
  let program = '';
  beforeAll(() => {
    program = compile('mpicc.mpich', path.join(dir, 'ranks-mpich'));
  });

  it.each([1, 2, 4])(
    '-n %i: every rank runs and sees its rank and the size',
    async (n) => {
      const input = { executable: program, resources: { processCount: n } };
      const cmd = await new MpirunLauncher({ program: 'mpirun.mpich' }).launchCommand(createJobSpec(input));
      expect(cmd.env).toEqual({});
      expect(cmd.argv.slice(3, 6)).toEqual(['mpirun.mpich', '-n', String(n)]);
      const job = await runJob(input, cmd);
      expect(ranksOf(job.stdout), job.stderr).toEqual(expectedRanks(n));
      expect(job.result).toEqual({ exitCode: 0 });
    },
    60_000,
  );

  it('propagates the exit code of a failing rank', async () => {
    const input = { executable: program, arguments: ['1:3'], resources: { processCount: 2 } };
    const job = await runJob(input, await new MpirunLauncher({ program: 'mpirun.mpich' }).launchCommand(createJobSpec(input)));
    expect(job.result?.exitCode).toBe(3);
  }, 60_000);

  it('places ranks with -ppn from processesPerNode', async () => {
    const input = { executable: program, resources: { nodeCount: 1, processesPerNode: 3 } };
    const cmd = await new MpirunLauncher({ program: 'mpirun.mpich' }).launchCommand(createJobSpec(input));
    expect(cmd.argv).toEqual(['/bin/sh', REPORT_LAUNCH_SCRIPT, '5', 'mpirun.mpich', '-n', '3', '-ppn', '3', program]);
    const job = await runJob(input, cmd);
    expect(ranksOf(job.stdout), job.stderr).toEqual(expectedRanks(3));
  }, 60_000);
});
