/**
 * The spawn agent: one long-lived `/bin/sh` that forks job processes on request, because
 * `child_process.spawn` forks the whole (large) Node process for every job and that fork cost
 * grows with Node's memory. Internal to the local executor.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { environmentHasBashFunctions } from '@exaworks/jpsi-core/internal';
import { AgentPool, holdNodeFor, type AgentInfo, type PooledAgent } from './agent-pool.js';
import { processStartTime, signalName } from './proc.js';

/**
 * The agent, for dash or bash. It checks its tools, opens its start journal (`$3`) and says
 * `ready`, then reads requests: the job's id, interpreter, working directory, a line count N and
 * N lines (the script, rebuilt with builtins only, so a missing final newline round-trips).
 * Before it forks anything for a request it appends `S <id> .` to the journal, from this loop: so
 * once this process is gone, a job whose line is not there never started (a request Node had
 * not yet written into the pipe when it was killed, or a torn one, never runs). It refuses a
 * job whose line it cannot write (`norecord <id>`: a full disk). Each job runs in a background
 * subshell with no pipes of ours, as `setsid <interp> -s exaworks-job:<id>` reading the script
 * from a pipe fed by a forked `printf` builtin (never `-c <script>`: argv is readable by every
 * user through `ps`, and the script holds the job's environment). A background child is not a
 * group leader, so setsid execs in place and the pid we report is the job's process group.
 * `env --default-signal` undoes the SIGINT/SIGQUIT ignore that sh gives background jobs.
 * A watcher subshell reports `pid <id> <pid>` and `exit <id> <status>` (or `nocwd <id>`), and
 * appends `E <id> <status> .` to the journal, so the status survives Node.
 * Every journal line starts with a newline: a torn line (full disk) never glues onto the next.
 */
export const AGENT_SCRIPT = `s=$1 e=$2 j=$3
command -v "$s" >/dev/null 2>&1 || exit 0
"$e" --default-signal=INT,QUIT true </dev/null >/dev/null 2>&1 || exit 0
exec 3>>"$j" || exit 0
echo ready
nl='
'
while IFS= read -r id && IFS= read -r interp && IFS= read -r cwd && IFS= read -r n; do
  script= sep= i=0
  while [ "$i" -lt "$n" ]; do
    IFS= read -r line || exit 0
    script=$script$sep$line sep=$nl i=$((i + 1))
  done
  if ! printf '\nS %s .\n' "$id" >&3 2>/dev/null; then
    echo "norecord $id"
    continue
  fi
  {
    if cd -- "$cwd" 2>/dev/null; then
      printf '%s\n' "$script" | (exec "$e" --default-signal=INT,QUIT "$s" "$interp" -s "exaworks-job:$id") >/dev/null 2>&1 &
      p=$!
      trap '' PIPE
      echo "pid $id $p"
      wait "$p"
      st=$?
      printf '\nE %s %s .\n' "$id" "$st" >&3 2>/dev/null
      echo "exit $id $st"
    else
      printf '\nN %s .\n' "$id" >&3 2>/dev/null
      echo "nocwd $id"
    fi
  } 2>/dev/null &
done
`;

export type { AgentInfo } from './agent-pool.js';

/** What an agent's start journal says about one job (see {@link AGENT_SCRIPT}). */
export interface AgentJournalEntry {
  /** The agent forked the job (its `S` line). */
  readonly started: boolean;
  /** The job's shell ended with this status (its `E` line). */
  readonly status?: number;
  /** The job never ran: its directory could not be entered (its `N` line). */
  readonly noCwd?: boolean;
}

/**
 * The complete lines about job `id` in an agent's journal, split into their fields (kind, id, …):
 * the one rule for reading agents' journals. A line counts only with its end mark (` .`), so a
 * torn one (a full disk) never does; every line starts with a newline, so none glues onto another.
 */
export function agentJournalLines(journal: string, id: string): string[][] {
  let text: string;
  try {
    text = readFileSync(journal, 'latin1');
  } catch {
    return [];
  }
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (!line.endsWith(' .')) continue;
    const fields = line.slice(0, -2).split(' ');
    if (fields[1] === id) out.push(fields);
  }
  return out;
}

/** Reads what an agent's start journal says about job `id` (torn lines do not count). */
export function readAgentJournal(journal: string, id: string): AgentJournalEntry {
  let started = false;
  let status: number | undefined;
  let noCwd = false;
  for (const [kind, , value] of agentJournalLines(journal, id)) {
    if (kind === 'S') started = true;
    else if (kind === 'E' && value !== undefined) status = Number(value);
    else if (kind === 'N') noCwd = true;
  }
  return { started, ...(status !== undefined ? { status } : {}), ...(noCwd ? { noCwd } : {}) };
}

