// Benchmark of the local executor's python3 exec agent: `npm run bench -- exec-agent`.
// 2,000 /bin/true (BENCH_JOBS) at concurrency 2 and 8, started by the exec agent (one vfork+exec
// each, with its start journal on /tmp), against /bin/true forked by a minimal sh fork server in
// the same run (a watcher subshell and setsid per job: the shape of the sh spawn agent). Prints
// ratioToForkServer2/8 (exec agent ÷ fork server); the last line is one JSON object.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExecAgents } from '../packages/executors-local/dist/exec-agent.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 2000);

/** `/bin/true` through a minimal sh fork server, `concurrency` at a time; jobs per second. */
async function forkServer(n: number, concurrency: number): Promise<number> {
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
      if (started < n) server.stdin!.write(`${started++}\n`);
      else if (done === n) resolve();
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

/** `/bin/true` through the exec agent, `concurrency` at a time; jobs per second. */
async function execAgent(n: number, concurrency: number, journalDirectory: string): Promise<number> {
  const agents = new ExecAgents({ journalDirectory, journalTag: `bench-${concurrency}` });
  // Warm up: the agent's own start (python3) is paid once per executor, not per job.
  await new Promise<void>((resolve, reject) => {
    agents.run(
      { id: 'warm', argv: ['/bin/true'], inherit: true, env: {} },
      { started: () => undefined, exited: () => resolve(), failed: (r, m) => reject(new Error(`${r}: ${m}`)) },
    );
  });
  const t0 = performance.now();
  let started = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      if (started < n) {
        const id = `j${started++}`;
        const sent = agents.run(
          { id, argv: ['/bin/true'], inherit: true, env: {} },
          {
            started: () => undefined,
            exited: (result) => {
              if (result.exitCode !== 0) reject(new Error(`${id} exited ${result.exitCode}`));
              done++;
              next();
            },
            failed: (reason, message) => reject(new Error(`${id}: ${reason}: ${message}`)),
          },
        );
        if (!sent) reject(new Error('the exec agent is not available here'));
      } else if (done === n) resolve();
    };
    for (let i = 0; i < concurrency; i++) next();
  });
  const rate = n / ((performance.now() - t0) / 1000);
  agents.close();
  agents.removeJournals();
  return rate;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'xw-bench-exec-'));
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const result: Record<string, unknown> = { bench: 'exec-agent', jobs: JOBS };
console.log(
  `exec-agent bench: ${JOBS} /bin/true, ${os.availableParallelism()} cores, node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
try {
  for (const concurrency of [2, 8]) {
    const server = await forkServer(JOBS, concurrency);
    const ours = await execAgent(JOBS, concurrency, dir);
    console.log(
      `concurrency ${concurrency}: exec agent ${ours.toFixed(0)} jobs/s | sh fork server ${server.toFixed(0)} jobs/s | ratioToForkServer ${(ours / server).toFixed(2)}`,
    );
    result[`execAgentPerSec${concurrency}`] = round(ours, 1);
    result[`forkServerPerSec${concurrency}`] = round(server, 1);
    result[`ratioToForkServer${concurrency}`] = round(ours / server);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
