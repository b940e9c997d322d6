import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job } from '@exaworks/jpsi-core';
import { tempDir, useExecutors } from './test-support/helpers.js';

const executor = useExecutors({ killGracePeriod: 300, pollInterval: 50 });

/** Each job appends "<name> start <ms>" and "<name> end <ms>" to one file. */
function recordingJob(log: string, name: string, seconds: number, resources?: Record<string, number>): Job {
  const script = `echo "${name} start $(date +%s%3N)" >> ${log}; sleep ${seconds}; echo "${name} end $(date +%s%3N)" >> ${log}`;
  return new Job({ executable: '/bin/sh', arguments: ['-c', script], ...(resources ? { resources } : {}) });
}

interface Span {
  name: string;
  start: number;
  end: number;
}
function spans(log: string): Span[] {
  const by = new Map<string, Span>();
  for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
    const [name, what, ms] = line.split(' ');
    const s = by.get(name!) ?? { name: name!, start: 0, end: 0 };
    s[what as 'start' | 'end'] = Number(ms);
    by.set(name!, s);
  }
  return [...by.values()].sort((a, b) => a.start - b.start);
}
/** The most cores in use at any instant, given each span's cores. */
function peak(list: Span[], cores: (name: string) => number): number {
  const events = list.flatMap((s) => [
    { t: s.start, d: cores(s.name) },
    { t: s.end, d: -cores(s.name) },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d); // ends before starts at the same instant
  let now = 0;
  let max = 0;
  for (const e of events) {
    now += e.d;
    max = Math.max(max, now);
  }
  return max;
}

describe('LocalExecutor: resource-aware FIFO', () => {
  it('never runs more cores than maxCores, counting processes × cores per process', async () => {
    const e = executor({ maxCores: 3 });
    const log = path.join(tempDir('xw-sched-'), 'log');
    const sizes: Record<string, number> = { a: 1, b: 2, c: 1, d: 2, e: 1, f: 3, g: 1, h: 1 };
    const resources = (n: number): Record<string, number> =>
      n === 2 ? { processCount: 1, cpuCoresPerProcess: 2 } : { processCount: n };
    const jobs = [];
    for (const [name, n] of Object.entries(sizes)) jobs.push(await e.submit(recordingJob(log, name, 0.2, resources(n))));
    expect(e.usedCores).toBeLessThanOrEqual(3);
    await Promise.all(jobs.map((j) => j.wait()));
    expect(jobs.every((j) => j.status.state === 'COMPLETED')).toBe(true);
    const list = spans(log);
    expect(list).toHaveLength(8);
    expect(peak(list, (n) => sizes[n]!)).toBeLessThanOrEqual(3);
    expect(peak(list, (n) => sizes[n]!)).toBeGreaterThanOrEqual(2); // it did run jobs side by side
  });

  it('starts jobs in FIFO order: a big job at the head is not overtaken by small ones', async () => {
    const e = executor({ maxCores: 2 });
    const log = path.join(tempDir('xw-fifo-'), 'log');
    const order = ['j1', 'big', 'j3', 'j4', 'j5'];
    const jobs = [];
    for (const name of order)
      jobs.push(await e.submit(recordingJob(log, name, 0.15, name === 'big' ? { processCount: 2 } : undefined)));
    await Promise.all(jobs.map((j) => j.wait()));
    // The executor starts them in submission order. j3 and j4 start together, so the order of their
    // own output, and of the spawn agent's pid reports (ACTIVE), is up to the OS: compare STAGE_IN,
    // the start decision the executor records, in queue order, before it spawns anything.
    const started = jobs.map((j) => j.history.find((s) => s.state === 'STAGE_IN')!.time.getTime());
    for (let i = 1; i < started.length; i++) expect(started[i]!).toBeGreaterThanOrEqual(started[i - 1]!);
    const list = spans(log);
    const at = (name: string) => list.find((s) => s.name === name)!;
    expect(at('big').start).toBeGreaterThanOrEqual(at('j1').end); // waited for the whole machine
    for (const small of ['j3', 'j4', 'j5']) expect(at(small).start).toBeGreaterThanOrEqual(at('big').end); // never overtook it
  });

  it('runs a job that needs more than maxCores alone, once the machine is idle', async () => {
    const e = executor({ maxCores: 2 });
    const log = path.join(tempDir('xw-over-'), 'log');
    const jobs = [
      await e.submit(recordingJob(log, 'before', 0.15)),
      await e.submit(recordingJob(log, 'huge', 0.2, { processCount: 4 })),
      await e.submit(recordingJob(log, 'after', 0.1)),
    ];
    await Promise.all(jobs.map((j) => j.wait()));
    expect(jobs.map((j) => j.status.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    const [before, huge, after] = ['before', 'huge', 'after'].map((n) => spans(log).find((s) => s.name === n)!);
    expect(huge!.start).toBeGreaterThanOrEqual(before!.end);
    expect(after!.start).toBeGreaterThanOrEqual(huge!.end);
  });
});
