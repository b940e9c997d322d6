import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, ValidationError } from '@exaworks/jpsi-core';
import { readJournal } from '@exaworks/jpsi-core/internal';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkflowEvent } from './events.js';
import { TaskTimeoutError, WorkflowError } from './options.js';
import { Workflow } from './workflow.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'xw-dag-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let k = 0;
const tmp = (name: string) => path.join(root, `${k++}-${name}`);

/** A promise with its resolve function outside (to hold a task until the test lets it go). */
function gate<T = void>(): { promise: Promise<T>; open(v: T): void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    open = r;
  });
  return { promise, open };
}

describe('Workflow: definition and validation', () => {
  it('names the offending field of bad options', () => {
    expect(() => new Workflow({ concurrency: 0 })).toThrow(/concurrency: must be 1 or more/);
    const wf = new Workflow();
    expect(() => wf.task('a', () => 1, { retries: -1 })).toThrow(/retries: must be 0 or more/);
    expect(() => wf.task('a', () => 1, { timeout: 'soon' })).toThrow(/timeout: "soon" is not a duration/);
    expect(() => wf.task('a', () => 1, { bogus: 1 } as never)).toThrow(/bogus: unknown field/);
    expect(() => wf.task('has space', () => 1)).toThrow(ValidationError);
    wf.task('a', () => 1);
    expect(() => wf.task('a', () => 2)).toThrow(/a task named "a" already exists/);
  });

  it('reports unknown predecessors and a cycle with its path', async () => {
    const wf = new Workflow();
    wf.task('a', () => 1, { after: ['ghost'] });
    expect(() => wf.validate()).toThrow(/a\.after: unknown task "ghost"/);
    const cyc = new Workflow();
    cyc.task('start', () => 0);
    cyc.task('x', () => 1, { after: ['start', 'z'] });
    cyc.task('y', () => 1, { after: ['x'] });
    cyc.task('z', () => 1, { after: ['y'] });
    const err = (() => {
      try {
        cyc.validate();
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(err?.code).toBe(ErrorCode.VALIDATION);
    expect(err?.message).toMatch(/dependency cycle: x → y → z → x/);
    await expect(cyc.run()).rejects.toBeInstanceOf(ValidationError);
  });

  it('predecessors named before they are defined: edges in `after` order, ready tasks still in definition order', async () => {
    const wf = new Workflow({ concurrency: 1 });
    const order: string[] = [];
    const t = (name: string) => (inputs: Readonly<Record<string, unknown>>) => {
      order.push(name);
      return Object.keys(inputs).join(',');
    };
    wf.task('a', t('a'), { after: ['c'] }); // c is defined last
    wf.task('late', t('late'), { after: ['a', 'c', 'a'] }); // a duplicate is one edge
    wf.task('early', t('early'), { after: ['a'] }); // linked at once: a exists
    expect(() => wf.validate()).toThrow(/a\.after: unknown task "c"/);
    wf.task('c', t('c'));
    wf.validate();
    wf.validate(); // twice: no edge is added twice
    expect(wf.edges().map((e) => `${e.name}<${e.after.join('+')}`)).toEqual(['a<c', 'late<a+c', 'early<a', 'c<']);
    const s = await wf.run();
    // a's dependents enter the ready queue in definition order (late before early), as if all edges were known at once.
    expect(order).toEqual(['c', 'a', 'late', 'early']);
    expect(s.result('late')).toBe('a,c');
  });

  it('tasks that share one predecessor or one dependent stay independent when edges are added later', async () => {
    const wf = new Workflow({ concurrency: 1 });
    const seen: Record<string, string> = {};
    const t = (name: string) => (inputs: Readonly<Record<string, unknown>>) => {
      seen[name] = Object.keys(inputs).join(',');
      return name;
    };
    wf.task('src', t('src'));
    for (const m of ['m0', 'm1', 'm2']) wf.task(m, t(m), { after: ['src'] });
    wf.task('sink', t('sink'), { after: ['m0', 'm1', 'm2'] });
    wf.task(
      'plan',
      (_i, ctx) => {
        ctx.task('extra', t('extra'), { after: ['m1'] }); // m1 gains a second dependent at run time
        return 'plan';
      },
      { after: ['m1'] },
    );
    wf.task('also', t('also'), { after: ['src', 'm0'] }); // m0's second dependent
    const s = await wf.run();
    expect(s.ok).toBe(true);
    expect(seen).toEqual({ src: '', m0: 'src', m1: 'src', m2: 'src', sink: 'm0,m1,m2', extra: 'm1', also: 'src,m0' });
    expect(wf.edges().find((e) => e.name === 'm2')?.after).toEqual(['src']);
  });
});

describe('Workflow: running', () => {
  it('passes predecessors results as inputs and returns a typed summary', async () => {
    const wf = new Workflow();
    const a = wf.task('a', () => 2);
    const b = wf.task('b', async () => 3);
    wf.task('c', (inputs) => (inputs.a as number) * (inputs.b as number), { after: [a, b] });
    const s = await wf.run();
    expect(s.ok).toBe(true);
    expect(s.result('c')).toBe(6);
    expect(s.counts).toEqual({ succeeded: 3, failed: 0, skipped: 0, canceled: 0, cached: 0 });
    expect(s.outcome('c')).toMatchObject({ state: 'succeeded', attempts: 1, value: 6 });
    await expect(wf.run()).rejects.toBeInstanceOf(WorkflowError);
  });

  it('futures style: edges follow the arguments', async () => {
    const wf = new Workflow();
    const square = wf.fn('square', (x: number) => x * x);
    const sum = wf.fn('sum', (xs: number[], offset: number) => xs.reduce((p, q) => p + q, offset));
    const total = sum(
      [1, 2, 3, 4].map((x) => square(x)),
      100,
    );
    expect(total.name).toBe('sum-1');
    expect(wf.edges().find((e) => e.name === 'sum-1')?.after).toEqual(['square-1', 'square-2', 'square-3', 'square-4']);
    const s = await wf.run();
    expect(s.result(total.name)).toBe(130);
  });

  it('starts ready tasks in definition order and never more than `concurrency` at once', async () => {
    const wf = new Workflow({ concurrency: 3 });
    const order: string[] = [];
    let running = 0;
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      wf.task(`t${i}`, async () => {
        order.push(`t${i}`);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
      });
    }
    await wf.run();
    expect(peak).toBe(3);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => `t${i}`));
  });

  it('continue: independent branches finish, dependents of the failure are SKIPPED with the upstream cause', async () => {
    const wf = new Workflow({ onFailure: 'continue' });
    wf.task('bad', () => {
      throw new Error('boom');
    });
    wf.task('child', () => 1, { after: ['bad'] });
    wf.task('grandchild', () => 1, { after: ['child'] });
    wf.task('other', () => 'fine');
    const s = await wf.run();
    expect(s.ok).toBe(false);
    expect(s.outcome('bad')).toMatchObject({ state: 'failed', error: 'boom' });
    expect(s.outcome('child')).toMatchObject({ state: 'skipped', cause: 'bad' });
    expect(s.outcome('grandchild')).toMatchObject({ state: 'skipped', cause: 'bad' });
    expect(s.result('other')).toBe('fine');
    expect(s.failures.map((f) => f.name)).toEqual(['bad']);
  });

  it("a task's failure policy overrides the workflow's, both ways", async () => {
    const lenient = new Workflow({ onFailure: 'fail-fast', concurrency: 1 });
    lenient.task(
      'optional',
      () => {
        throw new Error('meh');
      },
      { onFailure: 'continue' },
    );
    lenient.task('needs', () => 1, { after: ['optional'] });
    lenient.task('other', () => 2);
    const a = await lenient.run();
    expect(a.outcome('needs')).toMatchObject({ state: 'skipped', cause: 'optional' });
    expect(a.result('other')).toBe(2);

    const strict = new Workflow({ onFailure: 'continue', concurrency: 1 });
    strict.task(
      'critical',
      () => {
        throw new Error('bad');
      },
      { onFailure: 'fail-fast' },
    );
    strict.task('later', () => 3);
    const b = await strict.run();
    expect(b.outcome('critical')).toMatchObject({ state: 'failed', error: 'bad' });
    expect(b.outcome('later')).toMatchObject({ state: 'skipped', cause: 'fail-fast: task "critical" failed', attempts: 0 });
  });

  it('fail-fast: running tasks are aborted and nothing else starts', async () => {
    const wf = new Workflow({ onFailure: 'fail-fast', concurrency: 2 });
    const held = gate();
    let sawAbort = false;
    wf.task('slow', async (_i, ctx) => {
      ctx.signal.addEventListener('abort', () => {
        sawAbort = true;
      });
      await held.promise;
    });
    wf.task('bad', async () => {
      throw new Error('boom');
    });
    let laterRan = false;
    wf.task('later', () => {
      laterRan = true;
    });
    const s = await wf.run();
    held.open();
    expect(sawAbort).toBe(true);
    expect(laterRan).toBe(false);
    expect(s.outcome('slow')?.state).toBe('canceled');
    expect(s.outcome('later')).toMatchObject({ state: 'skipped', cause: 'fail-fast: task "bad" failed' });
  });

  it('retries with exponential backoff and jitter, then succeeds; the events say so', async () => {
    const wf = new Workflow({ backoff: { initialMs: 20, factor: 2, jitter: 0.5 } });
    const events: WorkflowEvent[] = [];
    wf.on((e) => events.push(e));
    wf.task(
      'flaky',
      (_i, ctx) => {
        if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
        return ctx.attempt;
      },
      { retries: 3 },
    );
    const s = await wf.run();
    expect(s.result('flaky')).toBe(3);
    const retried = events.filter((e) => e.type === 'retried');
    expect(retried.map((e) => e.type === 'retried' && e.attempt)).toEqual([1, 2]);
    const delays = retried.map((e) => (e.type === 'retried' ? e.delayMs : 0));
    expect(delays[0]).toBeGreaterThanOrEqual(10);
    expect(delays[0]).toBeLessThanOrEqual(20);
    expect(delays[1]).toBeGreaterThanOrEqual(20);
    expect(delays[1]).toBeLessThanOrEqual(40);
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'retried', 'started', 'retried', 'started', 'succeeded']);
  });

  it('times out an attempt (aborting its signal) and fails after the retries', async () => {
    const wf = new Workflow({ onFailure: 'continue', backoff: { initialMs: 1 } });
    let aborted = 0;
    wf.task(
      'hang',
      (_i, ctx) =>
        new Promise((_r, reject) => {
          ctx.signal.addEventListener('abort', () => {
            aborted++;
            reject(ctx.signal.reason);
          });
        }),
      { timeout: 50, retries: 1 },
    );
    const s = await wf.run();
    expect(s.outcome('hang')).toMatchObject({ state: 'failed', attempts: 2 });
    expect(s.outcome('hang')?.error).toMatch(/did not finish within 50 ms/);
    expect(aborted).toBe(2);
    expect(new TaskTimeoutError('x', 1).code).toBe(ErrorCode.TIMEOUT);
  }, 10_000);

  it('an AbortSignal cancels running tasks and ends the run', async () => {
    const wf = new Workflow();
    const ac = new AbortController();
    const started = gate();
    wf.task('long', async (_i, ctx) => {
      started.open();
      await new Promise((r) => ctx.signal.addEventListener('abort', r));
    });
    wf.task('after-long', () => 1, { after: ['long'] });
    const run = wf.run({ signal: ac.signal });
    await started.promise;
    ac.abort();
    const s = await run;
    expect(s.aborted).toBe(true);
    expect(s.outcome('long')?.state).toBe('canceled');
    expect(s.outcome('after-long')?.state).toBe('pending');
  });

  it('dynamic graphs: a task fans out at run time, a task it adds fans in', async () => {
    const wf = new Workflow();
    wf.task('list', () => [1, 2, 3, 4, 5]);
    wf.task(
      'plan',
      (inputs, ctx) => {
        const parts = (inputs.list as number[]).map((x) => ctx.task(`double-${x}`, () => x * 2));
        ctx.task('total', (ins) => Object.values(ins).reduce((p: number, q) => p + (q as number), 0), {
          after: parts,
        });
        return parts.length;
      },
      { after: ['list'] },
    );
    const s = await wf.run();
    expect(s.result('plan')).toBe(5);
    expect(s.result('total')).toBe(30);
    expect(s.total).toBe(8);
  });

  it('the typed event stream: one event per state change, in order (queued, started, succeeded, failed, skipped, cached)', async () => {
    const cache = tmp('events-cache.jsonl');
    const define = () => {
      const wf = new Workflow({ cache, onFailure: 'continue', concurrency: 1 });
      wf.task('a', () => 1);
      wf.task('bad', () => {
        throw new Error('no');
      });
      wf.task('c', (inputs) => (inputs.a as number) + 1, { after: ['a'], cache: true });
      wf.task('dep', () => 0, { after: ['bad'] });
      const events: WorkflowEvent[] = [];
      wf.on((e) => events.push(e));
      return { wf, events };
    };
    const first = define();
    await first.wf.run();
    const head: WorkflowEvent[] = [
      { type: 'queued', task: 'a' },
      { type: 'queued', task: 'bad' },
      { type: 'started', task: 'a', attempt: 1 },
      { type: 'succeeded', task: 'a', attempt: 1, restored: false },
      { type: 'queued', task: 'c' },
      { type: 'started', task: 'bad', attempt: 1 },
      { type: 'failed', task: 'bad', attempt: 1, error: 'no' },
      { type: 'skipped', task: 'dep', cause: 'bad' },
    ];
    expect(first.events).toEqual([
      ...head,
      { type: 'started', task: 'c', attempt: 1 },
      { type: 'succeeded', task: 'c', attempt: 1, restored: false },
    ]);
    const second = define();
    await second.wf.run();
    expect(second.events).toEqual([...head, { type: 'cached', task: 'c' }]);
  });

  it('caches a result by definition and inputs across runs', async () => {
    const cache = tmp('cache.jsonl');
    let calls = 0;
    const define = (input: number) => {
      const wf = new Workflow({ cache });
      wf.task('in', () => input);
      wf.task(
        'expensive',
        (inputs) => {
          calls++;
          return (inputs.in as number) + 1;
        },
        { after: ['in'], cache: true },
      );
      return wf;
    };
    expect((await define(1).run()).result('expensive')).toBe(2);
    const again = await define(1).run();
    expect(again.result('expensive')).toBe(2);
    expect(again.outcome('expensive')?.cached).toBe(true);
    expect(again.counts.cached).toBe(1);
    expect((await define(5).run()).result('expensive')).toBe(6);
    expect(calls).toBe(2);
  });

  it('with a journal, a run interrupted by its signal resumes without running finished tasks again', async () => {
    const journal = tmp('wf.jsonl');
    const runs: string[] = [];
    const define = () => {
      const wf = new Workflow({ journal, concurrency: 1 });
      wf.task('a', () => {
        runs.push('a');
        return 1;
      });
      wf.task(
        'b',
        async (inputs, ctx) => {
          runs.push('b');
          if (ctx.attempt === 1) await new Promise((r) => ctx.signal.addEventListener('abort', r));
          return (inputs.a as number) + 1;
        },
        { after: ['a'] },
      );
      wf.task('c', (inputs) => (inputs.b as number) + 1, { after: ['b'] });
      return wf;
    };
    const ac = new AbortController();
    const first = define();
    first.on((e) => {
      if (e.type === 'started' && e.task === 'b') setImmediate(() => ac.abort());
    });
    const s1 = await first.run({ signal: ac.signal });
    expect(s1.aborted).toBe(true);
    const s2 = await define().run();
    expect(s2.resumed).toBe(true);
    expect(s2.ok).toBe(true);
    expect(s2.result('c')).toBe(3);
    expect(s2.outcome('a')?.restored).toBe(true);
    expect(runs).toEqual(['a', 'b', 'b']);
    // A finished journal replays to the same summary without running anything.
    const s3 = await define().run();
    expect(s3.result('c')).toBe(3);
    expect(runs).toHaveLength(3);
    const types = readJournal<{ t: string }>(journal).records.map((r) => r.t);
    expect(types[0]).toBe('run');
    expect(types.filter((t) => t === 'end')).toHaveLength(2);
  });

  it('with a journal, no dependent starts before its predecessors’ results are written (also across 1 MiB batches)', async () => {
    const journal = tmp('commit.jsonl');
    const wf = new Workflow({ journal, concurrency: 4096 });
    const n = 40_000; // ≈ 3 MB of records: several batches written within one event-loop turn
    wf.task('src', () => 0);
    const mids: string[] = [];
    for (let i = 0; i < n; i++) {
      mids.push(`m${i}`);
      wf.task(`m${i}`, () => i, { after: ['src'] });
    }
    const watched = [0, n / 2, n - 1];
    for (const i of watched) wf.task(`d${i}`, () => 0, { after: [`m${i}`] });
    wf.task('sink', () => 0, { after: mids });
    const problems: string[] = [];
    const written = () => readFileSync(journal, 'utf8');
    wf.on((e) => {
      if (e.type !== 'started') return;
      if (e.task.startsWith('d') && !written().includes(`{"t":"ok","n":"m${e.task.slice(1)}","a":1,"v":`)) {
        problems.push(`${e.task} started before m${e.task.slice(1)} was written`);
      }
      if (e.task === 'sink') {
        const oks = written().match(/"t":"ok","n":"m\d+"/g)?.length ?? 0;
        if (oks !== n) problems.push(`sink started with ${oks} of ${n} results written`);
      }
    });
    const s = await wf.run();
    expect(s.ok).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);

  it('refuses a journal of another workflow and a result that cannot be journaled', async () => {
    const journal = tmp('named.jsonl');
    const one = new Workflow({ journal, name: 'one' });
    one.task('a', () => 1);
    await one.run();
    const two = new Workflow({ journal, name: 'two' });
    two.task('a', () => 1);
    await expect(two.run()).rejects.toThrow(/belongs to workflow "one"/);
    const wf = new Workflow({ journal: tmp('big.jsonl'), onFailure: 'continue' });
    wf.task('bigint', () => 1n);
    const s = await wf.run();
    expect(s.outcome('bigint')?.error).toMatch(/cannot be journaled/);
  });
});

