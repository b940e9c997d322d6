/**
 * Port of psij-python `tests/test_wait.py` (its one test, disabled there as `_test_wait`, is run
 * here with every launcher): `wait` returns at a target state or any later one, and at any final
 * state; with a timeout and no such state it returns nothing.
 */
import { expect } from 'vitest';
import { Job } from '@exaworks/jpsi-core';
import { describeStatus, portedModule, type PortTarget } from './harness.js';

/** Registers the ported test_wait.py test for every launcher of `target`. */
export function portedWaitTests(target: PortTarget): void {
  portedModule(target, 'test_wait.py', (c) => {
    c.it('test_wait: target states, later states, final states and a timeout', async () => {
      const hold = await c.hold();
      const job = await c.executor().submit(new Job(c.spec({ executable: hold.executable, arguments: hold.arguments })));
      // Held: the job reaches ACTIVE and stays there until released.
      expect(await job.wait({ targetStates: ['ACTIVE'], timeout: c.T(60_000) })).toMatchObject({ state: 'ACTIVE' });
      expect(await job.wait({ targetStates: ['QUEUED'], timeout: c.T(10_000) })).toMatchObject({ state: 'ACTIVE' });
      expect(await job.wait({ timeout: 100 })).toBeUndefined();
      expect(job.status.state).toBe('ACTIVE');
      await hold.release();
      const final = await job.wait({ timeout: c.T(60_000) });
      expect(final?.state, describeStatus(final)).toBe('COMPLETED');
      expect(await job.wait({ targetStates: ['QUEUED'], timeout: 0 })).toMatchObject({ state: 'COMPLETED' });
      // A final state ends any wait, even one for another final state.
      expect(await job.wait({ targetStates: ['FAILED'], timeout: 0 })).toMatchObject({ state: 'COMPLETED' });
    });
  });
}
