// Durability, proved by doing it: a child process runs a workflow (real jobs on the local
// executor, in-process tasks, a run-time fan-out) and is SIGKILLed at random points, several times;
// then a last run resumes from the journal to the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJournal } from '@exaworks/jpsi-core/internal';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const runner = fileURLToPath(new URL('./test-support/crash-runner.ts', import.meta.url));
const root = mkdtempSync(path.join(os.tmpdir(), 'xw-dag-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Outcome {
  ok: boolean;
  resumed: boolean;
  outcome: Array<{ name: string; state: string; value?: unknown; cause?: string }>;
}

function start(dir: string): { child: ChildProcess; exited: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', runner, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exited };
}

async function runToEnd(dir: string): Promise<Outcome> {
  const { exited } = start(dir);
  const r = await exited;
  if (r.code !== 0) throw new Error(`runner exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Outcome;
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
let counter = 0;
const freshDir = () => {
  const d = path.join(root, `run-${counter++}`);
  mkdirSync(d);
  return d;
};

let expected: Outcome;
beforeAll(async () => {
  expected = await runToEnd(freshDir());
}, 60_000);

describe('resume after SIGKILL', () => {
  it('an uninterrupted run is the reference', () => {
    expect(expected.ok).toBe(false); // one job fails on purpose
    const by = new Map(expected.outcome.map((o) => [o.name, o]));
    expect(by.get('sum')?.value).toBe(30);
    expect(by.get('report')?.value).toEqual({ collected: 0, planned: 4 });
    expect(by.get('never')).toMatchObject({ state: 'skipped', cause: 'fails' });
  });

  it('killed at random points, many times: same result, no finished task rerun, no job run twice unless its executor lost it', async () => {
    let interrupted = 0; // kills that landed while the workflow was mid-run
    await fc.assert(
      fc.asyncProperty(
        // A kill point: after the run has appended `records` more journal lines, plus `delay` ms (so kills land
        // between records too). Progress-based, so a slow, loaded machine moves the kills but not their meaning.
        fc.array(fc.record({ records: fc.integer({ min: 1, max: 45 }), delay: fc.integer({ min: 0, max: 250 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        async (kills) => {
          const dir = freshDir();
          const journal = path.join(dir, 'wf.jsonl');
          const checks: Array<() => void> = [];
          for (const kill of kills) {
            const baseline = lines(journal).length;
            const { child, exited } = start(dir);
            let over = false;
            void exited.then(() => {
              over = true;
            });
            while (!over && lines(journal).length < baseline + kill.records) await new Promise((r) => setTimeout(r, 5));
            if (!over) await new Promise((r) => setTimeout(r, kill.delay));
            child.kill('SIGKILL');
            await exited;
            // Whatever the journal says finished must never run again.
            const records = readJournal<{ t: string; n?: string; p?: number }>(journal).records;
            if (records.some((r) => r.t === 'start') && !records.some((r) => r.t === 'end')) interrupted++;
            const finished = new Set(records.filter((r) => r.t === 'ok' && r.p !== 1).map((r) => r.n!));
            const before = lines(path.join(dir, 'tasks.log')).length;
            checks.push(() => {
              const after = lines(path.join(dir, 'tasks.log')).slice(before);
              for (const name of after) expect(finished.has(name), `${name} ran again after it finished`).toBe(false);
            });
          }
          const final = await runToEnd(dir);
          for (const check of checks) check();
          const differing = final.outcome.filter((o, i) => JSON.stringify(o) !== JSON.stringify(expected.outcome[i]));
          if (differing.length > 0) {
            cpSync(journal, path.join(os.tmpdir(), `dag-crash-failure-${process.pid}.jsonl`));
            const want = differing.map((o) => expected.outcome.find((e) => e.name === o.name));
            expect.fail(`outcomes differ: got ${JSON.stringify(differing)}, want ${JSON.stringify(want)}`);
          }
          expect(final.outcome).toEqual(expected.outcome);
          expect(final.ok).toBe(expected.ok);
          // Every job ran; a second run only where the executor lost the job in the crash (a `lost` record:
          // killed while starting it, it could not tell whether the job ran): the one at-least-once window.
          const lost = readJournal<{ t: string; n?: string }>(journal).records.filter((r) => r.t === 'lost');
          const runs = new Map<string, number>();
          for (const name of lines(path.join(dir, 'jobs.log'))) runs.set(name, (runs.get(name) ?? 0) + 1);
          for (const name of ['collect', 'fails', 'prepare', 'sim-0', 'sim-1', 'sim-2', 'sim-3']) {
            const count = runs.get(name) ?? 0;
            expect(count, `${name} ran ${count} times`).toBeGreaterThanOrEqual(1);
            expect(count, `${name} ran ${count} times`).toBeLessThanOrEqual(1 + lost.filter((r) => r.n === name).length);
          }
          expect([...runs.keys()].sort()).toEqual(['collect', 'fails', 'prepare', 'sim-0', 'sim-1', 'sim-2', 'sim-3']);
        },
      ),
      { numRuns: 5, endOnFailure: true },
    );
    expect(interrupted).toBeGreaterThan(0);
  }, 600_000);
});
