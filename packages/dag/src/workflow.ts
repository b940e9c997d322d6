/**
 * The workflow: a graph of jobs and in-process functions, and the scheduler that runs it.
 *
 * The scheduler is O(V + E): every task keeps a count of unfinished predecessors; a task whose
 * count reaches zero goes to the back of one FIFO ready queue, and tasks that become ready at the
 * same moment enter it in definition order. Nothing scans the graph.
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  createJobSpec,
  isJobSpec,
  Job,
  type JobExecutor,
  JobNotFoundError,
  type JobSpec,
  type JobSpecInput,
  JobState,
  jobSpecToInput,
  parseWith,
  ValidationError,
} from '@exaworks/jpsi-core';
import { Journal } from '@exaworks/jpsi-core/internal';
import type { RunSummary, StateCounts, TaskOutcome, TaskState, WorkflowEvent, WorkflowListener } from './events.js';
import { type RestoredRun, type RestoredTask, restoreRun, type WorkflowRecord } from './journal-records.js';
import {
  type BackoffOptions,
  checkName,
  isTaskName,
  type FailurePolicy,
  type ParsedTaskOptions,
  type RunOptions,
  RunOptionsSchema,
  TaskFailedError,
  type TaskOptions,
  TaskOptionsSchema,
  TaskTimeoutError,
  type TaskRef,
  type WorkflowOptions,
  WorkflowOptionsSchema,
  WorkflowError,
} from './options.js';

/** The environment variable that carries a job's submission key (`<run>:<task>:<attempt>`). */
export const SUBMIT_KEY_ENV = 'EXAWORKS_DAG_KEY';

/** The result of a task, returned when it is defined: pass it to `after` or as an argument of a wrapped function. */
export class TaskFuture<T = unknown> {
  /** @internal */
  declare readonly __type?: T;
  constructor(readonly name: string) {}
}

/** What a job task resolves to. */
export interface JobResult {
  readonly nativeId: string;
  readonly exitCode: number | undefined;
  readonly state: string;
}

/** Given to every running task. */
export interface TaskContext {
  /** The task's name. */
  readonly name: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the task times out, the run is canceled or a fail-fast stop happens. */
  readonly signal: AbortSignal;
  /** Adds an in-process task while the workflow runs (fan-out); it may depend on any task defined so far. */
  task<T>(name: string, fn: TaskFunction<T>, options?: TaskOptions): TaskFuture<T>;
  /** Adds a job while the workflow runs. */
  job(name: string, spec: JobSpecSource, options?: TaskOptions): TaskFuture<JobResult>;
}

/** An in-process task: receives its predecessors' results by name. */
export type TaskFunction<T = unknown> = (inputs: Readonly<Record<string, unknown>>, ctx: TaskContext) => T | Promise<T>;

/** A job's spec, or a function of the predecessors' results that returns one. */
export type JobSpecSource = JobSpecInput | JobSpec | ((inputs: Readonly<Record<string, unknown>>) => JobSpecInput | JobSpec);

/** One argument of a wrapped function: a value, a future of it, or for an array an array of values and futures. */
export type FutureArg<T> = T | TaskFuture<T> | (T extends readonly (infer U)[] ? ReadonlyArray<U | TaskFuture<U>> : never);
/** The arguments a wrapped function accepts. */
export type FutureArgs<A extends unknown[]> = { [K in keyof A]: FutureArg<A[K]> };

/** What a node rarely needs: kept apart so that a million plain no-op tasks carry none of it. */
interface NodeExtra {
  /** `after` names not yet resolved (a name defined later): resolved by the link before the run. */
  refs?: readonly string[];
  /** Futures style: the call's arguments, futures among them. */
  args?: readonly unknown[];
  error?: string;
  cause?: string;
  nativeId?: string;
  controller?: AbortController;
  job?: Job;
  timer?: NodeJS.Timeout;
  replaying?: RestoredTask;
}

const JOB = 1;
const CACHED = 2;
const RESTORED = 4;
const PLANNER = 8;
const SEEN = 16;
/** Shared by every node without predecessors or dependents until it gets one (never pushed to). */
const NO_NODES: readonly Node[] = Object.freeze([]);

/**
 * One task of the graph. Small on purpose (a 1M-node graph keeps one per task): booleans are bits
 * of `flags`, and rarely used fields live in a side object `x` made on first write.
 */
