/**
 * What the sh spawn agent and the python3 exec agent share: one executor's pool of agent
 * processes. One agent takes the requests at a time; a new one is started when there is none,
 * when it died, or when `process.env` changed (an agent has the environment of its own start, and
 * jobs inherit the environment as of theirs); the old one keeps reporting on its jobs. The pool
 * gives up for good when an agent cannot work here (never ready) or died after it was ready three
 * times: the executor then starts jobs another way.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { EnvSnapshot, type ProcessIdentity } from './proc.js';

/** Who an agent is and where it records what it started (written beside a job before its request is sent). */
export interface AgentInfo extends ProcessIdentity {
  /** Its journal. */
  readonly journal: string;
}

/** What the pool needs of one agent process. */
export interface PooledAgent {
  /** True once the agent process itself is gone (its jobs may still run). */
  readonly dead: boolean;
  /** True once its input was ended on purpose and it did not die before that. */
  readonly retired: boolean;
  /** Undefined if its process could not be started at all. */
  readonly info: AgentInfo | undefined;
  /** No more requests: it exits once its jobs are reported (or, the exec agent, reaped). */
  retire(): void;
  /** Stops caring: nothing of it keeps Node alive any more. */
  release(): void;
}

/** How a pool makes its agents and words its giving up. */
export interface AgentPoolOptions<A extends PooledAgent> {
  /** Starts an agent recording into `journal`; it calls `gone` once its process has ended. */
  readonly start: (journal: string, gone: (agent: A, wasReady: boolean) => void) => A;
  /** The journal of the n-th agent, or undefined for none (`/dev/null`, for tests of an agent alone). */
  readonly journal: (n: number) => string | undefined;
  /** Why the pool gave up, for `onUnavailable`. */
  readonly reasons: { readonly neverReady: string; readonly diedRepeatedly: string; readonly notStarted: string };
  /** Called once when the pool gives up. */
  readonly onUnavailable?: ((reason: string) => void) | undefined;
  /** An agent whose process could not be started at all means the pool gives up. @default false (try again next time) */
  readonly giveUpIfNotStarted?: boolean;
}

/** One executor's agents of one kind (see the module comment). */
export class AgentPool<A extends PooledAgent> {
  readonly #options: AgentPoolOptions<A>;
  readonly #journals: string[] = [];
  readonly #agents = new Set<A>();
  readonly #env = new EnvSnapshot();
  #made = 0;
  #current: A | undefined;
  #unavailable = false;
  #failures = 0;
  #closed = false;

  constructor(options: AgentPoolOptions<A>) {
    this.#options = options;
  }

  /** False once the pool gave up, or after close(). */
  get available(): boolean {
    return !this.#unavailable && !this.#closed;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Agent processes started so far that still run or have running jobs. */
  get agents(): ReadonlySet<A> {
    return this.#agents;
  }

  /** The agent for the next request, started if needed; undefined if none could be started. */
  current(): A | undefined {
    if (!this.available) return undefined;
    if (!this.#current || this.#current.dead || this.#env.changed()) {
      this.#current?.retire();
      this.#current = undefined;
      this.#env.take();
      const file = this.#options.journal(this.#made++);
      const agent = this.#options.start(file ?? '/dev/null', (a, wasReady) => this.#gone(a, wasReady));
      if (!agent.info) {
        if (this.#options.giveUpIfNotStarted) this.giveUp(this.#options.reasons.notStarted);
        return undefined;
      }
      if (file !== undefined) this.#journals.push(file);
      this.#agents.add(agent);
      this.#current = agent;
    }
    return this.#current;
  }

  /** Gives up on this kind of agent for good (said once through `onUnavailable`). */
  giveUp(reason: string): void {
    if (this.#unavailable) return;
    this.#unavailable = true;
    this.#options.onUnavailable?.(reason);
  }

  /** Removes the journals of the agents made so far: only once nothing in them is needed (the caller knows). */
  removeJournals(): void {
    for (const j of this.#journals.splice(0)) rmSync(j, { force: true });
  }

  /** Ends every agent's input; their jobs keep running in their own sessions. */
  close(): void {
    this.#closed = true;
    for (const a of this.#agents) a.release();
    this.#current = undefined;
  }

  #gone(agent: A, wasReady: boolean): void {
    this.#agents.delete(agent);
    if (this.#current === agent) this.#current = undefined;
    if (this.#closed || (wasReady && agent.retired)) return;
    // Never ready: it cannot work here. Dying after ready three times: stop trying.
    if (!wasReady) this.giveUp(this.#options.reasons.neverReady);
    else if (++this.#failures >= 3) this.giveUp(this.#options.reasons.diedRepeatedly);
  }
}

type Referable = { ref?: () => void; unref?: () => void };

/**
 * Makes an agent's pipes keep Node alive, or not: Node must stay alive while jobs it waits for
 * run, and not because of an idle agent. `input` false leaves its (ended) stdin unreferenced.
 */
export function holdNodeFor(child: ChildProcess, hold: boolean, input = true): void {
  const out = child.stdout as unknown as Referable;
  const stdin = child.stdin as unknown as Referable;
  if (hold) {
    out.ref?.();
    if (input) stdin.ref?.();
  } else {
    out.unref?.();
    stdin.unref?.();
  }
}
