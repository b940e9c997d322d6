// CLI start-up: `exaworks --version` and `exaworks status <id>` against `node -e 0`, same run.
// Runs are interleaved (node, --version, status, node, …) so load from other processes hits
// each alike; the figures are medians. `status` reads one finished job in a work directory that
// also holds BENCH_OLD_JOBS (default 300) other finished jobs, which it must not read.
// `wait <id>` on the same finished job is the peer: it opens the executor (zod, launchers,
// recovery of the whole directory), which is what `status` did before it became read-only.
// Targets: --version ≤ 1.5× node -e 0, status ≤ 2.5×. Sizes: BENCH_RUNS (default 20).
// Wall time is what a user waits; on a loaded machine it swings, so CPU time (user + system of
// the process, from bash's `times`, interleaved the same way) is reported beside it.
// The last line is one JSON object.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalExecutor } from '@exaworks/executors-local';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const OLD_JOBS = Number(process.env.BENCH_OLD_JOBS ?? 300);
const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'xw-bench-cli-'));

function runOnce(argv: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`node ${argv.join(' ')} exited with ${code}`))));
  });
}

/** CPU seconds (user + system) of one run of `node argv`, from bash's `times` (children line). */
function cpuOnce(argv: readonly string[]): number {
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1; times', 'bash', process.execPath, ...argv], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n')[1] ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (secs.length !== 2) throw new Error(`could not read bash times output: ${r.stdout}`);
  return (secs[0]! + secs[1]!) * 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

try {
  // The work directory: OLD_JOBS finished jobs, then the one `status` asks about.
  const executor = createLocalExecutor({ workDirectory: work, maxCores: 2 });
  const old = [];
  for (let i = 0; i < OLD_JOBS; i++) old.push(await executor.submit({ executable: '/bin/true' }));
  await Promise.all(old.map((j) => j.wait()));
  const target = await executor.submit({ executable: '/bin/true' });
  await target.wait();
  await executor.close();
  const id = target.nativeId!;

  const variants = {
    node: ['-e', '0'],
    version: [BIN, '--version'],
    status: [BIN, 'status', '--work-dir', work, id],
    wait: [BIN, 'wait', '--work-dir', work, id],
  } as const;
  const times: Record<keyof typeof variants, number[]> = { node: [], version: [], status: [], wait: [] };
  for (const argv of Object.values(variants)) await runOnce(argv); // warm-up: page cache
  for (let i = 0; i < RUNS; i++) {
    for (const [name, argv] of Object.entries(variants) as [keyof typeof variants, readonly string[]][]) {
      const t0 = performance.now();
      await runOnce(argv);
      times[name].push(performance.now() - t0);
    }
  }
  const cpu: Record<keyof typeof variants, number[]> = { node: [], version: [], status: [], wait: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const [name, argv] of Object.entries(variants) as [keyof typeof variants, readonly string[]][]) {
      cpu[name].push(cpuOnce(argv));
    }
  }
  const nodeCpu = median(cpu.node);
  const versionCpu = median(cpu.version);
  const statusCpu = median(cpu.status);
  const waitCpu = median(cpu.wait);
  const nodeMs = median(times.node);
  const versionMs = median(times.version);
  const statusMs = median(times.status);
  const waitMs = median(times.wait);
  const line = (label: string, wall: number, c: number, target?: number): void =>
    console.log(
      `${label.padEnd(22)} wall ${wall.toFixed(1).padStart(6)} ms${target ? `  ×${(wall / nodeMs).toFixed(2)}` : '      '}` +
        `   cpu ${c.toFixed(1).padStart(6)} ms${target ? `  ×${(c / nodeCpu).toFixed(2)}${Number.isFinite(target) ? `  (target ≤ ${target})` : ''}` : ''}`,
    );
  line('node -e 0', nodeMs, nodeCpu);
  line('exaworks --version', versionMs, versionCpu, 1.5);
  line('exaworks status <id>', statusMs, statusCpu, 2.5);
  line('wait <id> (peer)', waitMs, waitCpu, Number.POSITIVE_INFINITY);
  console.log(`(${RUNS} runs each, medians; status with ${OLD_JOBS} other finished jobs in the work directory)`);
  console.log(
    JSON.stringify({
      bench: 'cli-startup',
      runs: RUNS,
      oldJobs: OLD_JOBS,
      nodeMs: round(nodeMs, 1),
      versionMs: round(versionMs, 1),
      statusMs: round(statusMs, 1),
      versionRatio: round(versionMs / nodeMs, 2),
      statusRatio: round(statusMs / nodeMs, 2),
      nodeCpuMs: round(nodeCpu, 1),
      versionCpuMs: round(versionCpu, 1),
      statusCpuMs: round(statusCpu, 1),
      versionCpuRatio: round(versionCpu / nodeCpu, 2),
      statusCpuRatio: round(statusCpu / nodeCpu, 2),
      waitMs: round(waitMs, 1),
      waitCpuMs: round(waitCpu, 1),
      waitRatio: round(waitMs / nodeMs, 2),
      waitCpuRatio: round(waitCpu / nodeCpu, 2),
      versionTarget: 1.5,
      statusTarget: 2.5,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
