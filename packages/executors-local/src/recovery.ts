/**
 * What the work directory says about a job an executor adopts: was it started, does it run, how
 * did it end. Pure reads of the journals and of /proc; the executor acts on the answer.
 * @module
 */
import { existsSync } from 'node:fs';
import type { JobResult } from '@exaworks/launcher/job-result';
import { execResult, readExecAgentJournal } from './exec-agent.js';
import { findProcessRunning, isAlive, signalName, type ProcessIdentity } from './proc.js';
import { readAgentJournal, type AgentInfo } from './spawner.js';
import type { LocalJobPaths, SpawnMarker } from './store.js';

/** The name a job's shell runs under (`$0`), which recovery looks for in /proc/<pid>/cmdline. */
export function processName(nativeId: string): string {
  return `exaworks-job:${nativeId}`;
}

/** What the files say about whether a job past its STAGE_IN line was started (see {@link startFate}). */
export type StartFate =
  | { readonly kind: 'never' }
  | { readonly kind: 'pending' }
  | { readonly kind: 'running'; readonly identity: ProcessIdentity }
  | {
      readonly kind: 'ran';
      readonly exit?: { code: number | null; signal: NodeJS.Signals | null };
      readonly result?: JobResult;
    }
  | { readonly kind: 'maybe'; readonly exit?: undefined };

/**
 * For a job with a STAGE_IN line, no ACTIVE line and no live process: was it started? No spawn
 * marker: it never got that far. A spawn agent's job: its start journal says, once the agent
 * itself (the only reader of the request) is gone; while it or one of its watchers lives, the
 * answer may still change ('pending'). A direct spawn's job: it may have run ('maybe').
 */
export function startFate(id: string, marker: SpawnMarker | undefined, paths: LocalJobPaths): StartFate {
  if (marker === undefined) return { kind: 'never' };
  if (marker.spawn === 'direct') return { kind: 'maybe' };
  if (marker.spawn === 'exec') return execFate(id, marker.agent);
  const agentAlive = isAlive(marker.agent);
  const entry = readAgentJournal(marker.agent.journal, id);
  if (!entry.started) return agentAlive ? { kind: 'pending' } : { kind: 'never' };
  if (entry.noCwd) return { kind: 'never' };
  if (entry.status !== undefined) {
    const signal = entry.status > 128 ? signalName(entry.status - 128) : undefined;
    return { kind: 'ran', exit: signal ? { code: null, signal } : { code: entry.status, signal: null } };
  }
  // Started and not ended: between the agent's fork and the job's exec a watcher is all there is.
  if (existsSync(paths.exitCode)) return { kind: 'ran' };
  if (agentAlive || findProcessRunning(marker.agent.journal)) return { kind: 'pending' };
  return { kind: 'ran' };
}

/**
 * For a job handed to an exec agent: its journal says. No `S` line: never started once the agent
 * (its only reader) is gone. An `E` line: how it ended. A live pid: it runs. Otherwise, while the
 * agent lives its end is still to be journaled ('pending'); once it is gone, it ran and the end is lost.
 */
export function execFate(id: string, agent: AgentInfo): StartFate {
  const agentAlive = isAlive(agent);
  const entry = readExecAgentJournal(agent.journal, id);
  if (!entry.started) return agentAlive ? { kind: 'pending' } : { kind: 'never' };
  if (entry.status !== undefined) {
    const signal = entry.failure === undefined && entry.status > 128 ? signalName(entry.status - 128) : undefined;
    return {
      kind: 'ran',
      exit: signal ? { code: null, signal } : { code: entry.status, signal: null },
      result: execResult(entry)!,
    };
  }
  const identity =
    entry.pid !== undefined && entry.startTime !== undefined ? { pid: entry.pid, startTime: entry.startTime } : undefined;
  if (identity && isAlive(identity)) return { kind: 'running', identity };
  if (agentAlive) return { kind: 'pending' };
  return identity ? { kind: 'ran' } : { kind: 'maybe' };
}
