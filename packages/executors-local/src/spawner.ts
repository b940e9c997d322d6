/**
 * The spawn agent: one long-lived `/bin/sh` that forks job processes on request, because
 * `child_process.spawn` forks the whole (large) Node process for every job and that fork cost
 * grows with Node's memory. Internal to the local executor.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

/**
 * The agent, for dash or bash. It checks its tools and says `ready`, then reads requests: the
 * job's id, interpreter, working directory, a line count N and N lines (the script, rebuilt with
 * builtins only, so a missing final newline round-trips). Each job runs in a background subshell
 * with no pipes of ours, as `setsid <interp> -s exaworks-job:<id>` reading the script from a pipe
 * fed by a forked `printf` builtin (never `-c <script>`: argv is readable by every user through
 * `ps`, and the script holds the job's environment). A background child is not a group leader,
 * so setsid execs in place and the pid we report is the job's process group.
 * `env --default-signal` undoes the SIGINT/SIGQUIT ignore that sh gives background jobs.
 * A watcher subshell reports `pid <id> <pid>` and `exit <id> <status>` (or `nocwd <id>`).
 */
export const AGENT_SCRIPT = `s=$1 e=$2
command -v "$s" >/dev/null 2>&1 || exit 0
"$e" --default-signal=INT,QUIT true </dev/null >/dev/null 2>&1 || exit 0
echo ready
nl='
'
while IFS= read -r id && IFS= read -r interp && IFS= read -r cwd && IFS= read -r n; do
  script= sep= i=0
  while [ "$i" -lt "$n" ]; do
    IFS= read -r line || exit 0
    script=$script$sep$line sep=$nl i=$((i + 1))
  done
  {
    if cd -- "$cwd" 2>/dev/null; then
      printf '%s\n' "$script" | (exec "$e" --default-signal=INT,QUIT "$s" "$interp" -s "exaworks-job:$id") >/dev/null 2>&1 &
      p=$!
      echo "pid $id $p"
      wait "$p"
      echo "exit $id $?"
    else
      echo "nocwd $id"
    fi
  } &
done
`;

/** What the executor hears about one job sent to the agent. */
export interface AgentJobHandlers {
  /** The job runs as process (and process group) `pid`. */
  started(pid: number): void;
  /** The job's process ended; a status of 128+n is reported as signal n. */
  exited(code: number | null, signal: NodeJS.Signals | null): void;
  /**
   * The agent could not run the job. `unavailable`: the agent cannot work here and read no
   * request, so the job never ran; `nocwd`: its working directory cannot be entered, so it never
   * ran; `died`: the agent ended after it started, and the job may run (or have run).
   */
  failed(reason: AgentFailure, message: string): void;
}

/** Why the agent could not run a job (see {@link AgentJobHandlers.failed}). */
export type AgentFailure = 'unavailable' | 'nocwd' | 'died';

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
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

interface Pending {
  readonly handlers: AgentJobHandlers;
  pid: number | undefined;
}

/** One agent process. */
class Agent {
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

  constructor(
    options: Required<Omit<SpawnAgentOptions, 'onUnavailable'>>,
    private readonly onGone: (agent: Agent, wasReady: boolean) => void,
  ) {
    // detached: the agent is its own process group, never a job's, and no terminal signal to
    // Node's group reaches it; it exits by itself on EOF when Node goes away.
    this.#child = spawn('/bin/sh', ['-c', AGENT_SCRIPT, 'exaworks-agent', options.setsid, options.env], {
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
    });
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

  // Node must stay alive while jobs it waits for run, and not because of an idle agent.
  #refresh(): void {
    const out = this.#child.stdout as unknown as { ref?: () => void; unref?: () => void };
    const stdin = this.#child.stdin as unknown as { ref?: () => void; unref?: () => void };
    if (this.#jobs.size > 0) {
      out.ref?.();
      stdin.ref?.();
    } else {
      out.unref?.();
      stdin.unref?.();
    }
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
      const signal = status > 128 ? signalNames.get(status - 128) : undefined;
      if (signal) job.handlers.exited(null, signal);
      else job.handlers.exited(status, null);
    } else if (kind === 'nocwd') {
      this.#jobs.delete(id!);
      this.#refresh();
      job.handlers.failed('nocwd', 'its working directory cannot be entered');
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
  readonly #options: Required<Omit<SpawnAgentOptions, 'onUnavailable'>>;
  readonly #onUnavailable: ((reason: string) => void) | undefined;
  readonly #agents = new Set<Agent>();
  #current: Agent | undefined;
  #envKeys: string[] = [];
  #envValues: (string | undefined)[] = [];
  #unavailable = false;
  #failures = 0;
  #closed = false;

  constructor(options: SpawnAgentOptions = {}) {
    this.#options = { setsid: options.setsid ?? 'setsid', env: options.env ?? 'env' };
    this.#onUnavailable = options.onUnavailable;
  }

  /** False once the agent proved unusable here. */
  get available(): boolean {
    return !this.#unavailable && !this.#closed;
  }

  /** Agent processes started so far that still run or have running jobs. */
  get agentCount(): number {
    return this.#agents.size;
  }

  /**
   * Sends a job to the agent. False when the agent cannot take it (unavailable, or a field the
   * line framing cannot carry): the caller spawns it directly.
   */
  run(req: AgentRequest, handlers: AgentJobHandlers): boolean {
    if (!this.available || req.cwd.includes('\n') || req.interpreter.includes('\n') || req.script.includes('\0')) {
      return false;
    }
    if (!this.#current || this.#current.dead || this.#envChanged()) {
      this.#current?.retire();
      this.#snapshotEnv();
      const agent = new Agent(this.#options, (a, wasReady) => this.#gone(a, wasReady));
      this.#agents.add(agent);
      this.#current = agent;
    }
    this.#current.send(req, handlers);
    return true;
  }

  /** Ends every agent's input; running jobs keep running (they are in their own sessions). */
  close(): void {
    this.#closed = true;
    for (const a of this.#agents) a.release();
    this.#current = undefined;
  }

  #gone(agent: Agent, wasReady: boolean): void {
    this.#agents.delete(agent);
    if (this.#current === agent) this.#current = undefined;
    if (this.#closed || (wasReady && agent.retired)) return;
    // Never ready: the tools are missing. Dying after ready three times: stop trying.
    if (!wasReady || ++this.#failures >= 3) {
      if (!this.#unavailable) {
        this.#unavailable = true;
        this.#onUnavailable?.(wasReady ? 'the spawn agent died repeatedly' : 'setsid or env --default-signal is missing');
      }
    }
  }

  #snapshotEnv(): void {
    this.#envKeys = Object.keys(process.env);
    this.#envValues = this.#envKeys.map((k) => process.env[k]);
  }

  // A few dozen variables: cheap next to a fork.
  #envChanged(): boolean {
    const keys = Object.keys(process.env);
    if (keys.length !== this.#envKeys.length) return true;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== this.#envKeys[i] || process.env[keys[i]!] !== this.#envValues[i]) return true;
    }
    return false;
  }
}
