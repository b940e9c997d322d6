/**
 * The local executor's configuration, its honoured attributes, and the spec rules it applies at
 * submit (cores a job occupies, `%j` in output paths).
 * @module
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  JobExecutorConfigSchema,
  createJobSpec,
  jobSpecToInput,
  type HonouredAttributes,
  type JobSpec,
} from '@exaworks/jpsi-core';

/** The package version, reported as `executor.version`. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The attributes the local executor acts on: the walltime, and custom attributes prefixed `local.`
 * (none is defined yet, so any is accepted silently). Queue, account and reservation mean nothing here.
 */
export const LOCAL_HONOURED_ATTRIBUTES: HonouredAttributes = Object.freeze({
  executor: 'local',
  standard: ['duration'] as const,
});

/** Configuration of the local executor (on top of every executor's `workDirectory`, `keepFiles`, `logger`). */
export const LocalExecutorConfigSchema = z.strictObject({
  ...JobExecutorConfigSchema.shape,
  /** Cores jobs may use at once. Default: `os.availableParallelism()`. */
  maxCores: z
    .number({ error: 'maxCores must be a number' })
    .int('maxCores must be a whole number')
    .positive('maxCores must be at least 1')
    .optional(),
  /** Milliseconds between SIGTERM and SIGKILL when a job is canceled or runs out of time. Default 5000. */
  killGracePeriod: z
    .number({ error: 'killGracePeriod must be a number' })
    .int('killGracePeriod must be whole milliseconds')
    .nonnegative('killGracePeriod cannot be negative')
    .optional(),
  /** Milliseconds between checks of jobs this executor watches but did not start itself. Default 1000. */
  pollInterval: z
    .number({ error: 'pollInterval must be a number' })
    .int('pollInterval must be whole milliseconds')
    .positive('pollInterval must be at least 1')
    .optional(),
  /** fsync records and status lines, so that accepted jobs survive power loss too. Default false. */
  fsync: z.boolean().optional(),
  /** Adopt jobs of dead executors in the work directory when this one starts. Default true. */
  recover: z.boolean().optional(),
  /**
   * `attach` and the poll adopt a job whose executor is gone (start it if it never started, track
   * it if it runs). False: they only watch such jobs; `cancel` still decides them, never starting
   * one. Default true.
   */
  adopt: z.boolean().optional(),
  /**
   * Start jobs through a long-lived `/bin/sh` spawn agent (cheaper than forking Node per job).
   * Default true; it falls back to `child_process.spawn` where the agent cannot work.
   */
  spawnAgent: z.boolean().optional(),
});

/** Configuration of the local executor as given. */
export type LocalExecutorConfigInput = z.input<typeof LocalExecutorConfigSchema>;

/** Configuration of the local executor with every default filled in. */
export interface LocalExecutorConfig extends LocalExecutorConfigInput {
  readonly workDirectory: string;
  readonly keepFiles: boolean;
  readonly maxCores: number;
  readonly killGracePeriod: number;
  readonly pollInterval: number;
  readonly fsync: boolean;
  readonly recover: boolean;
  readonly adopt: boolean;
  readonly spawnAgent: boolean;
}

/** `%j` in an output path: the job's native id (as in Slurm's `slurm-%j.out`). */
const NATIVE_ID_PATTERN = '%j';

/** The spec with `%j` in `stdoutPath`/`stderrPath` replaced by `nativeId` (the same spec if there is none). */
export function withNativeId(spec: JobSpec, nativeId: string): JobSpec {
  const has = (p: string | undefined): p is string => p?.includes(NATIVE_ID_PATTERN) === true;
  if (!has(spec.stdoutPath) && !has(spec.stderrPath)) return spec;
  const input = jobSpecToInput(spec);
  if (has(spec.stdoutPath)) input.stdoutPath = spec.stdoutPath.replaceAll(NATIVE_ID_PATTERN, nativeId);
  if (has(spec.stderrPath)) input.stderrPath = spec.stderrPath.replaceAll(NATIVE_ID_PATTERN, nativeId);
  return createJobSpec(input);
}

/** Cores a job occupies: processes × cores per process. */
export function coresFor(spec: JobSpec): number {
  return spec.resources.computedProcessCount * (spec.resources.cpuCoresPerProcess ?? 1);
}
