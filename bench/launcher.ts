// Benchmark of @exaworks/launcher: `npx tsx bench/launcher.ts` (or `npm run bench -- launcher`).
// Per-job latency, one job at a time, variants interleaved, all measured in the same run: /bin/true spawned directly;
// the generated job script with the `single` launcher (sh, and bash when a pre-launch script is
// set); `mpirun -n 1 /bin/true` directly and through the job script. The last line is one JSON object.
// Sizes: BENCH_JOBS (default 100) for the quick runs, BENCH_MPI_JOBS (default 100) for mpirun.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createJobSpec, type JobSpecInput, type LaunchCommand } from '@exaworks/jpsi-core';
import { jobScriptFor, MpirunLauncher, SingleLauncher } from '@exaworks/launcher';

const JOBS = Number(process.env.BENCH_JOBS ?? 100);
const MPI_JOBS = Number(process.env.BENCH_MPI_JOBS ?? 100);
const dir = mkdtempSync(path.join(os.tmpdir(), 'xw-bench-launcher-'));

function runOnce(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', env });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited with ${code}`))));
  });
}

/**
 * Runs each command `n` times, one run at a time, interleaved (A, B, C, A, B, C, …) so that load
 * from other processes on the machine hits every variant alike; returns milliseconds per run of each.
 */
async function perRun(
  commands: ReadonlyArray<{ argv: readonly string[]; env?: NodeJS.ProcessEnv }>,
  n: number,
): Promise<number[]> {
  for (const c of commands) await runOnce(c.argv, c.env ?? process.env); // warm-up: page cache, first exec
  const totals = commands.map(() => 0);
  for (let i = 0; i < n; i++) {
    for (const [k, c] of commands.entries()) {
      const t0 = performance.now();
      await runOnce(c.argv, c.env ?? process.env);
      totals[k]! += performance.now() - t0;
    }
  }
  return totals.map((t) => t / n);
}

/** Writes the job script for `input` + `launch` and returns its path. */
function script(name: string, input: JobSpecInput, launch: LaunchCommand): string {
  const file = path.join(dir, `${name}.sh`);
  const files = {
    resultFile: path.join(dir, `${name}.result`),
    stdout: path.join(dir, `${name}.out`),
    stderr: path.join(dir, `${name}.err`),
  };
  writeFileSync(file, jobScriptFor(createJobSpec(input), launch, files));
  chmodSync(file, 0o755);
  return file;
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

try {
  const trueSpec: JobSpecInput = { executable: '/bin/true' };
  const single = await new SingleLauncher().launchCommand(createJobSpec(trueSpec));
  const preLaunch = path.join(dir, 'pre.sh');
  writeFileSync(preLaunch, ':\n');

  const [rawMs, singleMs, singleBashMs] = (await perRun(
    [
      { argv: ['/bin/true'] },
      { argv: [script('single', trueSpec, single)] },
      { argv: [script('single-bash', { ...trueSpec, preLaunch }, single)] },
    ],
    JOBS,
  )) as [number, number, number];
  console.log(`raw /bin/true (child_process.spawn)        ${rawMs.toFixed(2)} ms/job  (${JOBS} jobs)`);
  console.log(`single launcher job script (sh)            ${singleMs.toFixed(2)} ms/job  ×${(singleMs / rawMs).toFixed(2)} raw`);
  console.log(
    `single launcher job script (bash, pre-launch) ${singleBashMs.toFixed(2)} ms/job  ×${(singleBashMs / rawMs).toFixed(2)} raw`,
  );

  let mpi: Record<string, number> = {};
  if (spawnSync('sh', ['-c', 'command -v mpirun']).status === 0) {
    const mpiSpec: JobSpecInput = { executable: '/bin/true', resources: { processCount: 1 } };
    const mpirun = await new MpirunLauncher().launchCommand(createJobSpec(mpiSpec));
    const [mpirunDirectMs, mpirunMs] = (await perRun(
      [{ argv: mpirun.argv, env: { ...process.env, ...mpirun.env } }, { argv: [script('mpirun', mpiSpec, mpirun)] }],
      MPI_JOBS,
    )) as [number, number];
    console.log(
      `mpirun -n 1 /bin/true directly             ${mpirunDirectMs.toFixed(2)} ms/job  (${MPI_JOBS} jobs; ${mpirun.argv.join(' ')})`,
    );
    console.log(
      `mpirun -n 1 /bin/true via the job script   ${mpirunMs.toFixed(2)} ms/job  ×${(mpirunMs / rawMs).toFixed(1)} raw, +${(mpirunMs - mpirunDirectMs).toFixed(2)} ms over mpirun directly`,
    );
    mpi = {
      mpirunMsPerJob: round(mpirunMs),
      mpirunDirectMsPerJob: round(mpirunDirectMs),
      ratioToRaw: round(mpirunMs / rawMs),
      mpirunScriptOverheadMs: round(mpirunMs - mpirunDirectMs),
    };
  } else {
    console.log('mpirun not found: run scripts/install-mpi.sh to measure it (mpirun numbers omitted)');
  }
  console.log(
    JSON.stringify({
      bench: 'launcher',
      jobs: JOBS,
      mpiJobs: MPI_JOBS,
      ...mpi,
      rawMsPerJob: round(rawMs),
      singleMsPerJob: round(singleMs),
      singleRatioToRaw: round(singleMs / rawMs),
      singleBashMsPerJob: round(singleBashMs),
      singleBashRatioToRaw: round(singleBashMs / rawMs),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
