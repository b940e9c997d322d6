import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResourceQueue } from './resource-queue.js';

interface Item {
  readonly name: string;
  readonly cost: number;
}

function queue(capacity: number, started: Item[] = []): ResourceQueue<Item> {
  return new ResourceQueue<Item>({ capacity, cost: (i) => i.cost, start: (i) => started.push(i) });
}

describe('ResourceQueue', () => {
  it('starts in FIFO order while the head fits, and never lets a narrow item overtake a wide one', () => {
    const started: Item[] = [];
    const q = queue(4, started);
    const [a, wide, narrow] = [
      { name: 'a', cost: 2 },
      { name: 'wide', cost: 4 },
      { name: 'narrow', cost: 1 },
    ];
    q.enqueue(a);
    q.enqueue(wide);
    q.enqueue(narrow);
    expect(started.map((i) => i.name)).toEqual(['a']);
    expect(q.waiting).toBe(2);
    q.release(a);
    expect(started.map((i) => i.name)).toEqual(['a', 'wide']);
    q.release(wide);
    expect(started.map((i) => i.name)).toEqual(['a', 'wide', 'narrow']);
    expect(q.used).toBe(1);
  });

  it('runs an item wider than the capacity alone rather than never', () => {
    const started: Item[] = [];
    const q = queue(2, started);
    const small = { name: 'small', cost: 1 };
    const huge = { name: 'huge', cost: 8 };
    q.enqueue(small);
    q.enqueue(huge);
    expect(started).toEqual([small]);
    q.release(small);
    expect(started).toEqual([small, huge]);
    expect(q.used).toBe(8);
  });

  it('counts held (adopted) items against the capacity without starting them', () => {
    const started: Item[] = [];
    const q = queue(2, started);
    const adopted = { name: 'adopted', cost: 2 };
    q.hold(adopted);
    const next = { name: 'next', cost: 1 };
    q.enqueue(next);
    expect(started).toEqual([]);
    q.release(adopted);
    expect(started).toEqual([next]);
  });

  it('skips withdrawn items and does not release what it never held', () => {
    const started: Item[] = [];
    const q = queue(1, started);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => ({ name, cost: 1 }));
    q.enqueue(a!);
    q.enqueue(b!);
    q.enqueue(c!);
    expect(q.withdraw(b!)).toBe(true);
    expect(q.withdraw(a!)).toBe(false); // it runs
    q.release(b!); // held nothing: no effect
    expect(q.used).toBe(1);
    q.release(a!);
    expect(started.map((i) => i.name)).toEqual(['a', 'c']);
    expect(q.waiting).toBe(0);
    // Withdrawn, then wanted again before its turn came: it waits (once) and runs.
    const [d, e] = ['d', 'e'].map((name) => ({ name, cost: 1 }));
    q.enqueue(d!);
    q.enqueue(e!);
    expect(q.withdraw(e!)).toBe(true);
    q.enqueue(e!);
    q.enqueue(e!);
    expect(q.waiting).toBe(2);
    q.release(c!);
    q.release(d!);
    expect(started.map((i) => i.name)).toEqual(['a', 'c', 'd', 'e']);
    expect(q.waiting).toBe(0);
  });

  it('a start that releases at once (a failed spawn) lets the loop go on, in order', () => {
    const started: string[] = [];
    const q: ResourceQueue<Item> = new ResourceQueue<Item>({
      capacity: 1,
      cost: (i) => i.cost,
      start: (i) => {
        started.push(i.name);
        if (i.name !== 'last') q.release(i);
      },
    });
    for (let n = 0; n < 3000; n++) q.enqueue({ name: n === 2999 ? 'last' : `i${n}`, cost: 1 });
    expect(started).toHaveLength(3000);
    expect(started.at(-1)).toBe('last');
    expect(q.used).toBe(1);
    expect(q.waiting).toBe(0);
  });

  it('never exceeds the capacity except for one oversized item running alone, and starts in submission order (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('add' as const), cost: fc.integer({ min: 1, max: 10 }) }),
            fc.record({ op: fc.constant('done' as const), pick: fc.nat() }),
          ),
          { maxLength: 200 },
        ),
        (capacity, ops) => {
          const running: Item[] = [];
          const order: Item[] = [];
          const startedOrder: Item[] = [];
          const q = new ResourceQueue<Item>({
            capacity,
            cost: (i) => i.cost,
            start: (i) => {
              running.push(i);
              startedOrder.push(i);
            },
          });
          let n = 0;
          for (const op of ops) {
            if (op.op === 'add') {
              const item = { name: `i${n++}`, cost: op.cost };
              order.push(item);
              q.enqueue(item);
            } else if (running.length > 0) {
              const [item] = running.splice(op.pick % running.length, 1);
              q.release(item!);
            }
            const used = running.reduce((sum, i) => sum + i.cost, 0);
            expect(q.used).toBe(used);
            if (used > capacity) expect(running).toHaveLength(1);
          }
          // Strict FIFO: what started is exactly the first items submitted, in order.
          expect(startedOrder).toEqual(order.slice(0, startedOrder.length));
          expect(q.waiting).toBe(order.length - startedOrder.length);
        },
      ),
    );
  });
});
