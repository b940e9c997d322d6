import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  JOB_STATES,
  type JobState,
  advanceStatus,
  freezeStatus,
  isFinalState,
  isJobState,
  stateOrder,
  statesToEnter,
  statusFromJson,
  statusToJson,
} from './state.js';

describe('JobState order', () => {
  it('has the nine PSI/J states with PSI/J orders', () => {
    expect(JOB_STATES).toEqual([
      'NEW',
      'QUEUED',
      'STAGE_IN',
      'ACTIVE',
      'STAGE_OUT',
      'CLEANUP',
      'COMPLETED',
      'FAILED',
      'CANCELED',
    ]);
    expect(JOB_STATES.map(stateOrder)).toEqual([0, 1, 2, 3, 4, 5, 6, 6, 6]);
    expect(JOB_STATES.filter(isFinalState)).toEqual(['COMPLETED', 'FAILED', 'CANCELED']);
    expect(isJobState('ACTIVE')).toBe(true);
    expect(isJobState('RUNNING')).toBe(false);
    expect(isJobState('toString')).toBe(false);
  });
});

describe('statesToEnter', () => {
  it('fills in the unique predecessor chain when a job jumps', () => {
    expect(statesToEnter('NEW', 'COMPLETED')).toEqual(['QUEUED', 'STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'COMPLETED']);
    expect(statesToEnter('QUEUED', 'ACTIVE')).toEqual(['STAGE_IN', 'ACTIVE']);
    expect(statesToEnter('ACTIVE', 'CLEANUP')).toEqual(['STAGE_OUT', 'CLEANUP']);
  });
  it('fills nothing in before FAILED or CANCELED', () => {
    expect(statesToEnter('QUEUED', 'FAILED')).toEqual(['FAILED']);
    expect(statesToEnter('NEW', 'CANCELED')).toEqual(['CANCELED']);
  });
  it('ignores repeats, regressions and anything after a final state', () => {
    expect(statesToEnter('ACTIVE', 'ACTIVE')).toEqual([]);
    expect(statesToEnter('ACTIVE', 'QUEUED')).toEqual([]);
    for (const final of ['COMPLETED', 'FAILED', 'CANCELED'] as const) {
      for (const s of JOB_STATES) expect(statesToEnter(final, s)).toEqual([]);
    }
  });
  it('never moves backwards and always ends at the reported state (property)', () => {
    const state = fc.constantFrom(...JOB_STATES);
    fc.assert(
      fc.property(fc.array(state, { maxLength: 30 }), (reports) => {
        let current: JobState = 'NEW';
        const seen: JobState[] = [];
        for (const r of reports) {
          const entered = statesToEnter(current, r);
          if (entered.length) {
            expect(entered.at(-1)).toBe(r);
            for (const s of entered) {
              expect(stateOrder(s)).toBeGreaterThan(stateOrder(current));
              current = s;
              seen.push(s);
            }
          }
        }
        expect(new Set(seen).size).toBe(seen.length); // each state entered at most once
        expect(seen.filter(isFinalState).length).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('advanceStatus', () => {
  it('stamps filled-in states with the update time and keeps message/exit code on the reported one', () => {
    const time = new Date('2026-01-01T00:00:00Z');
    const out = advanceStatus(freezeStatus({ state: 'QUEUED', time: new Date(0) }), {
      state: 'FAILED',
      exitCode: 3,
      message: 'boom',
      time,
    });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ state: 'FAILED', exitCode: 3, message: 'boom', time });
    const jump = advanceStatus(freezeStatus({ state: 'QUEUED', time: new Date(0) }), { state: 'COMPLETED', exitCode: 0, time });
    expect(jump.map((s) => s.state)).toEqual(['STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP', 'COMPLETED']);
    expect(jump[0]!.exitCode).toBeUndefined();
    expect(jump.at(-1)!.exitCode).toBe(0);
    expect(Object.isFrozen(jump[0])).toBe(true);
  });
  it('round-trips through JSON', () => {
    const s = freezeStatus({
      state: 'FAILED',
      time: new Date('2026-02-03T04:05:06.789Z'),
      exitCode: 2,
      message: 'm',
      metadata: { a: 1 },
    });
    expect(statusFromJson(JSON.parse(JSON.stringify(statusToJson(s))))).toEqual(s);
  });
});