describe('Workflow: long graphs of synchronous tasks', () => {
  it('a 50k-task chain runs without deep recursion, and the run still yields so that a signal can stop it', async () => {
    const chain = (n: number) => {
      const wf = new Workflow();
      wf.task('t0', () => 0);
      for (let i = 1; i < n; i++) wf.task(`t${i}`, (inputs) => (inputs[`t${i - 1}`] as number) + 1, { after: [`t${i - 1}`] });
      return wf;
    };
    const s = await chain(50_000).run();
    expect(s.result('t49999')).toBe(49_999);
    const ac = new AbortController();
    setImmediate(() => ac.abort());
    const stopped = await chain(50_000).run({ signal: ac.signal });
    expect(stopped.aborted).toBe(true);
    expect(stopped.counts.succeeded).toBeLessThan(50_000);
  }, 60_000);
});

describe('Workflow: properties of the scheduler', () => {
  it('on random DAGs every task runs once, after all its predecessors, within concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 120 }),
        fc.integer({ min: 1, max: 6 }),
        async (n, pairs, concurrency) => {
          const wf = new Workflow({ concurrency });
          const preds = Array.from({ length: n }, () => new Set<number>());
          for (const [x, y] of pairs) {
            const a = x % n;
            const b = y % n;
            if (a < b) preds[b]!.add(a); // edges go forward: acyclic
          }
          const finished = new Set<number>();
          const ran: number[] = [];
          let running = 0;
          let peak = 0;
          for (let i = 0; i < n; i++) {
            wf.task(
              `n${i}`,
              async () => {
                for (const p of preds[i]!) if (!finished.has(p)) throw new Error(`n${i} ran before n${p}`);
                ran.push(i);
                running++;
                peak = Math.max(peak, running);
                await Promise.resolve();
                running--;
                finished.add(i);
                return i;
              },
              { after: [...preds[i]!].map((p) => `n${p}`) },
            );
          }
          const s = await wf.run();
          expect(s.ok).toBe(true);
          expect(ran.sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i));
          expect(peak).toBeLessThanOrEqual(concurrency);
        },
      ),
      { numRuns: 60 },
    );
  });
});
