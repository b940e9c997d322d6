// Benchmark of @exaworks/executors-local: `npx tsx bench/local-executor.ts`.
// 1,000 /bin/true jobs at maxCores 2 and 8 against raw child_process.spawn of /bin/true at the
// same concurrency (and of the job script itself, the floor the executor cannot go below), and
// against /bin/true forked by a minimal sh fork server (the shape of the executor's spawn agent:
// what a small forking process can reach from here), then the heap growth for 10,000 queued
// jobs, then both spawn paths in a process with 1 GiB more resident memory. When psij-python is
// importable (BENCH_PSIJ_SRC=<psij-python checkout>/src, or installed; BENCH_PSIJ_PYTHON names the
// interpreter, default /usr/bin/python3) its local executor runs the same jobs in the same run as
// the peer. The last line is one JSON object.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, JobState } from '@exaworks/jpsi-core';
import { createLocalExecutor } from '@exaworks/executors-local';

// Heap numbers need global.gc: re-run this file under --expose-gc if it is missing.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}
const gc = globalThis.gc as () => void;

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const QUEUED = Number(process.env.BENCH_QUEUED ?? 10_000);
// BENCH_SPAWN_AGENT=0 measures the direct child_process.spawn path (the executor before its spawn agent).
const SPAWN_AGENT = process.env.BENCH_SPAWN_AGENT !== '0';
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'xw-bench-'));
  dirs.push(d);
  return d;
};

/** Runs `n` copies of argv with at most `concurrency` at once; returns jobs per second. */
async function raw(argv: string[], n: number, concurrency: number): Promise<number> {
  const t0 = performance.now();
  let started = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      if (started >= n) {
        if (done === n) resolve();
        return;
      }
      started++;
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true });
      child.once('error', reject);
      child.once('exit', () => {
        done++;
        next();
      });
    };
    for (let i = 0; i < concurrency; i++) next();
  });
  return n / ((performance.now() - t0) / 1000);
}

/**
 * Runs `n` /bin/true through a minimal sh fork server (one request line per job, a watcher per
 * job, setsid for a process group each), at most `concurrency` at once; returns jobs per second.
 */
async function rawForkServer(n: number, concurrency: number): Promise<number> {
  const server = spawn(
    '/bin/sh',
    [
      '-c',
      'while IFS= read -r id; do { setsid /bin/true </dev/null >/dev/null 2>&1 & p=$!; echo "pid $id $p"; wait "$p"; echo "exit $id $?"; } & done',
    ],
    { stdio: ['pipe', 'pipe', 'ignore'], detached: true },
  );
  const t0 = performance.now();
  let started = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      if (started >= n) {
        if (done === n) resolve();
        return;
      }
      server.stdin!.write(`${started++}\n`);
    };
    let buf = '';
    server.stdout!.setEncoding('latin1');
    server.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        if (buf.startsWith('exit ')) {
          done++;
          next();
        }
        buf = buf.slice(i + 1);
      }
    });
    for (let i = 0; i < concurrency; i++) next();
  });
  const rate = n / ((performance.now() - t0) / 1000);
  server.stdin!.end();
  return rate;
}

/** Submits `n` /bin/true jobs to a fresh executor and waits for all; returns jobs/s. */
async function executor(
  n: number,
  maxCores: number,
  keepFiles = false,
  spawnAgent = SPAWN_AGENT,
): Promise<{ jobsPerSec: number; ids: string[]; workDirectory: string }> {
  const workDirectory = tmp();
  const ex = createLocalExecutor({ workDirectory, maxCores, keepFiles, recover: false, spawnAgent });
  const t0 = performance.now();
  const jobs: Promise<Job>[] = [];
  for (let i = 0; i < n; i++) jobs.push(ex.submit({ executable: '/bin/true' }));
  const submitted = await Promise.all(jobs);
  const finals = await Promise.all(submitted.map((j) => j.wait()));
  const jobsPerSec = n / ((performance.now() - t0) / 1000);
  const bad = finals.filter((s) => s?.state !== JobState.COMPLETED).length;
  if (bad) throw new Error(`${bad} jobs did not complete`);
  await ex.close();
  return { jobsPerSec, ids: submitted.map((j) => j.nativeId!), workDirectory };
}

