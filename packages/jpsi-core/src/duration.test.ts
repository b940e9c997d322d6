import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_DURATION_SECONDS, formatClockDuration, formatMinutes, formatPsijDuration, parseDuration } from './duration.js';

const secs = (input: string | number) => {
  const r = parseDuration(input);
  if ('error' in r) throw new Error(r.error);
  return r.seconds;
};

describe('parseDuration', () => {
  it.each([
    ['5400.0 s', 5400],
    ['90.0 s', 90],
    ['0.5 s', 0.5],
    ['90s', 90],
    ['2 m', 120],
    ['1.5 h', 5400],
    ['1 day', 86400],
    ['30', 1800],
    ['01:30', 5400],
    ['01:30:15', 5415],
    ['1-12:00:00', 129600],
    ['2-01', 176400],
    [45, 45],
  ] as const)('%j → %d s', (input, expected) => {
    expect(secs(input)).toBe(expected);
  });
  it.each(['', 'abc', '-5 s', '0', '0 s', '1 fortnight', '1:2:3:4'])('rejects %j with a reason', (input) => {
    const r = parseDuration(input);
    expect('error' in r && r.error.length > 0).toBe(true);
  });
  it('rejects non-positive and non-finite numbers', () => {
    for (const n of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect('error' in parseDuration(n)).toBe(true);
  });
});

describe('formatting', () => {
  it('writes psij-python format and reads it back exactly (property)', () => {
    expect(formatPsijDuration(5400)).toBe('5400.0 s');
    expect(formatPsijDuration(1.25)).toBe('1.25 s');
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: MAX_DURATION_SECONDS, noNaN: true }), (s) => {
        expect(secs(formatPsijDuration(s))).toBeCloseTo(s, 6);
      }),
    );
  });
  it('formats scheduler clock time, rounding up', () => {
    expect(formatClockDuration(5415)).toBe('01:30:15');
    expect(formatClockDuration(0.2)).toBe('00:00:01');
    expect(formatClockDuration(129600)).toBe('1-12:00:00');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (s) => {
        expect(secs(formatClockDuration(s))).toBe(s);
      }),
    );
    expect(formatMinutes(61)).toBe(2);
  });
});
