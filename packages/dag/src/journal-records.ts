/**
 * What a workflow writes to its journal, and how an interrupted run is read back from it.
 * @module
 */

/** One journal line. Short keys on purpose: a million-task run writes millions of these. */
export type WorkflowRecord =
  /** First record: which workflow, which run (the key that marks its jobs), caller metadata. */
  | { t: 'run'; wf: string; run: string; at: number; meta?: unknown }
  | { t: 'start'; n: string; a: number }
  /** A job submission is about to happen; `k` is put in the job's environment to find it again. */
  | { t: 'submit'; n: string; a: number; k: string }
  | { t: 'native'; n: string; a: number; id: string }
  /** A re-attached job whose executor lost it in the crash (FAILED, no exit code): submitted again. */
  | { t: 'lost'; n: string; a: number; id: string }
  /** Succeeded; `c` reused from the cache; `p` the task added tasks (a planner, replayed on resume). */
  | { t: 'ok'; n: string; a: number; v?: unknown; c?: 1; p?: 1; id?: string }
  | { t: 'fail'; n: string; a: number; e: string; id?: string }
  | { t: 'retry'; n: string; a: number; d: number; e: string }
  | { t: 'skip'; n: string; c: string }
  /** `ff`: canceled by the fail-fast stop (final); otherwise by the run's signal (run again on resume). */
  | { t: 'cancel'; n: string; ff?: 1 }
  | { t: 'end'; ok: boolean };

/** What the journal says about one task. */
export interface RestoredTask {
  attempts: number;
  final?: 'succeeded' | 'failed' | 'skipped' | 'canceled';
  value?: unknown;
  error?: string;
  cause?: string;
  cached?: boolean;
  planner?: boolean;
  /** Native id of the job of the last attempt, once recorded. */
  nativeId?: string;
  /** Submission key of the last attempt whose native id may not have been recorded. */
  submitKey?: string;
}

/** The state of a run as its journal tells it. */
export interface RestoredRun {
  workflow?: string;
  runId?: string;
  meta?: unknown;
  ended: boolean;
  ok?: boolean;
  tasks: Map<string, RestoredTask>;
  /** Native ids that the journal records (jobs of this run). */
  nativeIds: Set<string>;
}

/** Folds journal records into per-task state (the last record of a task wins). */
export function restoreRun(records: readonly WorkflowRecord[]): RestoredRun {
  const run: RestoredRun = { ended: false, tasks: new Map(), nativeIds: new Set() };
  const get = (n: string): RestoredTask => {
    let t = run.tasks.get(n);
    if (!t) {
      t = { attempts: 0 };
      run.tasks.set(n, t);
    }
    return t;
  };
  for (const r of records) {
    switch (r.t) {
      case 'run':
        run.workflow ??= r.wf;
        run.runId ??= r.run;
        if (r.meta !== undefined) run.meta ??= r.meta;
        break;
      case 'start': {
        const t = get(r.n);
        t.attempts = Math.max(t.attempts, r.a);
        t.nativeId = undefined;
        t.submitKey = undefined;
        break;
      }
      case 'submit':
        get(r.n).submitKey = r.k;
        break;
      case 'native': {
        const t = get(r.n);
        t.nativeId = r.id;
        t.submitKey = undefined;
        run.nativeIds.add(r.id);
        break;
      }
      case 'ok': {
        const t = get(r.n);
        t.final = 'succeeded';
        t.value = r.v;
        t.cached = r.c === 1;
        t.planner = r.p === 1;
        if (r.id !== undefined) t.nativeId = r.id;
        break;
      }
      case 'fail': {
        const t = get(r.n);
        t.final = 'failed';
        t.error = r.e;
        break;
      }
      case 'lost':
      case 'retry': {
        const t = get(r.n);
        t.nativeId = undefined;
        t.submitKey = undefined;
        break;
      }
      case 'skip': {
        const t = get(r.n);
        t.final = 'skipped';
        t.cause = r.c;
        break;
      }
      case 'cancel': {
        const t = get(r.n);
        if (r.ff === 1) t.final = 'canceled';
        else {
          t.final = undefined;
          t.nativeId = undefined;
          t.submitKey = undefined;
        }
        break;
      }
      case 'end':
        run.ended = true;
        run.ok = r.ok;
        break;
    }
  }
  return run;
}