class Node {
  /**
   * Predecessors and dependents. A list of one is the shared `[x]` of that node ({@link Node.one}):
   * in a fan-out a million tasks share one array instead of owning two each. Never mutate a list in
   * place except through {@link Node.link} / {@link Node.unlinkLast}, which copy a shared one first.
   */
  deps: readonly Node[] = NO_NODES;
  dependents: readonly Node[] = NO_NODES;
  #one: readonly Node[] | undefined = undefined;
  waiting = 0;
  state: TaskState = 'pending';
  attempts = 0;
  value: unknown = undefined;
  flags: number;
  x: NodeExtra | undefined = undefined;
  constructor(
    readonly index: number,
    readonly name: string,
    kind: 'task' | 'job',
    /** The function of a task, the spec (source) of a job. */
    readonly body: TaskFunction | JobSpecSource,
    readonly opts: ParsedTaskOptions,
  ) {
    this.flags = kind === 'job' ? JOB : 0;
  }
  get kind(): 'task' | 'job' {
    return this.flags & JOB ? 'job' : 'task';
  }
  get fn(): TaskFunction {
    return this.body as TaskFunction;
  }
  get spec(): JobSpecSource {
    return this.body as JobSpecSource;
  }
  // Plain methods, not #private ones: those would add a brand field to every node.
  private flag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }
  get cached(): boolean {
    return (this.flags & CACHED) !== 0;
  }
  set cached(v: boolean) {
    this.flag(CACHED, v);
  }
  get restored(): boolean {
    return (this.flags & RESTORED) !== 0;
  }
  set restored(v: boolean) {
    this.flag(RESTORED, v);
  }
  get planner(): boolean {
    return (this.flags & PLANNER) !== 0;
  }
  set planner(v: boolean) {
    this.flag(PLANNER, v);
  }
  get seen(): boolean {
    return (this.flags & SEEN) !== 0;
  }
  set seen(v: boolean) {
    this.flag(SEEN, v);
  }
  private set<K extends keyof NodeExtra>(key: K, v: NodeExtra[K]): void {
    if (this.x) this.x[key] = v;
    else if (v !== undefined) this.x = { [key]: v };
  }
  get args(): readonly unknown[] | undefined {
    return this.x?.args;
  }
  set args(v: readonly unknown[] | undefined) {
    this.set('args', v);
  }
  get error(): string | undefined {
    return this.x?.error;
  }
  set error(v: string | undefined) {
    this.set('error', v);
  }
  get cause(): string | undefined {
    return this.x?.cause;
  }
  set cause(v: string | undefined) {
    this.set('cause', v);
  }
  get nativeId(): string | undefined {
    return this.x?.nativeId;
  }
  set nativeId(v: string | undefined) {
    this.set('nativeId', v);
  }
  get controller(): AbortController | undefined {
    return this.x?.controller;
  }
  set controller(v: AbortController | undefined) {
    this.set('controller', v);
  }
  get job(): Job | undefined {
    return this.x?.job;
  }
  set job(v: Job | undefined) {
    this.set('job', v);
  }
  get timer(): NodeJS.Timeout | undefined {
    return this.x?.timer;
  }
  set timer(v: NodeJS.Timeout | undefined) {
    this.set('timer', v);
  }
  get replaying(): RestoredTask | undefined {
    return this.x?.replaying;
  }
  set replaying(v: RestoredTask | undefined) {
    this.set('replaying', v);
  }
  /** `[this]`, made once and shared by every list that holds only this node. */
  get one(): readonly Node[] {
    this.#one ??= Object.freeze([this]);
    return this.#one;
  }
  /** Adds the edge `dep → this`. */
  link(dep: Node): void {
    this.deps = appended(this.deps, dep);
    dep.dependents = appended(dep.dependents, this);
  }
  /** Removes this node's edges, which were the last ones added to each of its predecessors. */
  unlinkAll(): void {
    for (const d of this.deps) {
      if (d.dependents.length === 1)
        d.dependents = NO_NODES; // possibly shared: replace, never pop
      else (d.dependents as Node[]).pop(); // two or more: d's own list
    }
    this.deps = NO_NODES;
  }
}

/** `list` with `x` at the end: the shared `[x]` for a list of one, otherwise a list of its own (never a shared one). */
function appended(list: readonly Node[], x: Node): readonly Node[] {
  if (list.length === 0) return x.one;
  // Short lists are copied at their exact size: a push would reserve 16 more slots (≈130 bytes) each time.
  if (list.length < 16) return list.concat(x);
  (list as Node[]).push(x);
  return list;
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});
const NO_OPTIONS: ParsedTaskOptions = Object.freeze({});
/** Tasks started in one go before the scheduler yields to the event loop. */
const SYNC_BURST = 10_000;
const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.5 };

const refName = (r: TaskRef): string => (typeof r === 'string' ? r : r.name);

