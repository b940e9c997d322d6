/** The hand-written fast paths accept only what the frame schemas accept. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientFrameSchema, fastClientFrame, fastHubFrame, HubFrameSchema } from './protocol.js';

const value = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const field = (keys: string[]) =>
  fc.dictionary(fc.constantFrom(...keys, 'x'), fc.oneof(value, fc.array(value, { maxLength: 3 })), { maxKeys: 6 });

describe('fast frame checks', () => {
  it('fastClientFrame never accepts a frame the schema refuses', () => {
    const frames = fc.oneof(
      field(['s', 'tp', 'd', 'w', 'lo']).map((f) => ({ ...f, t: 'pub' })),
      fc.record({ t: fc.constant('pub'), s: fc.oneof(fc.integer(), fc.double()), tp: fc.string({ maxLength: 5 }), d: value }),
      fc.record({
        t: fc.constant('ack'),
        a: fc.array(fc.tuple(fc.string({ maxLength: 3 }), fc.oneof(fc.integer(), fc.double())), { maxLength: 3 }),
      }),
      // Entries of any length and element type: [origin, seq, seq, …] is the only valid shape.
      fc.record({
        t: fc.constant('ack'),
        a: fc.array(fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.double(), value), { maxLength: 5 }), {
          maxLength: 3,
        }),
      }),
      field(['a']).map((f) => ({ ...f, t: 'ack' })),
    );
    fc.assert(
      fc.property(frames, (f) => {
        const json = JSON.parse(JSON.stringify(f)) as unknown;
        if (fastClientFrame(json)) expect(ClientFrameSchema.safeParse(json).success).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(fastClientFrame({ t: 'pub', s: 1, tp: 'a', d: 1 })).toBeDefined();
    expect(fastClientFrame({ t: 'ack', a: [['o~e', 1, 2, 3]] })).toBeDefined();
    expect(ClientFrameSchema.safeParse({ t: 'ack', a: [['o~e', 1, 2, 3]] }).success).toBe(true);
  });

  it('fastHubFrame never accepts a frame the schema refuses', () => {
    const frames = fc.oneof(
      fc.record({
        t: fc.constant('msg'),
        o: fc.string({ maxLength: 3 }),
        s: fc.oneof(fc.integer(), fc.double()),
        tp: value,
        d: value,
      }),
      fc.record({ t: fc.constant('puback'), s: fc.array(fc.oneof(fc.integer(), fc.double()), { maxLength: 3 }) }),
      field(['o', 's', 'tp', 'd', 'lo']).map((f) => ({ ...f, t: 'msg' })),
    );
    fc.assert(
      fc.property(frames, (f) => {
        const json = JSON.parse(JSON.stringify(f)) as unknown;
        if (fastHubFrame(json)) expect(HubFrameSchema.safeParse(json).success).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