// The job script the executor runs, as it runs it (`sh -c <script> <name>`): keepFiles leaves a copy.
const sample = await executor(1, 1, true);
const jobScript = readFileSync(path.join(sample.workDirectory, `${sample.ids[0]!}.sh`), 'utf8');
const scriptArgv = ['/bin/sh', '-c', jobScript, `exaworks-job:${sample.ids[0]!}`];

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const result: Record<string, unknown> = { bench: 'local-executor', spawnAgent: SPAWN_AGENT };
console.log(
  `local-executor bench: ${JOBS} /bin/true jobs, ${os.availableParallelism()} cores, node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

await executor(50, 2); // warm up: module loading, launcher registry, page cache
for (const cores of [2, 8]) {
  const ours = await executor(JOBS, cores);
  const rawTrue = await raw(['/bin/true'], JOBS, cores);
  const rawScript = await raw(scriptArgv, JOBS, cores);
  const forkServer = await rawForkServer(JOBS, cores);
  const ratio = ours.jobsPerSec / rawTrue;
  console.log(
    `maxCores ${cores}: executor ${ours.jobsPerSec.toFixed(0)} jobs/s | raw spawn /bin/true ${rawTrue.toFixed(0)}/s (ratioToRaw ${ratio.toFixed(2)}) | raw spawn of the job script ${rawScript.toFixed(0)}/s (executor/script ${(ours.jobsPerSec / rawScript).toFixed(2)}) | /bin/true via a sh fork server ${forkServer.toFixed(0)}/s (ratioToForkServer ${(ours.jobsPerSec / forkServer).toFixed(2)})`,
  );
  result[`rawSpawnPerSec${cores}`] = round(rawTrue, 1);
  result[`rawForkServerPerSec${cores}`] = round(forkServer, 1);
  result[`ratioToForkServer${cores}`] = round(ours.jobsPerSec / forkServer);
  result[`jobsPerSec${cores}`] = round(ours.jobsPerSec, 1);
  result[`ratioToRaw${cores}`] = round(ratio);
  result[`ratioToScript${cores}`] = round(ours.jobsPerSec / rawScript);
}

// The peer: psij-python's local executor on the same jobs, in the same run, when it is importable.
{
  const python = process.env.BENCH_PSIJ_PYTHON ?? '/usr/bin/python3';
  const src = process.env.BENCH_PSIJ_SRC;
  const env = src ? { ...process.env, PYTHONPATH: src } : process.env;
  const probe = spawnSync(python, ['-c', 'import psij'], { env, encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`psij-python: not importable by ${python} (set BENCH_PSIJ_SRC=<psij-python checkout>/src): peer skipped`);
    result.psijPythonPerSec = null;
  } else {
    const script = fileURLToPath(new URL('./psij-local.py', import.meta.url));
    const run = spawnSync(python, [script, String(JOBS)], { env, encoding: 'utf8', maxBuffer: 2 ** 24 });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    const peer = JSON.parse(line) as { jobsPerSec: number; failed: number; version: string };
    if (peer.failed > 0) throw new Error(`psij-python: ${peer.failed} jobs did not complete`);
    const ours = await executor(JOBS, 8);
    console.log(
      `psij-python ${peer.version} local executor: ${peer.jobsPerSec.toFixed(0)} jobs/s | executor at maxCores 8 right after: ${ours.jobsPerSec.toFixed(0)} jobs/s (ratioToPsijPython ${(ours.jobsPerSec / peer.jobsPerSec).toFixed(2)})`,
    );
    result.psijPythonVersion = peer.version;
    result.psijPythonPerSec = round(peer.jobsPerSec, 1);
    result.ratioToPsijPython = round(ours.jobsPerSec / peer.jobsPerSec);
  }
}

// Heap growth for QUEUED queued jobs: one long job holds the only core, the rest wait.
{
  const ex = createLocalExecutor({ workDirectory: tmp(), maxCores: 1, recover: false, killGracePeriod: 100 });
  const blocker = await ex.submit({ executable: '/bin/sleep', arguments: ['600'] });
  await blocker.wait({ targetStates: [JobState.ACTIVE] });
  gc();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const jobs: Job[] = [];
  for (let i = 0; i < QUEUED; i++) jobs.push(await ex.submit({ executable: '/bin/true' }));
  const submitSecs = (performance.now() - t0) / 1000;
  gc();
  const after = process.memoryUsage().heapUsed;
  const queued = ex.queuedCount;
  const mb = (after - before) / 2 ** 20;
  console.log(
    `${QUEUED} queued jobs (${queued} waiting): heap +${mb.toFixed(1)} MB (${((after - before) / QUEUED / 1024).toFixed(2)} KiB/job), submitted at ${(QUEUED / submitSecs).toFixed(0)} jobs/s`,
  );
  const t1 = performance.now();
  for (const j of jobs) await ex.cancel(j);
  await ex.cancel(blocker);
  await blocker.wait();
  console.log(
    `canceled ${QUEUED} queued jobs in ${((performance.now() - t1) / 1000).toFixed(2)} s; all CANCELED: ${jobs.every((j) => j.status.state === 'CANCELED')}`,
  );
  await ex.close();
  result.heapMBFor10kQueued = round(mb, 1);
}

// A large Node process: fork copies its page tables, so direct spawns slow down with its memory
// and the spawn agent does not. BENCH_BALLAST_MB=0 skips this part.
const BALLAST_MB = Number(process.env.BENCH_BALLAST_MB ?? 1024);
if (BALLAST_MB > 0) {
  const ballast: Buffer[] = [];
  for (let i = 0; i < BALLAST_MB; i++) ballast.push(Buffer.alloc(2 ** 20, 1));
  const n = 200;
  const agent = await executor(n, 2, false, true);
  const direct = await executor(n, 2, false, false);
  const rawTrue = await raw(['/bin/true'], n, 2);
  console.log(
    `with ${BALLAST_MB} MB more resident, maxCores 2: spawn agent ${agent.jobsPerSec.toFixed(0)} jobs/s | direct spawn ${direct.jobsPerSec.toFixed(0)} jobs/s | raw spawn /bin/true ${rawTrue.toFixed(0)}/s`,
  );
  result.ballastMB = BALLAST_MB;
  result.largeProcessAgentPerSec2 = round(agent.jobsPerSec, 1);
  result.largeProcessDirectPerSec2 = round(direct.jobsPerSec, 1);
  result.largeProcessRawSpawnPerSec2 = round(rawTrue, 1);
  ballast.length = 0;
}

for (const d of dirs) rmSync(d, { recursive: true, force: true });
console.log(JSON.stringify(result));
