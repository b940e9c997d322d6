/**
 * Port of psij-python `tests/test_mpi.py`: `env | grep RANK` in a 4-process job shows each rank
 * 0–3 exactly once in one of the MPI rank variables (the job exits 0 even when grep finds none). psij-python runs it for `mpirun` only; here
 * the other launchers run it too and must show what they promise instead: `multiple` numbers its
 * copies in `EXAWORKS_RANK` (0–3) and sets no MPI rank, `single` starts one process.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { requireTool } from '../../support/tools.js';
import { MPI_LAUNCHERS, describeStatus, portedModule, readIfExists, type PortTarget } from './harness.js';

const RANK_VARS = ['PMIX_RANK', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK', 'MV2_COMM_WORLD_RANK'];
// The compiler wrapper that builds for each mpirun launcher's MPI.
const MPICC: Record<string, string> = { mpirun: 'mpicc', 'mpirun-mpich': 'mpicc.mpich' };
const N_RANKS = 4;

// A real MPI program: each rank reports what MPI says, and an Allreduce proves the ranks talk.
const HELLO_C = `#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
  int rank, size, sum;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("rank=%d size=%d sum=%d\\n", rank, size, sum);
  MPI_Finalize();
  return 0;
}
`;

/** The values of `name=` lines in `output`, sorted. */
function values(output: string, name: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith(`${name}=`))
    .map((line) => line.slice(name.length + 1))
    .sort();
}

/** Registers the ported test_mpi.py test for every launcher of `target`. */
export function portedMpiTests(target: PortTarget): void {
  portedModule(target, 'test_mpi.py', (c) => {
    c.it(`test_basic_mpi: ${N_RANKS} processes show the ranks their launcher gives them`, async () => {
      const d = await c.dir();
      const out = path.join(d, 'stdout.txt');
      const err = path.join(d, 'stderr.txt');
      const { status } = await c.run({
        executable: '/bin/bash',
        arguments: ['-c', 'echo started; env | grep RANK; exit 0'],
        resources: { processCount: N_RANKS },
        stdoutPath: out,
        stderrPath: err,
      });
      expect(status.state, `${describeStatus(status)} stderr=${await readIfExists(err)}`).toBe('COMPLETED');
      const output = (await readIfExists(out)) ?? '';
      const all = Array.from({ length: N_RANKS }, (_, i) => String(i));
      const started = output.split('\n').filter((l) => l === 'started').length;
      if (MPI_LAUNCHERS.has(c.launcher)) {
        expect(started).toBe(N_RANKS);
        // As psij-python: the first rank variable that is set at all must name every rank once.
        const found = RANK_VARS.map((v) => values(output, v)).find((vs) => vs.length > 0);
        expect(found, output).toEqual(all);
      } else if (c.launcher === 'multiple') {
        expect(started).toBe(N_RANKS);
        expect(values(output, 'EXAWORKS_RANK')).toEqual(all);
        for (const v of RANK_VARS) expect(values(output, v), v).toEqual([]);
      } else {
        expect(started).toBe(1);
        for (const v of RANK_VARS) expect(values(output, v), v).toEqual([]);
      }
    });

    // Not in psij-python: beyond environment variables, a compiled MPI program must run as one
    // communicator. Only for the mpirun launchers: their compiler wrapper builds for their MPI.
    const mpicc = MPICC[c.launcher];
    if (mpicc !== undefined && requireTool(mpicc, 'run: sudo bash scripts/install-mpi.sh')) {
      c.it(
        `an MPI program (mpicc) runs as ${N_RANKS} ranks of one communicator`,
        async () => {
          const d = await c.dir();
          await writeFile(path.join(d, 'hello.c'), HELLO_C);
          await promisify(execFile)(mpicc, ['-o', path.join(d, 'hello'), path.join(d, 'hello.c')], { timeout: c.T(60_000) });
          const out = path.join(d, 'stdout.txt');
          const err = path.join(d, 'stderr.txt');
          const { status } = await c.run({
            executable: path.join(d, 'hello'),
            resources: { processCount: N_RANKS },
            stdoutPath: out,
            stderrPath: err,
          });
          expect(status.state, `${describeStatus(status)} stderr=${await readIfExists(err)}`).toBe('COMPLETED');
          const lines = ((await readIfExists(out)) ?? '').trim().split('\n').sort();
          const sum = (N_RANKS * (N_RANKS - 1)) / 2;
          expect(lines).toEqual(Array.from({ length: N_RANKS }, (_, i) => `rank=${i} size=${N_RANKS} sum=${sum}`));
        },
        c.T(120_000),
      );
    }
  });
}
