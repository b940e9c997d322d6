// SIGKILL of the executor's process at any moment: nothing accepted is lost or run twice.
// Every job appends its name to a ledger outside the work directory; the test counts lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Job, type JobSpecInput, JobState } from '@exaworks/jpsi-core';
import type { LocalExecutor, LocalExecutorConfigInput } from './index.js';
import { LocalJobReader } from './store.js';
import {
  appendToJournal,
  journalLine,
  makeFifo,
  releaseFifo,
  startChild,
  tempDir,
  until,
  useExecutors,
} from './test-support/helpers.js';

// The built executor, started without a TypeScript loader: hundreds of processes must start quickly.
const KILL_CHILD = fileURLToPath(new URL('./test-support/kill-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const makeExecutor = useExecutors({ maxCores: 2, killGracePeriod: 300, pollInterval: 50 });
const executor = (workDirectory: string, config: LocalExecutorConfigInput = {}): LocalExecutor =>
  makeExecutor({ workDirectory, ...config });

function ledgerCounts(ledger: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(ledger)) return out;
  for (const n of readFileSync(ledger, 'utf8').split('\n')) if (n) out.set(n, (out.get(n) ?? 0) + 1);
  return out;
}

/** A job that appends `name` to the ledger; padded so that a burst overflows the agent's pipe. */
function ledgerJob(ledger: string, name: string): JobSpecInput {
  return {
    executable: '/bin/sh',
    arguments: ['-c', `echo ${name} >> ${ledger}`, 'p'.repeat(600)],
    name,
  };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Waits for every job in the work directory to end; returns name → final state. */
async function finishAll(e: LocalExecutor, timeout: number): Promise<Map<string, { state: string; message?: string }>> {
  await e.ready();
  const out = new Map<string, { state: string; message?: string }>();
  // Accepted = a complete record (a submit killed inside its one write leaves none, or an empty file).
  const reader = new LocalJobReader(e.workDirectory);
  const ids = reader.ids().filter((id) => reader.read(id) !== undefined);
  await Promise.all(
    ids.map(async (id) => {
      const j = new Job();
      await e.attach(j, id);
      const status = await j.wait({ timeout });
      const name = reader.read(id)!.record.spec.name!;
      out.set(name, { state: status?.state ?? j.status.state, ...(status?.message ? { message: status.message } : {}) });
    }),
  );
  return out;
}

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('LocalExecutor: SIGKILL at any moment', () => {
  it('a burst at maxCores 1000, SIGKILLed as soon as its submits resolved: every accepted job runs exactly once', async () => {
    const wd = tempDir();
    const ledger = path.join(tempDir('xw-ledger-'), 'ledger');
    const ledgerJobs = { ledger, prefix: 'b', count: 300, pad: 600 };
    let ids: string[] | undefined;
    const child = startChild({ op: 'submit-and-hang', workDirectory: wd, maxCores: 1000, ledgerJobs }, (line) => {
      ids = (JSON.parse(line) as { ids: string[] }).ids;
      child.kill('SIGKILL'); // requests still in Node's buffer for the agent's pipe are lost with it
    });
    await until(() => ids !== undefined, 120_000, 'the submits');
    await exited(child);
    const ends = await finishAll(executor(wd, { maxCores: 1000 }), 60_000);
    expect(ends.size).toBe(300);
    const notCompleted = [...ends].filter(([, s]) => s.state !== 'COMPLETED');
    expect(notCompleted).toEqual([]);
    const counts = ledgerCounts(ledger);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    expect(counts.size).toBe(300);
  }, 240_000);

  it("an adopter does not decide a job while the dead owner's spawn agent may still start it, and then runs it once", async () => {
    const wd = tempDir();
    const dir = tempDir('xw-agent-');
    const ledger = path.join(dir, 'ledger');
    const hold = makeFifo(dir);
    const first = executor(wd, { maxCores: 1 });
    const blocker = await first.submit({ executable: '/bin/sh', arguments: ['-c', `read _ < ${hold}`] });
    const a = await first.submit(ledgerJob(ledger, 'a'));
    const b = await first.submit(ledgerJob(ledger, 'b'));
    await blocker.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
    await first.close();
    await releaseFifo(hold);
    // Stand-ins for the dead owner's agents, still alive: each holds a request it has not recorded.
    const standIn = (): ChildProcess => spawn('/bin/sh', ['-c', 'read _'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const agents = [standIn(), standIn()];
    const stat = (pid: number) => {
      const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
      return s.slice(s.lastIndexOf(')') + 2).split(' ')[19]!;
    };
    const journals = [path.join(dir, 'a.started'), path.join(dir, 'b.started')];
    const time = new Date().toISOString();
    [a, b].forEach((job, i) => {
      const agent = { pid: agents[i]!.pid!, startTime: stat(agents[i]!.pid!), journal: journals[i]! };
      appendToJournal(
        wd,
        job.nativeId!,
        `${journalLine(job.nativeId!, { state: 'STAGE_IN', time })}${journalLine(job.nativeId!, { spawn: 'agent', agent })}`,
      );
      appendFileSync(journals[i]!, '');
    });
    const e = executor(wd, { maxCores: 2 });
    await e.ready();
    const ja = new Job();
    const jb = new Job();
    await e.attach(ja, a.nativeId!);
    await e.attach(jb, b.nativeId!);
    // Many poll intervals pass with both agents alive: neither job is decided, neither runs.
    await new Promise((r) => setTimeout(r, 800));
    expect([ja.status.state, jb.status.state]).toEqual(['STAGE_IN', 'STAGE_IN']);
    expect(ledgerCounts(ledger).size).toBe(0);
    // Agent a started its job after all (it recorded it first, as the real agent does); agent b never did.
    appendFileSync(journals[0]!, `\nS ${a.nativeId!} .\n`);
    const job = spawn(
      '/bin/sh',
      ['-c', `echo a >> ${ledger}; printf '0\\n' > ${path.join(wd, `${a.nativeId!}.result`)}`, `exaworks-job:${a.nativeId!}`],
      {
        detached: true,
        stdio: 'ignore',
      },
    );
    await exited(job);
    appendFileSync(journals[0]!, `\nE ${a.nativeId!} 0 .\n`);
    agents[0]!.kill('SIGKILL');
    agents[1]!.kill('SIGKILL');
    expect(await ja.wait({ timeout: 30_000 })).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(await jb.wait({ timeout: 30_000 })).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(Object.fromEntries(ledgerCounts(ledger))).toEqual({ a: 1, b: 1 });
  }, 90_000);

  it('≥ 200 SIGKILLs at seeded random moments (submits, recovery, starts; bursts at maxCores 1000): 0 lost, 0 run twice', async () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build first (npx turbo run build)`);
    const wd = tempDir();
    const ledger = path.join(tempDir('xw-ledger-'), 'ledger');
    const random = seeded(20261202);
    const parallel = 4;
    const rounds = 52;
    let kills = 0;
    let submitted = 0;
    for (let round = 0; round < rounds; round++) {
      const children: Promise<void>[] = [];
      for (let k = 0; k < parallel; k++) {
        const burst = random() < 0.15;
        const count = burst ? 100 : 1 + Math.floor(random() * 8);
        submitted += count;
        // The kill comes at a random moment after the executor exists: during its recovery of
        // the orphans of earlier rounds, its submits, its starts, or while its jobs run.
        const delay = Math.floor(random() * 1200);
        const command = {
          workDirectory: wd,
          maxCores: burst ? 1000 : 1 + Math.floor(random() * 4),
          ledger,
          prefix: `r${round}c${k}j`,
          count,
          pad: 600,
        };
        const child = spawn(process.execPath, [KILL_CHILD, JSON.stringify(command)], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, EXAWORKS_LOG_LEVEL: 'silent' },
        });
        // Half the kills are timed from the executor's start, half from its first accepted job
        // (so they land in its submits and starts even when start-up is slow).
        const from = random() < 0.5 ? 'open' : 'first';
        let timer: NodeJS.Timeout | undefined;
        let seen = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (timer === undefined && seen.split('\n').includes(from)) {
            timer = setTimeout(
              () => {
                child.kill('SIGKILL');
                kills++;
              },
              from === 'open' ? delay : delay / 4,
            );
          }
        });
        children.push(
          new Promise<void>((resolve) => {
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
        );
      }
      await Promise.all(children);
    }
    expect(kills).toBeGreaterThanOrEqual(200);
    const ends = await finishAll(executor(wd, { maxCores: 8 }), 120_000);
    const counts = ledgerCounts(ledger);
    // Every accepted job (a complete record) ended COMPLETED, having run exactly once.
    const lost = [...ends].filter(([, s]) => s.state !== 'COMPLETED');
    expect(lost).toEqual([]);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    for (const name of ends.keys()) expect(counts.get(name), name).toBe(1);
    // Nothing ran that was not accepted.
    for (const name of counts.keys()) expect(ends.has(name), name).toBe(true);
    expect(ends.size).toBeGreaterThan(0);
    expect(ends.size).toBeLessThanOrEqual(submitted);
    console.log(
      JSON.stringify({
        kills,
        submittedByKilledProcesses: submitted,
        accepted: ends.size,
        ledgerLines: [...counts.values()].reduce((a, b) => a + b, 0),
      }),
    );
  }, 1_200_000); // about 2 minutes on a quiet 2-core machine; far more when it is shared
});
