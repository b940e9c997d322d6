/**
 * End to end: `exaworks dag …` through the built binary, with real jobs on the local executor,
 * including a SIGKILL of the running CLI and a resume that re-attaches to the job it left running.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellJoin } from '@exaworks/jpsi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let base: string;

function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: base,
    env: { ...process.env, EXAWORKS_WORK_DIR: path.join(base, 'work'), EXAWORKS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });
  return { child, done, out };
}
const exaworks = (...args: string[]) => start(args).done;

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('exaworks dag (built binary, real local executor)', () => {
  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first`);
    base = await mkdtemp(path.join(os.tmpdir(), 'exaworks-dag-e2e-'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('graph, run (summary table, plain progress lines, exit 1 on a failure), status, and run refusing an existing journal', async () => {
    const file = path.join(base, 'pipe.yaml');
    writeFileSync(
      file,
      [
        'onFailure: continue',
        'jobs:',
        '  hello:',
        '    spec: { executable: /bin/echo, arguments: [hello] }',
        '  sweep:',
        '    after: [hello]',
        '    matrix: { n: [1, 2] }',
        '    spec: { executable: /bin/echo, arguments: ["${{ matrix.n }}"] }',
        '  broken:',
        '    spec: { executable: /bin/sh, arguments: [-c, "exit 7"] }',
        '  downstream:',
        '    after: [broken]',
        '    spec: { executable: /bin/true }',
        '',
      ].join('\n'),
    );
    const graph = await exaworks('dag', 'graph', file, '--format', 'mermaid');
    expect(graph.code).toBe(0);
    expect(graph.stdout).toContain('graph TD');
    expect(graph.stdout).toContain('n0 --> n1');
    expect((await exaworks('dag', 'graph', file, '--format', 'dot')).stdout).toMatch(/^digraph workflow \{/);

    const run = await exaworks('dag', 'run', file);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^TASK\s+STATE\s+ATTEMPTS/);
    expect(run.stdout).toMatch(/sweep\[n=2\]\s+SUCCEEDED/);
    expect(run.stdout).toMatch(/downstream\s+SKIPPED.*skipped: broken/);
    expect(run.stdout).toMatch(/FAILED: 3\/5 succeeded, 1 failed, 1 skipped/);
    expect(run.stderr).toMatch(/^started hello$/m);
    expect(run.stderr).toMatch(/^failed broken: Job \S+ of task "broken" ended FAILED with exit code 7/m);

    const journal = path.join(base, 'pipe.journal.jsonl');
    const status = await exaworks('dag', 'status', journal, '--json');
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { ended: boolean; counts: Record<string, number> };
    expect(parsed.ended).toBe(true);
    expect(parsed.counts).toMatchObject({ succeeded: 3, failed: 1, skipped: 1 });

    const again = await exaworks('dag', 'run', file);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists: continue it with `exaworks dag resume/);
  }, 180_000); // five CLI processes and four jobs: slow on a busy 2-core machine (43 s seen at load 49)

  it('on a terminal (a real pty from script(1)) the progress is one redrawn line with a bar and counts per state', async () => {
    const file = path.join(base, 'tty.yaml');
    writeFileSync(
      file,
      [
        'jobs:',
        '  one:',
        '    spec: { executable: /bin/true }',
        '  two:',
        '    after: [one]',
        '    matrix: { n: [1, 2] }',
        '    spec: { executable: /bin/echo, arguments: ["${{ matrix.n }}"] }',
        '',
      ].join('\n'),
    );
    // script(1) runs the CLI on a new pseudo-terminal (stdout and stderr both) and exits with its code.
    const r = await new Promise<Result>((resolve, reject) => {
      const child = spawn('script', ['-q', '-e', '-c', shellJoin([process.execPath, BIN, 'dag', 'run', file]), '/dev/null'], {
        cwd: base,
        env: { ...process.env, EXAWORKS_WORK_DIR: path.join(base, 'work'), EXAWORKS_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('\r\x1b[2K'); // redrawn in place
    expect(r.stdout).not.toMatch(/^started one/m); // no plain event lines on a terminal
    expect(r.stdout).toMatch(
      /\[#{20}\] 3\/3 {2}0 queued · 0 running · 3 succeeded \(0 cached\) · 0 failed · 0 skipped · 0 canceled/,
    );
    expect(r.stdout).toMatch(/OK: 3\/3 succeeded/);
  }, 60_000);

  it('an invalid file exits 2 naming the line and the field', async () => {
    const file = path.join(base, 'bad.yaml');
    writeFileSync(file, 'jobs:\n  a:\n    spec: { executable: /bin/true }\n    retries: many\n');
    const r = await exaworks('dag', 'run', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/jobs\.a\.retries: bad\.yaml:4:14: /);
  }, 30_000);

  it('SIGKILL of `dag run` while a job runs; status is read-only; resume re-attaches instead of resubmitting', async () => {
    const go = path.join(base, 'go');
    const log = path.join(base, 'held.log');
    const file = path.join(base, 'held.yaml');
    writeFileSync(
      file,
      [
        'jobs:',
        '  held:',
        '    spec:',
        '      executable: /bin/sh',
        '      arguments: [-c, "echo started >> \\"$LOG\\"; while [ ! -e \\"$GO\\" ]; do sleep 0.05; done"]',
        `      environment: { LOG: "${log}", GO: "${go}" }`,
        '  after-held:',
        '    after: [held]',
        '    spec: { executable: /bin/true }',
        '',
      ].join('\n'),
    );
    const journal = path.join(base, 'held.journal.jsonl');
    const { child, done } = start(['dag', 'run', file]);
    await until(
      'the native id in the journal',
      () => existsSync(journal) && readFileSync(journal, 'utf8').includes('"t":"native"'),
    );
    child.kill('SIGKILL');
    await done;

    const status = await exaworks('dag', 'status', journal);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/unfinished/);
    expect(status.stdout).toMatch(/held\s+RUNNING\s+1/);
    const before = readFileSync(journal, 'utf8');
    expect((await exaworks('dag', 'status', journal, '--json')).code).toBe(0);
    expect(readFileSync(journal, 'utf8')).toBe(before); // read-only

    const resumed = start(['dag', 'resume', journal]);
    // The job is still held, so the resume can only finish by re-attaching to it.
    await until('the resume to re-attach', () => /re-attached/.test(resumed.out.stderr));
    expect(readFileSync(log, 'utf8')).toBe('started\n');
    writeFileSync(go, '');
    const r = await resumed.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/submitted held \S+ \(re-attached\)/);
    expect(r.stdout).toMatch(/OK: 2\/2 succeeded.*\(resumed\)/);
    expect(readFileSync(log, 'utf8')).toBe('started\n'); // ran once
  }, 180_000);
});
