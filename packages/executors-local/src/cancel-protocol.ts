/**
 * Cancelling a job this process does not own, through the work directory (see the package
 * README's *Cancel*): the request file, then one look at the job's lines decides who acts.
 * @module
 */
import { JobState, statusToJson } from '@exaworks/jpsi-core';
import { groupExists, isAlive, signalGroup, signalProcess, type ProcessIdentity } from './proc.js';
import type { JobStore } from './store.js';

/**
 * Cancels through the work directory, for a job this executor does not own: a cancel request
 * first, then a fresh look at the log. No STAGE_IN line yet: the owner will see the request
 * before it starts the job (it appends that line first, then checks), so the job never runs,
 * and this process decides it CANCELED through `<id>.unstarted` (the owner may race for the
 * same decision; one wins). Otherwise only the owner decides: this signals the recorded
 * process group. True if the job has a final state now.
 */
export async function cancelOnDisk(
  store: JobStore,
  nativeId: string,
  cancellerId: string,
  killGracePeriod: number,
): Promise<boolean> {
  const paths = store.paths(nativeId);
  if (store.readJob(nativeId)?.final) return true;
  store.claim(paths.cancel, cancellerId);
  const file = store.readJob(nativeId);
  if (!file) return false;
  if (file.final) return true;
  if (!file.starting) {
    await store.decideUnstarted(
      paths,
      statusToJson({
        state: JobState.CANCELED,
        time: new Date(),
        message: 'Canceled while queued; it was never started.',
        reason: 'canceled',
      }),
    );
    return true;
  }
  const active = file.lines.findLast((l) => l.pid !== undefined && l.startTime !== undefined);
  if (!active) return false; // being started: the starter checks the request right after starting it
  const identity: ProcessIdentity = { pid: active.pid!, startTime: active.startTime! };
  if (!isAlive(identity)) return false;
  // A job from a spawn agent leads its group only once setsid ran: just before, signal it alone.
  if (!signalGroup(identity.pid, 'SIGTERM')) signalProcess(identity.pid, 'SIGTERM');
  // Stay until the group is gone or the grace period is over, so a short-lived caller (the
  // CLI) still delivers the SIGKILL.
  const until = Date.now() + killGracePeriod;
  while (Date.now() < until && groupExists(identity.pid)) await new Promise((r) => setTimeout(r, 25));
  if (groupExists(identity.pid)) signalGroup(identity.pid, 'SIGKILL');
  return false;
}
