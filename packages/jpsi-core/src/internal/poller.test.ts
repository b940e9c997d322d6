import { describe, expect, it } from 'vitest';
import { Poller } from './poller.js';

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Poller', () => {
  it('asks about every active key in one query per round', async () => {
    const calls: string[][] = [];
    const seen = new Map<string, number>();
    const poller = new Poller<number>(
      {
        query: async (keys) => {
          calls.push([...keys]);
          return new Map(keys.map((k) => [k, calls.length]));
        },
        onResult: (k, r) => void seen.set(k, r),
      },
      { intervalMs: 10_000, initialDelayMs: 10_000 },
    );
    for (let i = 0; i < 100; i++) poller.add(`j${i}`);
    await poller.pollNow();
    await poller.pollNow();
    expect(calls).toHaveLength(2);
    expect(calls[0]).toHaveLength(100);
    expect(seen.get('j99')).toBe(2);
    expect(poller.stats).toMatchObject({ queries: 2, failures: 0 });
    await poller.close();
  });

  it('keeps the last result on failure, records the problem and backs off', async () => {
    let fail = false;
    const errors: { n: number; next: number }[] = [];
    const results: string[] = [];
    const poller = new Poller<string>(
      {
        query: async (keys) => {
          if (fail) throw new Error('squeue: connection refused');
          return new Map(keys.map((k) => [k, 'RUNNING']));
        },
        onResult: (_k, r) => void results.push(r),
        onMissing: () => {
          throw new Error('a failed query must not report keys as missing');
        },
        onError: (_e, n, next) => void errors.push({ n, next }),
      },
      { intervalMs: 20, initialDelayMs: 0, maxBackoffMs: 80 },
    );
    poller.add('a');
    await until(() => results.length >= 1);
    fail = true;
    await until(() => errors.length >= 3);
    expect(poller.entry('a')).toMatchObject({ last: 'RUNNING', problem: 'squeue: connection refused' });
    expect(errors.slice(0, 3).map((e) => e.next)).toEqual([40, 80, 80]);
    fail = false;
    await until(() => poller.entry('a')?.problem === undefined);
    expect(poller.stats.consecutiveFailures).toBe(0);
    await poller.close();
  });

  it('reports keys the backend no longer lists as missing, and none after delete', async () => {
    const missing: string[] = [];
    const poller = new Poller<string>(
      { query: async () => new Map([['a', 'x']]), onResult: () => undefined, onMissing: (k) => void missing.push(k) },
      { intervalMs: 10_000, initialDelayMs: 10_000 },
    );
    poller.add('a');
    poller.add('b');
    poller.add('c');
    poller.delete('c');
    await poller.pollNow();
    expect(missing).toEqual(['b']);
    await poller.close();
  });

  it('never runs two rounds at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const poller = new Poller<string>(
      {
        query: async (keys) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 20));
          inFlight--;
          return new Map(keys.map((k) => [k, 'x']));
        },
        onResult: () => undefined,
      },
      { intervalMs: 1, initialDelayMs: 0 },
    );
    poller.add('a');
    await Promise.all([poller.pollNow(), poller.pollNow(), poller.pollNow()]);
    await new Promise((r) => setTimeout(r, 60));
    expect(maxInFlight).toBe(1);
    await poller.close();
  });
});
