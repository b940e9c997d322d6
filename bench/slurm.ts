// Benchmark of @exaworks/executors-slurm against a real Slurm: `npm run bench -- slurm` (root; scripts/install-slurm.sh).
// In the same run and on one private one-node Slurm (scripts/slurm-private.sh, 8 CPUs, sched_interval=1):
// BENCH_JOBS (default 500) /bin/true jobs through the executor vs a plain `sbatch --wrap` loop, each
// timed from the first submission until Slurm (raw) or the executor (ours) has them all COMPLETED
// (ratioToRaw = raw time / our time, ≥ 0.8 wanted); the lag from each job's end (the mtime of the
// exit-code file its script writes as its last act) to our COMPLETED (p50 ≤ one poll interval
// wanted); and the squeue calls per poll with BENCH_JOBS active (held) jobs (must be 1). The last
// line is one JSON object. Set SLURM_CONF to use a running Slurm instead of a private one.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { JobState, type Job } from '@exaworks/jpsi-core';
import { createSlurmExecutor } from '@exaworks/executors-slurm';
import { freePort } from '../integration-tests/support/net.js';

const run = promisify(execFile);
const JOBS = Number(process.env.BENCH_JOBS ?? 500);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 1000);
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tmp = mkdtempSync('/tmp/xw-bench-slurm-');
chmodSync(tmp, 0o755);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

/** Seconds from the first plain `sbatch` until squeue shows every one of them COMPLETED. */
async function rawSbatch(n: number, cwd: string): Promise<{ total: number; submit: number }> {
  const t0 = performance.now();
  const ids = new Set<string>();
  for (let i = 0; i < n; i++) ids.add((await run('sbatch', ['--parsable', '--wrap', 'true'], { cwd })).stdout.trim());
  const submit = (performance.now() - t0) / 1000;
  for (;;) {
    const { stdout } = await run('squeue', ['--me', '-h', '-t', 'all', '-O', 'JobID:|,State:|']);
    let done = 0;
    for (const line of stdout.split('\n')) {
      const [id, state] = line.split('|');
      if (id !== undefined && ids.has(id.trim()) && state?.trim() === 'COMPLETED') done++;
    }
    if (done === n) return { total: (performance.now() - t0) / 1000, submit };
    await sleep(250);
  }
}

