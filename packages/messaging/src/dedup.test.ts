/** The de-duplication windows: exact, and bounded when a receiver sees only some of a sender's numbers. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dedup, SeqWindow } from './dedup.js';

describe('SeqWindow', { timeout: 30_000 }, () => {
  it('answers exactly like a set of everything added plus everything below the advanced floor', () => {
    const op = fc.oneof(
      fc.record({ add: fc.integer({ min: 1, max: 400 }) }),
      fc.record({ advance: fc.integer({ min: 0, max: 400 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const w = new SeqWindow();
        const seen = new Set<number>();
        let floor = 0;
        const model = (n: number) => n <= floor || seen.has(n);
        const wrong: string[] = [];
        for (const o of ops) {
          if ('add' in o) {
            if (w.add(o.add) !== !model(o.add)) wrong.push(`add ${o.add}`);
            seen.add(o.add);
          } else {
            w.advance(o.advance);
            floor = Math.max(floor, o.advance);
          }
        }
        for (let n = 1; n <= 401; n++) if (w.has(n) !== model(n)) wrong.push(`has ${n}`);
        expect(wrong).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("stays small for a subscriber that sees every other number, thanks to the sender's lowest-unacknowledged hint", () => {
    const hinted = new Dedup();
    const plain = new Dedup();
    for (let s = 2; s <= 20_000; s += 2) {
      // The sender's odd numbers went to another topic and were acknowledged: lo is this number.
      expect(hinted.addAbove('p~1', s, s)).toBe(true);
      expect(plain.addAbove('p~1', s, undefined)).toBe(true);
    }
    expect(hinted.spread('p~1')).toBeLessThanOrEqual(1);
    expect(plain.spread('p~1')).toBe(10_000); // what every message used to cost, forever
    expect(hinted.addAbove('p~1', 20_000, 20_000)).toBe(false);
    expect(hinted.has('p~1', 19_999)).toBe(true);
  });
});