/** What the executor hears about one job sent to the agent. */
export interface AgentJobHandlers {
  /** The job runs as process (and process group) `pid`. */
  started(pid: number): void;
  /** The job's process ended; a status of 128+n is reported as signal n. */
  exited(code: number | null, signal: NodeJS.Signals | null): void;
  /**
   * The agent could not run the job. `unavailable`: the agent cannot work here and read no
   * request, so the job never ran; `nocwd`: its working directory cannot be entered, so it never
   * ran; `norecord`: the agent could not record the start (a full disk), so it never ran;
   * `died`: the agent ended after it started, and the job may run (or have run).
   */
  failed(reason: AgentFailure, message: string): void;
}

/** Why the agent could not run a job (see {@link AgentJobHandlers.failed}). */
export type AgentFailure = 'unavailable' | 'nocwd' | 'norecord' | 'died';

/** A job request. */
export interface AgentRequest {
  readonly id: string;
  readonly interpreter: string;
  readonly cwd: string;
  readonly script: string;
}

/** Options of {@link SpawnAgents} (tests override the tools to force the fallback). */
export interface SpawnAgentOptions {
  /** The setsid command, looked up on the agent's PATH. Default `setsid`. */
  readonly setsid?: string;
  /** The env command (coreutils, with --default-signal). Default `env`. */
  readonly env?: string;
  /** Called once when the agent turns out to be unusable here (the caller then spawns directly). */
  readonly onUnavailable?: (reason: string) => void;
  /**
   * Directory of the agents' start journals (`<dir>/<tag>-<n>.started`). Default: none (the
   * agents record into /dev/null, for tests of the agent alone).
   */
  readonly journalDirectory?: string;
  /** Prefix of the journal names: unique per executor. @default `agent-<pid>` */
  readonly journalTag?: string;
}

interface Pending {
  readonly handlers: AgentJobHandlers;
  pid: number | undefined;
}

/** One agent process. */
class Agent implements PooledAgent {
  readonly #child: ChildProcess;
  readonly #jobs = new Map<string, Pending>();
  #ready = false;
  #buffer = '';
  #ended = false;
  /** True if the process died before its input was ended on purpose. */
  #crashed = false;
  dead = false;

  /** True once its input was ended on purpose (and it did not die before that). */
  get retired(): boolean {
    return this.#ended && !this.#crashed;
  }

  /** Who it is and where it records starts; undefined if it could not be started. */
  readonly info: AgentInfo | undefined;

