import type { JobExecutor } from '@exaworks/jpsi-core';

/** What the conformance suite needs to know about one executor under test. */
export interface ConformanceTarget {
  /** Registry name; a second process creates the executor with `getExecutor(name, config)`. */
  readonly name: string;
  /** Shown in the suite's title when several targets share a registry name (PBS Pro and Torque). @default name */
  readonly title?: string;
  /** JSON-serialisable executor config (the second process gets the same). */
  readonly config: Record<string, unknown>;
  /** Cores the executor may use at once; the suite fills them to hold a job in QUEUED. */
  readonly capacity: number;
  /** Launchers this target can run for real. */
  readonly launchers: readonly string[];
  /** Multiplies the suite's timeouts (batch schedulers are slower than local processes). */
  readonly timeScale?: number;
  /** Creates a fresh executor; the suite closes it. */
  create(): Promise<JobExecutor>;
}