/** The `after` array of options that hold nothing else, every entry a valid name or a future; else undefined (zod decides). */
function onlyAfter(options: TaskOptions): readonly TaskRef[] | undefined {
  if (typeof options !== 'object' || options === null) return undefined;
  let after: unknown;
  for (const key in options) {
    if (key !== 'after') return undefined;
    after = (options as { after: unknown }).after;
  }
  if (!Array.isArray(after)) return undefined;
  for (const r of after) {
    if (!(typeof r === 'string' ? isTaskName(r) : r instanceof TaskFuture && isTaskName(r.name))) return undefined;
  }
  return after as readonly TaskRef[];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A dependency graph of PSI/J jobs (on any JobExecutor) and in-process functions.
 *
 * ```ts fragment
 * const wf = new Workflow({ executor, journal: '/tmp/wf.jsonl', concurrency: 8 });
 * const a = wf.task('a', async () => 20);
 * const b = wf.job('b', { executable: '/bin/true' }, { after: [a], retries: 2, timeout: '1 min' });
 * wf.task('c', async (inputs) => (inputs.a as number) + 1, { after: [a, b] });
 * const summary = await wf.run();
 * ```
 */
export class Workflow {
  readonly #options: WorkflowOptions;
  readonly #nodes: Node[] = [];
  readonly #byName = new Map<string, Node>();
  readonly #listeners = new Set<WorkflowListener>();
  readonly #fnCounters = new Map<string, number>();
  /** Nodes whose `after` names a task not defined yet when they were added: linked by {@link Workflow.validate} / run. */
  readonly #unresolved: Node[] = [];
  /** Per-node marks that drop duplicate predecessors without a Set per node (`#gen` tells linkings apart). */
  #stamp = new Int32Array(1024);
  #gen = 0;
  #run: RunState | undefined;
  #ran = false;

  constructor(options: WorkflowOptions = {}) {
    this.#options = parseWith(WorkflowOptionsSchema, options, 'workflow options') as WorkflowOptions;
  }

  /** The workflow's name (recorded in its journal). @default 'workflow' */
  get name(): string {
    return this.#options.name ?? 'workflow';
  }

  /** Number of tasks defined so far. */
  get size(): number {
    return this.#nodes.length;
  }

  /** Names of the tasks, in definition order, with the names of their predecessors. */
  edges(): Array<{ name: string; kind: 'task' | 'job'; after: string[] }> {
    return this.#nodes.map((n) => ({
      name: n.name,
      kind: n.kind,
      after: n.x?.refs ? [...n.x.refs] : n.deps.map((d) => d.name),
    }));
  }

  /** Subscribes to the run's events. Returns the unsubscribe function. */
  on(listener: WorkflowListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Defines an in-process task. Its function receives the results of its `after` tasks, by name.
   * @throws `ValidationError` (jpsi-core) for a bad name, a duplicate name or bad options.
   */
  task<T>(name: string, fn: TaskFunction<T>, options?: TaskOptions): TaskFuture<T> {
    if (typeof fn !== 'function') {
      throw new ValidationError(`task "${String(name)}"`, [{ path: 'fn', message: 'must be a function' }]);
    }
    return this.#add(name, 'task', fn as TaskFunction, options) as TaskFuture<T>;
  }

  /**
   * Defines a job, run by the workflow's executor. Resolves to `{ nativeId, exitCode, state }`;
   * a job that does not end COMPLETED with exit code 0 fails the task.
   * @throws `ValidationError` (jpsi-core) for a bad name, spec or options.
   */
  job(name: string, spec: JobSpecSource, options?: TaskOptions): TaskFuture<JobResult> {
    const source = typeof spec === 'function' || isJobSpec(spec) ? spec : createJobSpec(spec);
    return this.#add(name, 'job', source, options) as TaskFuture<JobResult>;
  }

  /**
   * Futures style: wraps `fn` so that calling it defines a task (named `<name>-1`, `<name>-2`, …)
   * whose arguments may be futures (or arrays of futures); edges follow the arguments.
   */
  fn<A extends unknown[], R>(
    name: string,
    fn: (...args: A) => R | Promise<R>,
    options?: Omit<TaskOptions, 'after'>,
  ): (...args: FutureArgs<A>) => TaskFuture<Awaited<R>> {
    checkName(name, 'wrapped function name');
    return (...args) => {
      const i = (this.#fnCounters.get(name) ?? 0) + 1;
      this.#fnCounters.set(name, i);
      const after: string[] = [];
      for (const a of args) {
        if (a instanceof TaskFuture) after.push(a.name);
        else if (Array.isArray(a)) for (const x of a) if (x instanceof TaskFuture) after.push(x.name);
      }
      const wrapped: TaskFunction = (_inputs, _ctx) => fn(...(this.#resolveArgs(args) as A));
      return this.#add(`${name}-${i}`, 'task', wrapped, { ...options, after }, args, fn.toString()) as TaskFuture<Awaited<R>>;
    };
  }

  #resolveArgs(args: readonly unknown[]): unknown[] {
    const value = (f: TaskFuture) => this.#byName.get(f.name)?.value;
    return args.map((a) =>
      a instanceof TaskFuture ? value(a) : Array.isArray(a) ? a.map((x) => (x instanceof TaskFuture ? value(x) : x)) : a,
    );
  }

  #add(
    name: string,
    kind: 'task' | 'job',
    body: TaskFunction | JobSpecSource,
    options: TaskOptions | undefined,
    args?: readonly unknown[],
    source?: string,
  ): TaskFuture {
    checkName(name, `${kind} name`);
    if (this.#byName.has(name)) {
      throw new ValidationError(`${kind} "${name}"`, [{ path: 'name', message: `a task named "${name}" already exists` }]);
    }
    let opts = NO_OPTIONS;
    let after: readonly TaskRef[] | undefined;
    if (options !== undefined) {
      // `{ after: [names] }` alone is by far the most common: it needs no zod pass (same name rule).
      after = onlyAfter(options);
      if (after === undefined) {
        const parsed = parseWith(TaskOptionsSchema, options, `options of ${kind} "${name}"`);
        after = parsed.after;
        // Shared empty options where possible: a million-task graph keeps one small node per task and little else.
        opts = after !== undefined && Object.keys(parsed).length === 1 ? NO_OPTIONS : parsed;
      }
    }
    const node = new Node(this.#nodes.length, name, kind, body, opts);
    if (args !== undefined) node.args = args;
    if (source !== undefined) sources.set(node, source);
    if (after !== undefined && after.length > 0 && !this.#linkNow(node, after)) {
      if (this.#run) {
        const missing = after.map(refName).find((r) => !this.#byName.has(r));
        throw new ValidationError(`${kind} "${name}"`, [
          { path: 'after', message: `unknown task "${missing}" (tasks added at run time may depend on tasks defined so far)` },
        ]);
      }
      node.x = { refs: after.map(refName) };
      this.#unresolved.push(node);
    }
    this.#nodes.push(node);
    this.#byName.set(name, node);
    this.#run?.attach(node);
    return new TaskFuture(name);
  }

  /** A fresh mark for one linking, with room for every node. */
  #nextGen(): number {
    if (this.#stamp.length < this.#nodes.length + 1) {
      const grown = new Int32Array(Math.max(this.#stamp.length * 2, this.#nodes.length + 1));
      grown.set(this.#stamp);
      this.#stamp = grown;
    }
    return ++this.#gen;
  }

  /** Links `node` to its predecessors if all exist already (then it is in definition order); else links nothing. */
  #linkNow(node: Node, after: readonly TaskRef[]): boolean {
    const gen = this.#nextGen();
    const stamp = this.#stamp;
    for (const r of after) {
      const dep = this.#byName.get(typeof r === 'string' ? r : r.name);
      if (dep === undefined) {
        node.unlinkAll(); // undo: this node was added last to each predecessor's dependents
        return false;
      }
      if (stamp[dep.index] === gen) continue; // a duplicate
      stamp[dep.index] = gen;
      node.link(dep);
    }
    return true;
  }

  /** Resolves the `after` names of tasks defined before their predecessors, and checks the graph: unknown names, cycles (with their path). */
  #link(): void {
    const issues: { path: string; message: string }[] = [];
    const plans: Array<[Node, Node[]]> = [];
    for (const n of this.#unresolved) {
      const gen = this.#nextGen();
      const stamp = this.#stamp;
      const deps: Node[] = [];
      for (const ref of n.x!.refs!) {
        const dep = this.#byName.get(ref);
        if (!dep) issues.push({ path: `${n.name}.after`, message: `unknown task "${ref}"` });
        else if (dep === n) issues.push({ path: `${n.name}.after`, message: 'a task cannot depend on itself' });
        else if (stamp[dep.index] !== gen) {
          stamp[dep.index] = gen;
          deps.push(dep);
        }
      }
      plans.push([n, deps]);
    }
    if (issues.length > 0) throw new ValidationError('workflow', issues);
    const touched = new Set<Node>();
    for (const [n, deps] of plans) {
      for (const d of deps) {
        n.link(d);
        touched.add(d);
      }
      n.x!.refs = undefined;
    }
    this.#unresolved.length = 0;
    // Dependents in definition order, as if every edge had been known when its task was defined.
    for (const d of touched) if (d.dependents.length > 1) (d.dependents as Node[]).sort((p, q) => p.index - q.index);
    const cycle = findCycle(this.#nodes);
    if (cycle) {
      throw new ValidationError('workflow', [{ path: cycle[0]!, message: `dependency cycle: ${cycle.join(' → ')}` }]);
    }
  }

  /**
   * Checks the graph without running it.
   * @throws `ValidationError` (jpsi-core) naming unknown predecessors or a cycle with its path.
   */
  validate(): void {
    this.#link();
  }

  /**
   * Runs the workflow to the end. With a journal that holds an interrupted run of this workflow,
   * continues it: finished tasks are not run again, jobs still running are re-attached by native
   * id, unfinished work runs.
   * @throws `ValidationError` (jpsi-core) for an invalid graph; {@link WorkflowError} for a journal of another workflow;
   * a StorageError if the journal cannot be written.
   */
  async run(options: RunOptions = {}): Promise<RunSummary> {
    const { signal } = parseWith(RunOptionsSchema, options, 'run options');
    if (this.#ran) throw new WorkflowError('This workflow has already run; create a new Workflow to run again.');
    this.#ran = true;
    this.#link();
    const started = performance.now();
    let journal: Journal<WorkflowRecord> | undefined;
    let restored: RestoredRun | undefined;
    let cache: Map<string, unknown> | undefined;
    let cacheJournal: Journal<{ k: string; v: unknown }> | undefined;
    try {
      if (this.#options.journal !== undefined) {
        const opened = await Journal.open<WorkflowRecord>(this.#options.journal, { fsync: this.#options.fsync ?? false });
        journal = opened.journal;
        restored = restoreRun(opened.records);
        if (restored.workflow !== undefined && restored.workflow !== this.name) {
          throw new WorkflowError(
            `Journal ${this.#options.journal} belongs to workflow "${restored.workflow}", not "${this.name}".`,
          );
        }
      }
      if (this.#options.cache !== undefined) {
        const opened = await Journal.open<{ k: string; v: unknown }>(this.#options.cache);
        cacheJournal = opened.journal;
        cache = new Map(opened.records.map((r) => [r.k, r.v]));
      }
      const resumed = restored !== undefined && restored.runId !== undefined;
      const runId = restored?.runId ?? randomUUID();
      if (journal && !resumed) {
        await journal.append({ t: 'run', wf: this.name, run: runId, at: Date.now(), meta: metadata.get(this) });
      }
      const run = new RunState(
        { workflow: this, nodes: this.#nodes, resolveArgs: (a) => this.#resolveArgs(a) },
        this.#options,
        this.#listeners,
        journal,
        restored,
        cache,
        cacheJournal,
        runId,
        signal,
      );
      this.#run = run;
      const aborted = await run.execute();
      this.#run = undefined;
      const summary = makeSummary(this.#nodes, this.#byName, resumed, aborted, performance.now() - started);
      if (journal && !aborted) await journal.append({ t: 'end', ok: summary.ok });
      return summary;
    } finally {
      this.#run = undefined;
      await journal?.close();
      await cacheJournal?.close();
    }
  }
}

/** Function source of futures-style tasks (their `fn` is a wrapper), for cache keys. */
const sources = new WeakMap<object, string>();
/** Caller metadata stored in a workflow's journal header (the CLI keeps the workflow file there). */
const metadata = new WeakMap<Workflow, unknown>();

/** @internal Sets the metadata recorded in the journal's first record. */
export function setWorkflowMetadata(wf: Workflow, meta: unknown): void {
  metadata.set(wf, meta);
}

/** Iterative DFS (white/grey/black): returns a cycle as a path of names, first name repeated at the end. */
function findCycle(nodes: readonly Node[]): string[] | undefined {
  const color = new Uint8Array(nodes.length);
  const parent = new Int32Array(nodes.length).fill(-1);
  const edgeIndex = new Uint32Array(nodes.length);
  for (const root of nodes) {
    if (color[root.index] !== 0) continue;
    const stack: Node[] = [root];
    color[root.index] = 1;
    while (stack.length > 0) {
      const n = stack[stack.length - 1]!;
      const i = edgeIndex[n.index]!;
      if (i < n.dependents.length) {
        edgeIndex[n.index] = i + 1;
        const d = n.dependents[i]!;
        if (color[d.index] === 0) {
          color[d.index] = 1;
          parent[d.index] = n.index;
          stack.push(d);
        } else if (color[d.index] === 1) {
          const path: string[] = [d.name];
          for (let k = n.index; k !== d.index && k !== -1; k = parent[k]!) path.push(nodes[k]!.name);
          path.push(d.name);
          return path.reverse();
        }
      } else {
        color[n.index] = 2;
        stack.pop();
      }
    }
  }
  return undefined;
}

function makeSummary(
  nodes: readonly Node[],
  byName: Map<string, Node>,
  resumed: boolean,
  aborted: boolean,
  durationMs: number,
): RunSummary {
  const counts: StateCounts = { succeeded: 0, failed: 0, skipped: 0, canceled: 0, cached: 0 };
  const failures: TaskOutcome[] = [];
  for (const n of nodes) {
    if (n.state === 'succeeded') counts.succeeded++;
    else if (n.state === 'failed') {
      counts.failed++;
      failures.push(outcomeOf(n));
    } else if (n.state === 'skipped') counts.skipped++;
    else if (n.state === 'canceled') counts.canceled++;
    if (n.cached) counts.cached++;
  }
  return {
    ok: counts.succeeded === nodes.length,
    resumed,
    aborted,
    total: nodes.length,
    counts,
    durationMs,
    failures,
    outcome: (name) => {
      const n = byName.get(name);
      return n ? outcomeOf(n) : undefined;
    },
    *outcomes() {
      for (const n of nodes) yield outcomeOf(n);
    },
    result: <T>(name: string) => {
      const n = byName.get(name);
      return (n?.state === 'succeeded' ? n.value : undefined) as T | undefined;
    },
  };
}

function outcomeOf(n: Node): TaskOutcome {
  const o: { -readonly [K in keyof TaskOutcome]: TaskOutcome[K] } = {
    name: n.name,
    state: n.state,
    attempts: n.attempts,
    cached: n.cached,
    restored: n.restored,
  };
  if (n.state === 'succeeded') o.value = n.value;
  if (n.error !== undefined) o.error = n.error;
  if (n.cause !== undefined) o.cause = n.cause;
  if (n.nativeId !== undefined) o.nativeId = n.nativeId;
  return o;
}

/** One execution of a workflow: the ready queue, the running set, the journal. */
class RunState {
  readonly #ready: Node[] = [];
  #head = 0;
  readonly #running = new Set<Node>();
  readonly #retrying = new Set<Node>();
  #stopping = false;
  #aborted = false;
  #committing = 0;
  /** Succeeded tasks whose `ok` record is queued but not yet asked to be written (see #succeedAfterCommit). */
  #uncommitted: Node[] = [];
  #commitScheduled = false;
  #pumping = false;
  #again = false;
  #syncStarts = 0;
  #done: (() => void) | undefined;
  #failure: unknown;
  readonly #concurrency: number;
  readonly #policy: FailurePolicy;
  readonly #pendingCancels: Promise<unknown>[] = [];
  readonly #emit: ((e: WorkflowEvent) => void) | undefined;
  readonly #wf: Workflow;
  readonly #nodes: readonly Node[];
  readonly #resolveArgs: (args: readonly unknown[]) => unknown[];

  constructor(
    owner: { workflow: Workflow; nodes: readonly Node[]; resolveArgs: (args: readonly unknown[]) => unknown[] },
    readonly options: WorkflowOptions,
    listeners: Set<WorkflowListener>,
    readonly journal: Journal<WorkflowRecord> | undefined,
    readonly restored: RestoredRun | undefined,
    readonly cache: Map<string, unknown> | undefined,
    readonly cacheJournal: Journal<{ k: string; v: unknown }> | undefined,
    readonly runId: string,
    readonly signal: AbortSignal | undefined,
  ) {
    this.#wf = owner.workflow;
    this.#nodes = owner.nodes;
    this.#resolveArgs = owner.resolveArgs;
    this.#concurrency = options.concurrency ?? 64;
    this.#policy = options.onFailure ?? 'fail-fast';
    if (listeners.size > 0) {
      this.#emit = (e) => {
        for (const l of listeners) {
          try {
            l(e);
          } catch (err) {
            process.emitWarning(`A workflow listener threw: ${errorText(err)}`, { code: 'EXAWORKS_LISTENER_ERROR' });
          }
        }
      };
    }
  }

  /** Runs until nothing is ready or running; resolves to whether the run was aborted. */
  execute(): Promise<boolean> {
    const wfNodes = this.#nodes;
    return new Promise<boolean>((resolve, reject) => {
      this.#done = () => {
        if (this.#failure !== undefined) reject(this.#failure);
        else resolve(this.#aborted);
      };
      const onAbort = () => this.#abort();
      if (this.signal?.aborted) this.#aborted = this.#stopping = true;
      this.signal?.addEventListener('abort', onAbort, { once: true });
      const finish = this.#done;
      this.#done = () => {
        this.signal?.removeEventListener('abort', onAbort);
        finish();
      };
      for (const n of wfNodes) {
        n.waiting = n.deps.length;
        if (n.waiting === 0) this.#queue(n);
      }
      this.#pump();
    });
  }

  /** A task added at run time: wire its edges against the current state of its predecessors. */
  attach(node: Node): void {
    let failedDep: Node | undefined;
    for (const d of node.deps) {
      if (d.state === 'succeeded') continue;
      if (d.state === 'failed' || d.state === 'skipped' || d.state === 'canceled') failedDep ??= d;
      node.waiting++;
    }
    if (failedDep) {
      this.#skip(node, failedDep.cause ?? failedDep.name);
    } else if (node.waiting === 0) this.#queue(node);
  }

  #queue(n: Node): void {
    n.state = 'queued';
    this.#ready.push(n);
    this.#emit?.({ type: 'queued', task: n.name });
  }

  #record(r: WorkflowRecord): void {
    if (this.journal) this.journal.enqueue(r);
  }

  /**
   * Starts ready tasks up to the concurrency limit, then checks whether the run is over. Not
   * re-entrant: a call made while pumping (a synchronous task finishing) makes the running loop go
   * round again instead of growing the stack, so a million-task chain needs no deep recursion.
   */
  #pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        this.#startReady();
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
    this.#checkDone();
  }

  #startReady(): void {
    while (!this.#stopping && this.#running.size < this.#concurrency && this.#head < this.#ready.length) {
      if (++this.#syncStarts >= SYNC_BURST) {
        // Let timers, I/O and the abort signal in now and then when tasks finish synchronously.
        this.#syncStarts = 0;
        this.#again = false;
        this.#committing++;
        setImmediate(() => {
          this.#committing--;
          this.#pump();
        });
        return;
      }
      const n = this.#ready[this.#head++]!;
      if (this.#head > 4096 && this.#head * 2 > this.#ready.length) {
        this.#ready.splice(0, this.#head);
        this.#head = 0;
      }
      if (n.state !== 'queued') continue;
      const r = this.restored?.tasks.get(n.name);
      if (r?.final !== undefined && !(r.final === 'succeeded' && r.planner)) {
        this.#restore(n, r);
        continue;
      }
      this.#start(n, r);
    }
  }

  #checkDone(): void {
    if (
      this.#running.size === 0 &&
      this.#retrying.size === 0 &&
      this.#committing === 0 &&
      (this.#stopping || this.#head >= this.#ready.length)
    ) {
      if (this.#pendingCancels.length > 0) {
        const waits = this.#pendingCancels.splice(0);
        void Promise.allSettled(waits).then(() => this.#pump());
        return;
      }
      const journal = this.journal;
      const done = this.#done;
      this.#done = undefined;
      if (!done) return;
      if (journal)
        journal.flush().then(done, (err) => {
          this.#failure ??= err;
          done();
        });
      else done();
    }
  }

  /** A task the journal says is finished: take its outcome without running it. */
  #restore(n: Node, r: RestoredTask): void {
    n.attempts = r.attempts;
    n.restored = true;
    n.cached = r.cached ?? false;
    if (r.nativeId !== undefined) n.nativeId = r.nativeId;
    switch (r.final) {
      case 'succeeded':
        n.value = r.value;
        n.state = 'succeeded';
        this.#emit?.({ type: 'succeeded', task: n.name, attempt: n.attempts, restored: true });
        this.#succeed(n);
        break;
      case 'failed':
        n.error = r.error;
        n.state = 'failed';
        this.#emit?.({ type: 'failed', task: n.name, attempt: n.attempts, error: r.error ?? '' });
        this.#propagateFailure(n, n.name);
        break;
      case 'skipped':
        this.#skip(n, r.cause ?? 'upstream', true);
        break;
      default:
        n.state = 'canceled';
        n.cause = r.cause;
        this.#emit?.({ type: 'canceled', task: n.name });
        this.#propagateFailure(n, n.name);
    }
  }

  #inputs(n: Node): Readonly<Record<string, unknown>> {
    if (n.deps.length === 0) return EMPTY;
    const inputs: Record<string, unknown> = {};
    for (const d of n.deps) inputs[d.name] = d.value;
    return inputs;
  }

  #cacheKey(n: Node): string | undefined {
    if (!n.opts.cache || !this.cache) return undefined;
    const definition =
      n.kind === 'job'
        ? typeof n.spec === 'function'
          ? n.spec.toString()
          : JSON.stringify(jobSpecToInput(n.spec as JobSpec))
        : (sources.get(n) ?? n.fn!.toString());
    const inputs = n.args ? this.#resolveArgs(n.args) : n.deps.map((d) => [d.name, d.value]);
    return createHash('sha256')
      .update(`${n.kind}\0${definition}\0${JSON.stringify(inputs)}`)
      .digest('hex');
  }

  #start(n: Node, r: RestoredTask | undefined): void {
    if (n.seen) r = undefined; // the journal speaks only for the first start of this run
    n.seen = true;
    const replay = r?.final === 'succeeded' && r.planner ? r : undefined;
    if (n.attempts === 0 && r) n.attempts = r.attempts;
    const resumeJob =
      n.kind === 'job' && r !== undefined && r.final === undefined && (r.nativeId !== undefined || r.submitKey !== undefined);
    const key = replay ? undefined : this.#cacheKey(n);
    if (key !== undefined && this.cache!.has(key)) {
      n.value = this.cache!.get(key);
      n.cached = true;
      n.state = 'succeeded';
      this.#record({ t: 'ok', n: n.name, a: n.attempts, v: n.value, c: 1 });
      this.#emit?.({ type: 'cached', task: n.name });
      this.#succeedAfterCommit(n);
      return;
    }
    const attempt = resumeJob || replay ? n.attempts : ++n.attempts;
    n.state = 'running';
    this.#running.add(n);
    if (!resumeJob && !replay) this.#record({ t: 'start', n: n.name, a: attempt });
    this.#emit?.({ type: 'started', task: n.name, attempt });
    const timeout = n.opts.timeout as number | undefined;
    if (timeout !== undefined) {
      n.timer = setTimeout(() => this.#attemptFailed(n, attempt, new TaskTimeoutError(n.name, timeout)), timeout);
    }
    if (n.kind === 'job') {
      this.#runJob(n, attempt, resumeJob ? r : undefined).then(
        (v) => this.#attemptSucceeded(n, attempt, v, key),
        (e) => this.#attemptFailed(n, attempt, e),
      );
      return;
    }
    if (replay) n.replaying = replay;
    const ctx = new Context(this.#wf, n, attempt);
    let result: unknown;
    try {
      result = n.fn!(this.#inputs(n), ctx);
    } catch (err) {
      queueMicrotask(() => this.#attemptFailed(n, attempt, err));
      return;
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      (result as PromiseLike<unknown>).then(
        (v) => this.#attemptSucceeded(n, attempt, v, key),
        (e) => this.#attemptFailed(n, attempt, e),
      );
    } else this.#attemptSucceeded(n, attempt, result, key); // synchronous: no promise, no closures
  }

  /**
   * Lets the dependents of a succeeded task go once its `ok` record is written (at once without a
   * journal). One flush serves every task that succeeded in the same synchronous burst: no promise
   * or closure per task, and the tasks waiting for a write stay few (a burst), not the whole graph.
   * Until the flush resolves the run is not over: the batch may queue dependents.
   */
  #succeedAfterCommit(n: Node): void {
    const journal = this.journal;
    if (!journal) {
      this.#succeed(n);
      this.#pump();
      return;
    }
    this.#uncommitted.push(n);
    if (this.#commitScheduled) return;
    this.#commitScheduled = true;
    this.#committing++;
    // After the current burst: every task of the batch has queued its record before the flush is asked for.
    queueMicrotask(() => {
      this.#commitScheduled = false;
      const batch = this.#uncommitted;
      this.#uncommitted = [];
      journal.flush().then(
        () => {
          this.#committing--;
          for (const x of batch) this.#succeed(x);
          this.#pump();
        },
        (err) => {
          this.#committing--;
          this.#fatal(err);
        },
      );
    });
  }

  #fatal(err: unknown): void {
    this.#failure ??= err;
    this.#stop(undefined);
    this.#pump();
  }

  #current(n: Node, attempt: number): boolean {
    return n.state === 'running' && n.attempts === attempt;
  }

  #attemptSucceeded(n: Node, attempt: number, value: unknown, key: string | undefined): void {
    if (!this.#current(n, attempt)) return;
    this.#endAttempt(n);
    const replay = n.replaying;
    n.replaying = undefined;
    n.value = replay ? replay.value : value;
    if (replay) n.restored = true;
    if (!replay) {
      try {
        if (this.journal) {
          const rec: WorkflowRecord = { t: 'ok', n: n.name, a: attempt, v: n.value };
          if (n.planner) rec.p = 1;
          if (n.nativeId !== undefined) rec.id = n.nativeId;
          this.journal.enqueue(rec);
        }
      } catch (err) {
        // The result could not be journaled (not JSON): a durable workflow cannot keep it.
        this.#attemptFailed(
          n,
          attempt,
          new TaskFailedError(n.name, `Task "${n.name}" returned a value that cannot be journaled: ${errorText(err)}`, {
            cause: err,
          }),
          true,
        );
        return;
      }
      if (key !== undefined) this.cacheJournal?.enqueue({ k: key, v: n.value });
    }
    n.state = 'succeeded';
    this.#emit?.({ type: 'succeeded', task: n.name, attempt, restored: replay !== undefined });
    this.#succeedAfterCommit(n);
  }

  #endAttempt(n: Node): void {
    this.#running.delete(n);
    if (n.timer) clearTimeout(n.timer);
    n.timer = undefined;
  }

  #attemptFailed(n: Node, attempt: number, err: unknown, alreadyEnded = false): void {
    if (!alreadyEnded && !this.#current(n, attempt)) return;
    if (!alreadyEnded) this.#endAttempt(n);
    const message = errorText(err);
    if (err instanceof TaskTimeoutError) {
      n.controller?.abort(err);
      if (n.job) this.#pendingCancels.push(n.job.cancel().catch(() => undefined));
    }
    n.controller = undefined;
    n.job = undefined;
    n.replaying = undefined;
    const retries = n.opts.retries ?? this.options.retries ?? 0;
    if (attempt <= retries && !this.#stopping) {
      const delay = backoffDelay({ ...DEFAULT_BACKOFF, ...this.options.backoff, ...n.opts.backoff }, attempt);
      n.state = 'retrying';
      this.#retrying.add(n);
      this.#record({ t: 'retry', n: n.name, a: attempt, d: delay, e: message });
      this.#emit?.({ type: 'retried', task: n.name, attempt, delayMs: delay, error: message });
      n.timer = setTimeout(() => {
        n.timer = undefined;
        this.#retrying.delete(n);
        if (this.#stopping) {
          this.#pump();
          return;
        }
        n.state = 'queued';
        this.#ready.push(n);
        this.#pump();
      }, delay);
      this.#pump();
      return;
    }
    n.state = 'failed';
    n.error = message;
    const rec: WorkflowRecord = { t: 'fail', n: n.name, a: attempt, e: message };
    if (n.nativeId !== undefined) rec.id = n.nativeId;
    this.#record(rec);
    this.#emit?.({ type: 'failed', task: n.name, attempt, error: message });
    this.#propagateFailure(n, n.name);
    if ((n.opts.onFailure ?? this.#policy) === 'fail-fast') this.#stop(n.name);
    this.#pump();
  }

  #succeed(n: Node): void {
    for (const d of n.dependents) {
      if (d.state !== 'pending') continue;
      if (--d.waiting === 0) this.#queue(d);
    }
  }

  /** Marks every pending task downstream of `n` SKIPPED with `cause` (iterative: O(reachable)). */
  #propagateFailure(n: Node, cause: string): void {
    const stack = [n];
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (const d of x.dependents) {
        if (d.state !== 'pending' && d.state !== 'queued') continue;
        this.#skip(d, cause, false);
        stack.push(d);
      }
    }
  }

  #skip(n: Node, cause: string, propagate = true): void {
    n.state = 'skipped';
    n.cause = cause;
    this.#record({ t: 'skip', n: n.name, c: cause });
    this.#emit?.({ type: 'skipped', task: n.name, cause });
    if (propagate) this.#propagateFailure(n, cause);
  }

  /** Stops starting tasks; with `failed` (fail-fast) everything unfinished ends, otherwise (abort) running tasks are canceled. */
  #stop(failed: string | undefined): void {
    if (this.#stopping && failed === undefined) return;
    this.#stopping = true;
    const ff = failed !== undefined;
    for (const n of [...this.#running, ...this.#retrying]) {
      this.#running.delete(n);
      this.#retrying.delete(n);
      if (n.timer) clearTimeout(n.timer);
      n.timer = undefined;
      n.controller?.abort(new WorkflowError(ff ? `fail-fast: task "${failed}" failed` : 'the run was canceled'));
      if (n.job) {
        const job = n.job;
        this.#pendingCancels.push(
          job
            .cancel()
            .then(() => job.wait({ timeout: 30_000 }))
            .catch(() => undefined),
        );
      }
      n.state = 'canceled';
      if (ff) n.cause = `fail-fast: task "${failed}" failed`;
      this.#record(ff ? { t: 'cancel', n: n.name, ff: 1 } : { t: 'cancel', n: n.name });
      this.#emit?.({ type: 'canceled', task: n.name });
    }
    if (ff) {
      for (let i = this.#head; i < this.#ready.length; i++) {
        const n = this.#ready[i]!;
        if (n.state === 'queued') this.#skip(n, `fail-fast: task "${failed}" failed`, true);
      }
      for (const n of this.#nodes) {
        if (n.state === 'pending') this.#skip(n, `fail-fast: task "${failed}" failed`, false);
      }
    }
  }

  #abort(): void {
    this.#aborted = true;
    this.#stop(undefined);
    this.#pump();
  }

  /** Submits (or re-attaches to) the job of `n`, waits for it to end, returns its result. */
  async #runJob(n: Node, attempt: number, resume: RestoredTask | undefined, lostBefore = false): Promise<JobResult> {
    const executor = this.options.executor;
    if (!executor) {
      throw new WorkflowError(
        `Task "${n.name}" is a job but the workflow has no executor: pass one to new Workflow({ executor }).`,
      );
    }
    let job: Job | undefined;
    if (resume?.nativeId !== undefined) job = await this.#attach(executor, resume.nativeId);
    else if (resume?.submitKey !== undefined) job = await this.#findByKey(executor, resume.submitKey);
    const attached = job !== undefined;
    if (!job) {
      const base = typeof n.spec === 'function' ? n.spec(this.#inputs(n)) : n.spec!;
      const spec = isJobSpec(base) ? base : createJobSpec(base);
      const key = `${this.runId}:${n.name}:${attempt}${lostBefore ? ':again' : ''}`;
      const input = jobSpecToInput(spec);
      const withKey = createJobSpec({ ...input, environment: { ...input.environment, [SUBMIT_KEY_ENV]: key } });
      if (this.journal) await this.journal.append({ t: 'submit', n: n.name, a: attempt, k: key });
      if (!this.#current(n, attempt)) throw new WorkflowError('superseded');
      job = await executor.submit(new Job(withKey), this.signal ? { signal: this.signal } : {});
    }
    const nativeId = job.nativeId!;
    n.nativeId = nativeId;
    if (!this.#current(n, attempt)) {
      // Canceled (timeout, abort, fail-fast) while the submission was in flight.
      this.#pendingCancels.push(job.cancel().catch(() => undefined));
      throw new WorkflowError('superseded');
    }
    n.job = job;
    if (this.journal && !(attached && resume?.nativeId === nativeId)) {
      await this.journal.append({ t: 'native', n: n.name, a: attempt, id: nativeId });
    }
    this.#emit?.({ type: 'submitted', task: n.name, attempt, nativeId, attached });
    const status = await job.wait();
    if (status === undefined) throw new WorkflowError(`Job of task "${n.name}" ended without a status.`);
    // A re-attached job that the previous runner's executor lost while starting it (FAILED without an
    // exit code: it cannot tell whether the job ran) failed because of the crash, not by itself: submit
    // it again (at-least-once in this one window), recorded as `lost`.
    if (attached && status.state === JobState.FAILED && status.exitCode === undefined && this.#current(n, attempt)) {
      if (this.journal) await this.journal.append({ t: 'lost', n: n.name, a: attempt, id: nativeId });
      return this.#runJob(n, attempt, undefined, true);
    }
    if (status.state === JobState.COMPLETED && (status.exitCode ?? 0) === 0) {
      return { nativeId, exitCode: status.exitCode, state: status.state };
    }
    const why = status.message ? `: ${status.message}` : '';
    throw new TaskFailedError(
      n.name,
      `Job ${nativeId} of task "${n.name}" ended ${status.state}${status.exitCode !== undefined ? ` with exit code ${status.exitCode}` : ''}${why}.`,
    );
  }

  async #attach(executor: JobExecutor, nativeId: string): Promise<Job | undefined> {
    const job = new Job();
    try {
      await executor.attach(job, nativeId);
      return job;
    } catch (err) {
      if (err instanceof JobNotFoundError) return undefined; // never accepted: submit again
      throw err;
    }
  }

  /**
   * The runner died between asking for a submission and recording its native id: look for a job
   * of the executor that carries the submission key, so it is attached rather than run twice.
   */
  async #findByKey(executor: JobExecutor, key: string): Promise<Job | undefined> {
    const known = this.restored?.nativeIds ?? new Set<string>();
    const ids = await executor.list();
    for (let i = ids.length - 1; i >= 0; i--) {
      const id = ids[i]!;
      if (known.has(id)) continue;
      const job = await this.#attach(executor, id);
      if (job?.spec?.environment[SUBMIT_KEY_ENV] === key) return job;
    }
    return undefined;
  }
}

/** The {@link TaskContext} of one attempt (a class: one allocation per task, the signal made only if asked for). */
class Context implements TaskContext {
  readonly #wf: Workflow;
  readonly #node: Node;
  constructor(
    wf: Workflow,
    node: Node,
    readonly attempt: number,
  ) {
    this.#wf = wf;
    this.#node = node;
  }
  get name(): string {
    return this.#node.name;
  }
  get signal(): AbortSignal {
    this.#node.controller ??= new AbortController();
    return this.#node.controller.signal;
  }
  task<T>(name: string, fn: TaskFunction<T>, options?: TaskOptions): TaskFuture<T> {
    this.#node.planner = true;
    return this.#wf.task(name, fn, options);
  }
  job(name: string, spec: JobSpecSource, options?: TaskOptions): TaskFuture<JobResult> {
    this.#node.planner = true;
    return this.#wf.job(name, spec, options);
  }
}

/** Full jitter on a fraction of the delay: spreads retries of many tasks failing together. */
function backoffDelay(b: Required<BackoffOptions>, attempt: number): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** (attempt - 1));
  return Math.round(base * (1 - b.jitter * Math.random()));
}