  constructor(
    options: { setsid: string; env: string },
    journal: string,
    private readonly onGone: (agent: Agent, wasReady: boolean) => void,
  ) {
    // detached: the agent is its own process group, never a job's, and no terminal signal to
    // Node's group reaches it; it exits by itself on EOF when Node goes away. Under bash when the
    // environment carries exported bash functions: dash would drop them before they reach the jobs.
    const shell = environmentHasBashFunctions() ? '/bin/bash' : '/bin/sh';
    this.#child = spawn(shell, ['-c', AGENT_SCRIPT, 'exaworks-agent', options.setsid, options.env, journal], {
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
    });
    const pid = this.#child.pid;
    const startTime = pid === undefined ? undefined : processStartTime(pid, { zombies: true });
    this.info = pid !== undefined && startTime !== undefined ? { pid, startTime, journal } : undefined;
    this.#child.unref();
    this.#child.on('error', () => undefined); // reported through the close of stdout
    // Its watchers may keep stdout open for hours: take no more requests once the agent itself is gone.
    this.#child.on('exit', () => {
      if (!this.#ended) this.#crashed = true;
      this.dead = true;
    });
    this.#child.stdin!.on('error', () => undefined); // EPIPE when it died: same
    const out = this.#child.stdout!;
    out.setEncoding('latin1');
    out.on('data', (chunk: string) => this.#onData(chunk));
    out.on('close', () => this.#onClose());
    this.#refresh();
  }

  get jobs(): number {
    return this.#jobs.size;
  }

  /** Sends a request. */
  send(req: AgentRequest, handlers: AgentJobHandlers): void {
    this.#jobs.set(req.id, { handlers, pid: undefined });
    const n = req.script.split('\n').length;
    this.#child.stdin!.write(`${req.id}\n${req.interpreter}\n${req.cwd}\n${n}\n${req.script}\n`);
    this.#refresh();
  }

  /** No more requests: the agent exits; its stdout stays open (and read) until its jobs end. */
  retire(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#child.stdin!.end();
    const s = this.#child.stdin as unknown as { unref?: () => void };
    s.unref?.();
  }

  /** Stops caring: nothing of the agent keeps Node alive any more. */
  release(): void {
    this.retire();
    this.#jobs.clear();
    this.#refresh();
  }

  #refresh(): void {
    holdNodeFor(this.#child, this.#jobs.size > 0, true);
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let i = this.#buffer.indexOf('\n');
    while (i >= 0) {
      this.#onLine(this.#buffer.slice(0, i));
      this.#buffer = this.#buffer.slice(i + 1);
      i = this.#buffer.indexOf('\n');
    }
  }

  #onLine(line: string): void {
    if (line === 'ready') {
      this.#ready = true;
      return;
    }
    const [kind, id, value] = line.split(' ');
    const job = this.#jobs.get(id ?? '');
    if (!job) return;
    if (kind === 'pid') {
      job.pid = Number(value);
      job.handlers.started(job.pid);
    } else if (kind === 'exit') {
      this.#jobs.delete(id!);
      this.#refresh();
      const status = Number(value);
      const signal = status > 128 ? signalName(status - 128) : undefined;
      if (signal) job.handlers.exited(null, signal);
      else job.handlers.exited(status, null);
    } else if (kind === 'nocwd') {
      this.#jobs.delete(id!);
      this.#refresh();
      job.handlers.failed('nocwd', 'its working directory cannot be entered');
    } else if (kind === 'norecord') {
      this.#jobs.delete(id!);
      this.#refresh();
      job.handlers.failed('norecord', 'the spawn agent could not record its start (is the disk full?); it was not run');
    }
  }

  #onClose(): void {
    this.dead = true;
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    this.onGone(this, this.#ready);
    for (const job of jobs) {
      // Not ready: it read no request, so nothing ran.
      if (this.#ready) job.handlers.failed('died', 'the spawn agent ended');
      else job.handlers.failed('unavailable', 'the spawn agent is not usable here');
    }
  }
}

/**
 * The spawn agents of one executor: started lazily, replaced when `process.env` changes (jobs
 * inherit the environment as of their start, the agent only has its own start's), and given up
 * for good when the agent cannot work here (no setsid, or an env without --default-signal).
 */
export class SpawnAgents {
  readonly #pool: AgentPool<Agent>;

  constructor(options: SpawnAgentOptions = {}) {
    const tools = { setsid: options.setsid ?? 'setsid', env: options.env ?? 'env' };
    const dir = options.journalDirectory;
    const tag = options.journalTag ?? `agent-${process.pid}`;
    this.#pool = new AgentPool<Agent>({
      start: (journal, gone) => new Agent(tools, journal, gone),
      journal: (n) => (dir === undefined ? undefined : path.join(dir, `${tag}-${n}.started`)),
      reasons: {
        neverReady: 'setsid or env --default-signal is missing',
        diedRepeatedly: 'the spawn agent died repeatedly',
        notStarted: 'the spawn agent could not be started',
      },
      onUnavailable: options.onUnavailable,
    });
  }

  /** False once the agent proved unusable here. */
  get available(): boolean {
    return this.#pool.available;
  }

  /** Agent processes started so far that still run or have running jobs. */
  get agentCount(): number {
    return this.#pool.agents.size;
  }

  /**
   * Sends a job to the agent. False when the agent cannot take it (unavailable, or a field the
   * line framing cannot carry): the caller spawns it directly. `beforeSend` runs once the agent is
   * chosen and before any byte of the request is written (the executor records which agent may
   * start the job there); if it throws, nothing is sent and the error propagates.
   */
  run(req: AgentRequest, handlers: AgentJobHandlers, beforeSend?: (agent: AgentInfo) => void): boolean {
    if (!this.available || req.cwd.includes('\n') || req.interpreter.includes('\n') || req.script.includes('\0')) {
      return false;
    }
    const agent = this.#pool.current();
    if (!agent) return false; // not started at all: spawn directly
    beforeSend?.(agent.info!);
    agent.send(req, handlers);
    return true;
  }

  /**
   * Removes the start journals of this executor's agents: only once every job sent was recorded
   * as started with its pid elsewhere (the caller knows).
   */
  removeJournals(): void {
    this.#pool.removeJournals();
  }

  /** Ends every agent's input; running jobs keep running (they are in their own sessions). */
  close(): void {
    this.#pool.close();
  }
}