let privateDir: string | undefined;
try {
  if (!process.env.SLURM_CONF) {
    privateDir = path.join(tmp, 'slurm');
    const out = execFileSync(
      'bash',
      [path.join(root, 'scripts/slurm-private.sh'), 'start', privateDir, String(await freePort()), String(await freePort())],
      { encoding: 'utf8' },
    );
    process.env.SLURM_CONF = /SLURM_CONF=(.*)/.exec(out)![1]!;
  }
  const work = path.join(tmp, 'work');

  // 1. Plain sbatch loop.
  const raw = await rawSbatch(JOBS, tmp);
  const rawSeconds = raw.total;

  // 2. The same number of jobs through the executor.
  const ex = createSlurmExecutor({ workDirectory: work, pollInterval: POLL_MS, initialPollDelay: POLL_MS });
  const t0 = performance.now();
  const jobs: Job[] = [];
  for (let i = 0; i < JOBS; i++) jobs.push(await ex.submit({ executable: '/bin/true' }));
  const oursSubmitSeconds = (performance.now() - t0) / 1000;
  const statuses = await Promise.all(jobs.map((j) => j.wait()));
  const oursSeconds = (performance.now() - t0) / 1000;
  const completed = statuses.filter((s) => s?.state === JobState.COMPLETED).length;
  const lags = jobs.map((j, i) => {
    const record = JSON.parse(readFileSync(path.join(work, `${j.nativeId}.job`), 'utf8')) as { key: string };
    const ended = statSync(path.join(work, `${record.key}.ec`)).mtimeMs;
    return statuses[i]!.time.getTime() - ended;
  });
  // Slurm's own EndTime (whole seconds, so this lag reads up to 1 s high).
  const endTimes = new Map<string, number>();
  for (const line of execFileSync('scontrol', ['show', 'job', '-o'], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n')) {
    const id = /JobId=(\d+)/.exec(line)?.[1];
    const end = /EndTime=(\S+)/.exec(line)?.[1];
    if (id && end) endTimes.set(id, new Date(end).getTime());
  }
  const endLags = jobs.map((j, i) => statuses[i]!.time.getTime() - (endTimes.get(j.nativeId!) ?? Number.NaN));

  // 3. squeue calls per poll with JOBS active (held: PENDING, no CPU) jobs, counted by a wrapper on PATH.
  const shim = path.join(tmp, 'shim');
  const calls = path.join(tmp, 'squeue-calls');
  const realSqueue = execFileSync('sh', ['-c', 'command -v squeue'], { encoding: 'utf8' }).trim();
  execFileSync('mkdir', ['-p', shim]);
  writeFileSync(path.join(shim, 'squeue'), `#!/bin/sh\necho call >>'${calls}'\nexec '${realSqueue}' "$@"\n`, { mode: 0o755 });
  const held = createSlurmExecutor({ workDirectory: path.join(tmp, 'held'), pollInterval: 600_000, initialPollDelay: 600_000 });
  const heldJobs: Job[] = [];
  for (let i = 0; i < JOBS; i++) {
    heldJobs.push(await held.submit({ executable: '/bin/true', attributes: { customAttributes: { 'slurm.hold': true } } }));
  }
  const before = held.pollStats.queries;
  process.env.PATH = `${shim}${path.delimiter}${process.env.PATH}`;
  const POLLS = 5;
  for (let i = 0; i < POLLS; i++) await held.pollNow();
  process.env.PATH = process.env.PATH.slice(shim.length + 1);
  const squeueCalls = readFileSync(calls, 'utf8').trim().split('\n').length;
  const polls = held.pollStats.queries - before;
  const active = heldJobs.filter((j) => j.status.state === JobState.QUEUED).length;
  await run('scancel', ['--me']);
  await held.pollNow();
  await held.close();
  await ex.close();

  const ratioToRaw = rawSeconds / oursSeconds;
  const lagP50 = quantile(lags, 0.5);
  console.log(
    `plain sbatch loop: ${JOBS} jobs completed in ${rawSeconds.toFixed(1)} s (submitted in ${raw.submit.toFixed(1)} s)`,
  );
  console.log(
    `executor:          ${JOBS} jobs completed in ${oursSeconds.toFixed(1)} s (submitted in ${oursSubmitSeconds.toFixed(1)} s, ${completed} COMPLETED), ratioToRaw ${ratioToRaw.toFixed(3)}`,
  );
  console.log(
    `lag end → COMPLETED: p50 ${lagP50.toFixed(0)} ms, p90 ${quantile(lags, 0.9).toFixed(0)} ms; from Slurm's EndTime (1 s resolution) p50 ${quantile(endLags, 0.5).toFixed(0)} ms (poll interval ${POLL_MS} ms)`,
  );
  console.log(`squeue calls per poll with ${active} active jobs: ${squeueCalls}/${polls}`);
  console.log(
    JSON.stringify({
      bench: 'slurm',
      jobs: JOBS,
      cpus: os.availableParallelism(),
      rawSeconds: round(rawSeconds, 2),
      oursSeconds: round(oursSeconds, 2),
      ratioToRaw: round(ratioToRaw),
      completed,
      pollIntervalMs: POLL_MS,
      lagP50Ms: round(lagP50, 0),
      lagP90Ms: round(quantile(lags, 0.9), 0),
      lagFromSlurmEndTimeP50Ms: round(quantile(endLags, 0.5), 0),
      rawSubmitSeconds: round(raw.submit, 2),
      oursSubmitSeconds: round(oursSubmitSeconds, 2),
      lagP50PerPollInterval: round(lagP50 / POLL_MS),
      activeJobs: active,
      squeueCallsPerPoll: round(squeueCalls / polls),
    }),
  );
} finally {
  if (privateDir) execFileSync('bash', [path.join(root, 'scripts/slurm-private.sh'), 'stop', privateDir]);
  rmSync(tmp, { recursive: true, force: true });
}
