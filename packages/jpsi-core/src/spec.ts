/**
 * JobSpec, ResourceSpecV1 and JobAttributes: zod schemas for input, immutable normalised types
 * for use, and the psij-python resource derivation.
 * @module
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { ENV_NAME_PATTERN, envNameProblem, hasNoNul, isValidEnvName } from './shell.js';
import { parseDuration } from './duration.js';
import { parseWith } from './validation.js';
import type { Same } from './internal/types.js';

/**
 * The longest single string Linux passes to a program (an argument, or one `NAME=value` of its
 * environment), in bytes with the terminating NUL: `MAX_ARG_STRLEN`, 32 pages of 4 KiB. Longer
 * ones make `execve` fail with E2BIG, so they are refused when the spec is made.
 */
export const MAX_ARG_STRLEN = 131072;

/**
 * The most processes a job may ask for, given or derived: 2^20 (1,048,576), more ranks than jobs
 * run on today's largest machines. Larger counts are typing mistakes, and would make a node file
 * of that many lines (`PSIJ_NODEFILE`).
 */
export const MAX_PROCESS_COUNT = 1_048_576;

// No string of a spec may hold a NUL (jpsi-core's one NUL rule, hasNoNul).
const NO_NUL = hasNoNul;
/** True if `s` (with its NUL) fits in one exec'd string. */
const fitsExec = (s: string): boolean => Buffer.byteLength(s) < MAX_ARG_STRLEN;
const tooLongForExec = (what: string) =>
  `${what} is longer than Linux passes to a program (MAX_ARG_STRLEN, ${MAX_ARG_STRLEN} bytes with its terminating NUL)`;
const text = (what: string) => z.string().refine(NO_NUL, `${what} cannot contain a NUL character`);
const execText = (what: string) => text(what).refine(fitsExec, tooLongForExec(what));
const nonEmptyText = (what: string) => text(what).refine((s) => s.length > 0, `${what} cannot be empty`);
const positiveInt = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be at least 1`);
const count = (what: string) => positiveInt(what).max(MAX_PROCESS_COUNT, `${what} must be at most ${MAX_PROCESS_COUNT}`);

/** Default walltime of a job, in seconds (psij-python: 10 minutes). */
export const DEFAULT_DURATION_SECONDS = 600;

// ---------------------------------------------------------------------------------------------
// Resources

/** Field names of the three counts, so consistency errors can name fields as the caller wrote them. */
export interface CountFieldNames {
  nodeCount: string;
  processCount: string;
  processesPerNode: string;
}

/** camelCase names used by the TypeScript API. */
export const CAMEL_COUNT_FIELDS: CountFieldNames = {
  nodeCount: 'nodeCount',
  processCount: 'processCount',
  processesPerNode: 'processesPerNode',
};

/** The counts as given (any may be missing). */
export interface ResourceCounts {
  nodeCount?: number | undefined;
  processCount?: number | undefined;
  processesPerNode?: number | undefined;
}

/** The counts as derived by psij-python's ResourceSpecV1. */
export interface DerivedCounts {
  computedNodeCount: number;
  computedProcessCount: number;
  computedProcessesPerNode: number;
}

/**
 * Derives node count, process count and processes per node from whichever were given, exactly
 * as psij-python does; returns the rule broken (keyed by field name) if they disagree.
 */
export function deriveCounts(
  counts: ResourceCounts,
  names: CountFieldNames = CAMEL_COUNT_FIELDS,
): { ok: DerivedCounts } | { field: string; message: string } {
  const { nodeCount: n, processCount: p, processesPerNode: k } = counts;
  const ok = (nodes: number, procs: number, ppn: number) => ({
    ok: { computedNodeCount: nodes, computedProcessCount: procs, computedProcessesPerNode: ppn },
  });
  if (n === undefined && p === undefined && k === undefined) return ok(1, 1, 1);
  if (n !== undefined && p !== undefined && k !== undefined) {
    return p === n * k
      ? ok(n, p, k)
      : {
          field: names.processCount,
          message: `${names.processCount} (${p}) must equal ${names.nodeCount} × ${names.processesPerNode} (${n} × ${k} = ${n * k})`,
        };
  }
  if (p !== undefined && k !== undefined) {
    return p % k === 0
      ? ok(p / k, p, k)
      : {
          field: names.processCount,
          message: `${names.processCount} (${p}) must be a multiple of ${names.processesPerNode} (${k})`,
        };
  }
  if (p !== undefined && n !== undefined) {
    return p % n === 0
      ? ok(n, p, p / n)
      : { field: names.processCount, message: `${names.processCount} (${p}) must be a multiple of ${names.nodeCount} (${n})` };
  }
  if (n !== undefined && k !== undefined) return ok(n, n * k, k);
  if (p !== undefined) return ok(1, p, p);
  if (n !== undefined) return ok(n, n, 1);
  return ok(1, k!, k!);
}

// The input types are object type aliases, not interfaces, so that plain records (parsed JSON/YAML)
// stay comparable with them: interfaces get no implicit index signature.
/**
 * The resources a job asks for (psij-python's ResourceSpecV1, camelCase). Every count is a
 * positive whole number. Node count, process count and processes per node are derived from
 * whichever are given, as psij-python does (see {@link deriveCounts}); given counts must agree.
 */
export type ResourceSpecInput = {
  /**
   * Nodes (hosts) for the job.
   * @default derived: processCount / processesPerNode, else 1
   */
  nodeCount?: number;
  /**
   * Processes (MPI ranks, copies) to start in total; a multiple of nodeCount and of processesPerNode when those are given.
   * @default derived: nodeCount × processesPerNode, else nodeCount, else 1
   */
  processCount?: number;
  /**
   * Processes on each node.
   * @default derived: processCount / nodeCount, else 1 (processCount when only it is given)
   */
  processesPerNode?: number;
  /**
   * CPU cores reserved for (and bound to) each process. The local executor counts
   * `processCount × cpuCoresPerProcess` cores against its `maxCores`.
   * @default the backend's choice (local: 1)
   */
  cpuCoresPerProcess?: number;
  /** GPUs for each process. Unset means none requested. */
  gpuCoresPerProcess?: number;
  /**
   * Whether the job wants whole nodes to itself (no other job shares them).
   * @default false
   */
  exclusiveNodeUse?: boolean;
  /** Memory for the whole job, in bytes. Unset means the backend's default. */
  memory?: number;
};

const resourceSpecSchema = z
  .strictObject({
    nodeCount: count('nodeCount').optional(),
    processCount: count('processCount').optional(),
    processesPerNode: count('processesPerNode').optional(),
    cpuCoresPerProcess: positiveInt('cpuCoresPerProcess').optional(),
    gpuCoresPerProcess: positiveInt('gpuCoresPerProcess').optional(),
    exclusiveNodeUse: z.boolean().optional(),
    /** Memory for the whole job, in bytes. */
    memory: positiveInt('memory').optional(),
  })
  .superRefine((r, ctx) => {
    const d = deriveCounts(r);
    if ('field' in d) ctx.addIssue({ code: 'custom', path: [d.field], message: d.message });
    else if (
      d.ok.computedProcessCount > MAX_PROCESS_COUNT &&
      [r.nodeCount, r.processCount, r.processesPerNode].every((c) => (c ?? 1) <= MAX_PROCESS_COUNT)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['processCount'],
        message: `the job would have ${d.ok.computedProcessCount} processes (nodeCount × processesPerNode); at most ${MAX_PROCESS_COUNT}`,
      });
    }
  });

/**
 * The zod schema of {@link ResourceSpecInput} (checked against it at compile time).
 * @internal
 */
export const ResourceSpecSchema: z.ZodType<z.output<typeof resourceSpecSchema>, ResourceSpecInput> = resourceSpecSchema;

/** A validated ResourceSpecV1 with its derived counts. Immutable. */
export interface ResourceSpec extends DerivedCounts {
  /** Always 1: the PSI/J resource spec version. */
  readonly version: 1;
  readonly nodeCount?: number;
  readonly processCount?: number;
  readonly processesPerNode?: number;
  readonly cpuCoresPerProcess?: number;
  readonly gpuCoresPerProcess?: number;
  /** Whether the job wants its nodes to itself. Default false. */
  readonly exclusiveNodeUse: boolean;
  /** Memory for the whole job, in bytes. */
  readonly memory?: number;
}

// ---------------------------------------------------------------------------------------------
// Attributes

/** Pattern of custom attribute keys: an executor name, a dot, the attribute (e.g. `slurm.constraint`). */
export const CUSTOM_ATTRIBUTE_KEY = /^[A-Za-z0-9_-]+\.\S+$/;

/** A custom attribute value. */
export type CustomAttributeValue = string | number | boolean;

const durationInput = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const parsed = parseDuration(value);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: `duration ${parsed.error}` });
    return z.NEVER;
  }
  return parsed.seconds;
});

const customAttributes = z.record(
  z.string().regex(CUSTOM_ATTRIBUTE_KEY, 'custom attribute keys are an executor name, a dot and a name, e.g. "slurm.constraint"'),
  z.union([z.string(), z.number(), z.boolean()]),
);

/** How a job is to be run by a batch scheduler: walltime, queue, account, and executor-specific extras. */
export type JobAttributesInput = {
  /**
   * Walltime: the job is killed (FAILED) when it runs longer. Seconds as a number, or a string:
   * `"90 s"`, `"1.5 h"`, `"01:30:00"` (hh:mm:ss), `"01:30"` (hh:mm), `"30"` (minutes), or
   * psij-python's `"5400.0 s"`.
   * @default 600 (10 minutes, as psij-python)
   */
  duration?: number | string;
  /** Batch queue (partition) to submit to. Ignored, with a warning, by the local executor. */
  queueName?: string;
  /** Account (project) charged for the job. Ignored, with a warning, by the local executor. */
  account?: string;
  /**
   * Deprecated alias of `account` (psij-python); must equal `account` when both are given.
   * @deprecated use `account`
   */
  projectName?: string;
  /** Advance reservation to run in. Ignored, with a warning, by the local executor. */
  reservationId?: string;
  /**
   * Executor-specific attributes, keyed `<executor>.<name>` (e.g. `"slurm.constraint": "haswell"`,
   * `"pbs.c": "n"`). An executor acts on the ones with its own prefix and warns about the others.
   */
  customAttributes?: Record<string, string | number | boolean>;
};

const jobAttributesSchema = z.strictObject({
  duration: durationInput.optional(),
  queueName: nonEmptyText('queueName').optional(),
  account: nonEmptyText('account').optional(),
  /** Deprecated alias of `account` (psij-python). */
  projectName: nonEmptyText('projectName').optional(),
  reservationId: nonEmptyText('reservationId').optional(),
  customAttributes: customAttributes.optional(),
});

/**
 * The zod schema of {@link JobAttributesInput} (checked against it at compile time).
 * @internal
 */
export const JobAttributesSchema: z.ZodType<z.output<typeof jobAttributesSchema>, JobAttributesInput> = jobAttributesSchema;

/** Validated job attributes. Immutable. */
export interface JobAttributes {
  /** Walltime in seconds (default 600). */
  readonly duration: number;
  readonly queueName?: string;
  /** Account (project) to charge. `projectName` input is folded into this. */
  readonly account?: string;
  readonly reservationId?: string;
  /** Executor-prefixed custom attributes, e.g. `{ "slurm.constraint": "haswell" }`. */
  readonly customAttributes: Readonly<Record<string, CustomAttributeValue>>;
}

/** The custom attributes meant for one executor, with its `name.` prefix removed. */
export function customAttributesFor(attributes: JobAttributes, executorName: string): Record<string, CustomAttributeValue> {
  const prefix = `${executorName}.`;
  const out: Record<string, CustomAttributeValue> = {};
  for (const [key, value] of Object.entries(attributes.customAttributes)) {
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  }
  return out;
}

/** A standard job attribute an executor may act on. */
export type StandardAttribute = 'duration' | 'queueName' | 'account' | 'reservationId';

/** What an executor does with job attributes, for {@link ignoredAttributes}. */
export interface HonouredAttributes {
  /** The executor's name: custom attributes prefixed `<executor>.` are meant for it. */
  readonly executor: string;
  /** The standard attributes it acts on (`duration` counts only when set to other than the default). */
  readonly standard: readonly StandardAttribute[];
  /**
   * The custom attribute names (without the prefix) it acts on. Default: every custom attribute
   * with its prefix (a batch executor turns them all into directives).
   */
  readonly custom?: readonly string[];
}

/**
 * The attributes of `attributes` that an executor honouring `honoured` would silently ignore, by
 * their field names (`queueName`, `customAttributes["slurm.constraint"]`), in a stable order. Shared
 * by every executor so that "ignored" means the same everywhere; see {@link ignoredAttributesWarning}.
 */
export function ignoredAttributes(attributes: JobAttributes, honoured: HonouredAttributes): string[] {
  const out: string[] = [];
  const acts = new Set<string>(honoured.standard);
  if (!acts.has('duration') && attributes.duration !== DEFAULT_DURATION_SECONDS) out.push('duration');
  for (const field of ['queueName', 'account', 'reservationId'] as const) {
    if (!acts.has(field) && attributes[field] !== undefined) out.push(field);
  }
  const prefix = `${honoured.executor}.`;
  const custom = honoured.custom === undefined ? undefined : new Set(honoured.custom);
  for (const key of Object.keys(attributes.customAttributes).sort()) {
    const own = key.startsWith(prefix) && (custom === undefined || custom.has(key.slice(prefix.length)));
    if (!own) out.push(`customAttributes[${JSON.stringify(key)}]`);
  }
  return out;
}

/**
 * One sentence for a job's log and status saying which attributes the executor ignores, or
 * undefined if it honours everything given.
 */
export function ignoredAttributesWarning(attributes: JobAttributes, honoured: HonouredAttributes): string | undefined {
  const ignored = ignoredAttributes(attributes, honoured);
  if (ignored.length === 0) return undefined;
  return `the ${honoured.executor} executor ignores ${ignored.length === 1 ? 'attribute' : 'attributes'} ${ignored.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Staging

/** How a file is staged. */
export const StagingMode = { COPY: 'COPY', LINK: 'LINK', MOVE: 'MOVE' } as const;
/** One of {@link StagingMode}. */
export type StagingMode = (typeof StagingMode)[keyof typeof StagingMode];

/** When a stage-out or cleanup applies. `ALWAYS` = success, error and cancel. */
export const StageOutFlag = {
  IF_PRESENT: 'IF_PRESENT',
  ON_SUCCESS: 'ON_SUCCESS',
  ON_ERROR: 'ON_ERROR',
  ON_CANCEL: 'ON_CANCEL',
  ALWAYS: 'ALWAYS',
} as const;
/** One of {@link StageOutFlag}. */
export type StageOutFlag = (typeof StageOutFlag)[keyof typeof StageOutFlag];

const stagingMode = z.enum(['COPY', 'LINK', 'MOVE']);
const stageOutFlags = z.array(z.enum(['IF_PRESENT', 'ON_SUCCESS', 'ON_ERROR', 'ON_CANCEL', 'ALWAYS']));
const stagingSource = nonEmptyText('source').refine(
  (s) => !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s) || s.startsWith('file://'),
  'only local paths and file:// URIs are supported',
);

/** A file to put into place before the job runs (part of the spec; not in psij-python's JSON). */
export type StageInInput = {
  /** A local path or a `file://` URI (other schemes are refused). */
  source: string;
  /** Where it goes; a relative path is relative to the job directory. */
  target: string;
  /**
   * `COPY`, `LINK` (a symbolic link to the source) or `MOVE`.
   * @default 'COPY'
   */
  mode?: StagingMode;
};

/** A file to take out of the job directory after the job runs (part of the spec; not in psij-python's JSON). */
export type StageOutInput = {
  /** The file; a relative path is relative to the job directory. */
  source: string;
  /** A local path or a `file://` URI (other schemes are refused). */
  target: string;
  /**
   * `COPY`, `LINK` or `MOVE`.
   * @default 'COPY'
   */
  mode?: StagingMode;
  /**
   * When it applies: `ON_SUCCESS`, `ON_ERROR`, `ON_CANCEL` (or `ALWAYS` for all three), plus
   * `IF_PRESENT` to skip a missing source instead of failing the job.
   * @default ['ALWAYS'] (no outcome flag means all outcomes; a missing source fails the job)
   */
  flags?: StageOutFlag[];
};

const StageInSchema = z.strictObject({
  source: stagingSource,
  target: nonEmptyText('target'),
  mode: stagingMode.optional(),
});
const StageOutSchema = z.strictObject({
  source: nonEmptyText('source'),
  target: stagingSource,
  mode: stagingMode.optional(),
  flags: stageOutFlags.optional(),
});

/** A file copied, linked or moved into the job directory before the job runs. */
export interface StageIn {
  readonly source: string;
  /** Relative targets are relative to the job directory. */
  readonly target: string;
  readonly mode: StagingMode;
}

/** The conditions under which a stage-out or cleanup applies, normalised. */
export interface StagingConditions {
  readonly ifPresent: boolean;
  readonly onSuccess: boolean;
  readonly onError: boolean;
  readonly onCancel: boolean;
}

/** A file copied, linked or moved out of the job directory after the job runs. */
export interface StageOut {
  /** Relative sources are relative to the job directory. */
  readonly source: string;
  readonly target: string;
  readonly mode: StagingMode;
  readonly when: StagingConditions;
  /** The flags as given (for round trips). */
  readonly flags: readonly StageOutFlag[];
}

/** Normalises flags: `ALWAYS` or no outcome flag at all means success, error and cancel. */
export function stagingConditions(flags: readonly StageOutFlag[]): StagingConditions {
  const has = (f: StageOutFlag) => flags.includes(f);
  const any = has('ON_SUCCESS') || has('ON_ERROR') || has('ON_CANCEL') || has('ALWAYS');
  return Object.freeze({
    ifPresent: has('IF_PRESENT'),
    onSuccess: !any || has('ALWAYS') || has('ON_SUCCESS'),
    onError: !any || has('ALWAYS') || has('ON_ERROR'),
    onCancel: !any || has('ALWAYS') || has('ON_CANCEL'),
  });
}

/** True if a stage-out (or cleanup) with these conditions applies to a job that ended this way. */
export function stagingApplies(when: StagingConditions, outcome: 'success' | 'error' | 'cancel'): boolean {
  return outcome === 'success' ? when.onSuccess : outcome === 'error' ? when.onError : when.onCancel;
}

// ---------------------------------------------------------------------------------------------
// JobSpec

// The pattern (also in the JSON Schema), then the names the job's shell or script owns: one rule, envNameProblem.
const envName = z
  .string()
  .regex(ENV_NAME_PATTERN, 'environment variable names are letters, digits and _, not starting with a digit')
  .superRefine((name, ctx) => {
    const problem = isValidEnvName(name) ? envNameProblem(name) : undefined;
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
const envValue = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine(NO_NUL, 'environment values cannot contain a NUL character');
/**
 * A null-prototype copy, so that a variable named `__proto__` (valid, and possible in a JSON
 * spec) is an entry like any other instead of being lost to the object's prototype.
 */
function plainRecord<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}
const environmentSchema = z.record(envName, envValue).superRefine((env, ctx) => {
  for (const [name, value] of Object.entries(env)) {
    if (!fitsExec(`${name}=${value}`)) ctx.addIssue({ code: 'custom', path: [name], message: tooLongForExec(`${name}=…`) });
  }
});

/**
 * A job as a caller describes it (TypeScript API and camelCase spec files; psij-python's
 * snake_case JSON is read by {@link jobSpecFromPsijJson}). Only `executable` is required. Paths
 * are strings without NUL characters; relative ones are relative to the job directory.
 */
export type JobSpecInput = {
  /** The program to run: a path, or a name looked up on the job's `PATH`. */
  executable: string;
  /**
   * Arguments passed to the program as they are (no shell splitting or expansion).
   * @default []
   */
  arguments?: string[];
  /**
   * Working directory of the job; the job fails (not runs elsewhere) if it does not exist.
   * @default the executor's choice (local: the submitting process's current directory)
   */
  directory?: string;
  /**
   * A name for people and schedulers (`sbatch --job-name`).
   * @default the executable
   */
  name?: string;
  /**
   * Whether the job starts with the submitter's environment (plus `environment`); false starts
   * from an empty one with a minimal `PATH`.
   * @default true
   */
  inheritEnvironment?: boolean;
  /**
   * Environment variables set for the job. Names are letters, digits and `_`, not starting with
   * a digit; numbers are written as strings.
   * @default {}
   */
  environment?: Record<string, string | number>;
  /**
   * File the job reads as standard input.
   * @default /dev/null
   */
  stdinPath?: string;
  /**
   * File the job's standard output is written to (truncated first).
   * @default the executor's choice (local: discarded, as psij-python)
   */
  stdoutPath?: string;
  /**
   * File the job's standard error is written to (truncated first; may equal stdoutPath).
   * @default the executor's choice (local: discarded, as psij-python)
   */
  stderrPath?: string;
  /**
   * Nodes, processes, cores, GPUs and memory.
   * @default one process on one node
   */
  resources?: ResourceSpecInput;
  /**
   * Walltime, queue, account, reservation and executor-specific attributes.
   * @default a walltime of 10 minutes
   */
  attributes?: JobAttributesInput;
  /** A bash script sourced once in the job's shell just before launch (e.g. to load modules); its failure fails the job unlaunched. */
  preLaunch?: string;
  /** A bash script sourced once in the job's shell after the launched processes end. */
  postLaunch?: string;
  /**
   * How the job's processes are started: `single` (once), `multiple` (processCount copies),
   * `mpirun`, `srun`, `jsrun`, `aprun`, or a registered third-party launcher.
   * @default 'single'
   */
  launcher?: string;
  /**
   * Files put into place before the job runs.
   * @default []
   */
  stageIn?: StageInInput[];
  /**
   * Files taken out of the job directory after the job runs.
   * @default []
   */
  stageOut?: StageOutInput[];
  /**
   * Paths removed after stage-out.
   * @default []
   */
  cleanup?: string[];
  /**
   * When cleanup happens (same flags as {@link StageOutInput.flags}).
   * @default ['ALWAYS']
   */
  cleanupFlags?: StageOutFlag[];
};

const jobSpecSchema = z.strictObject({
  executable: nonEmptyText('executable').refine(fitsExec, tooLongForExec('executable')),
  arguments: z.array(execText('an argument')).optional(),
  directory: nonEmptyText('directory').optional(),
  name: nonEmptyText('name').optional(),
  inheritEnvironment: z.boolean().optional(),
  environment: environmentSchema.optional(),
  stdinPath: nonEmptyText('stdinPath').optional(),
  stdoutPath: nonEmptyText('stdoutPath').optional(),
  stderrPath: nonEmptyText('stderrPath').optional(),
  resources: resourceSpecSchema.optional(),
  attributes: jobAttributesSchema.optional(),
  preLaunch: nonEmptyText('preLaunch').optional(),
  postLaunch: nonEmptyText('postLaunch').optional(),
  launcher: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/, 'launcher names are lower-case letters, digits, _ and -')
    .optional(),
  stageIn: z.array(StageInSchema).optional(),
  stageOut: z.array(StageOutSchema).optional(),
  cleanup: z.array(nonEmptyText('a cleanup path')).optional(),
  cleanupFlags: stageOutFlags.optional(),
});

/**
 * The zod schema of {@link JobSpecInput} (checked against it at compile time; the JSON Schema of
 * spec files is generated from it, see {@link jobSpecJsonSchema}).
 * @internal
 */
export const JobSpecSchema: z.ZodType<z.output<typeof jobSpecSchema>, JobSpecInput> = jobSpecSchema;

// Drift between the documented interfaces and the schemas fails `tsc` here, in both directions.
const schemaMatchesInterfaces: [
  Same<z.input<typeof jobSpecSchema>, JobSpecInput>,
  Same<z.input<typeof resourceSpecSchema>, ResourceSpecInput>,
  Same<z.input<typeof jobAttributesSchema>, JobAttributesInput>,
  Same<z.input<typeof StageInSchema>, StageInInput>,
  Same<z.input<typeof StageOutSchema>, StageOutInput>,
] = [true, true, true, true, true];
void schemaMatchesInterfaces;

/** A validated, normalised, immutable job specification. Create with {@link createJobSpec}. */
export interface JobSpec {
  readonly executable: string;
  readonly arguments: readonly string[];
  readonly directory?: string;
  readonly name: string;
  readonly inheritEnvironment: boolean;
  readonly environment: Readonly<Record<string, string>>;
  readonly stdinPath?: string;
  readonly stdoutPath?: string;
  readonly stderrPath?: string;
  readonly resources: ResourceSpec;
  readonly attributes: JobAttributes;
  readonly preLaunch?: string;
  readonly postLaunch?: string;
  readonly launcher?: string;
  readonly stageIn: readonly StageIn[];
  readonly stageOut: readonly StageOut[];
  readonly cleanup: readonly string[];
  readonly cleanupFlags: readonly StageOutFlag[];
  readonly cleanupWhen: StagingConditions;
}

const SPEC_BRAND = Symbol.for('@exaworks/jpsi-core/JobSpec');

/** True if `value` is a JobSpec made by {@link createJobSpec}. */
export function isJobSpec(value: unknown): value is JobSpec {
  return typeof value === 'object' && value !== null && SPEC_BRAND in value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// Optional fields copied as they are between input and normalised forms.
const OPTIONAL_RESOURCE_KEYS = [
  'nodeCount',
  'processCount',
  'processesPerNode',
  'cpuCoresPerProcess',
  'gpuCoresPerProcess',
  'memory',
] as const;
const OPTIONAL_SPEC_KEYS = ['directory', 'stdinPath', 'stdoutPath', 'stderrPath', 'preLaunch', 'postLaunch', 'launcher'] as const;

function setIf<T extends object, K extends string, V>(target: T, key: K, value: V | undefined): void {
  if (value !== undefined) (target as Record<string, unknown>)[key] = value;
}

/**
 * Validates and normalises a job description. Every problem is reported at once, each with the
 * path of its field.
 *
 * @example
 * ```ts
 * const spec = createJobSpec({ executable: '/bin/echo', arguments: ['hello'], resources: { processCount: 4 } });
 * spec.resources.computedNodeCount; // 1
 * ```
 * @throws {@link ValidationError} naming each offending field.
 */
export function createJobSpec(input: JobSpecInput | JobSpec): JobSpec {
  if (isJobSpec(input)) return input;
  const v = parseWith(JobSpecSchema, input, 'job spec');
  const attrs = v.attributes ?? {};
  if (attrs.account !== undefined && attrs.projectName !== undefined && attrs.account !== attrs.projectName) {
    throw new ValidationError('job spec', [
      {
        path: 'attributes.projectName',
        message: `is a deprecated alias of account and must not differ from it ("${attrs.projectName}" vs "${attrs.account}")`,
      },
    ]);
  }
  const r = v.resources ?? {};
  const derived = deriveCounts(r);
  // The schema refines the same rule, so this only guards against the two drifting apart.
  if ('field' in derived)
    throw new ValidationError('job spec', [{ path: `resources.${derived.field}`, message: derived.message }]);

  const resources: Record<string, unknown> = { version: 1, exclusiveNodeUse: r.exclusiveNodeUse ?? false, ...derived.ok };
  for (const key of OPTIONAL_RESOURCE_KEYS) setIf(resources, key, r[key]);
  const attributes: Record<string, unknown> = {
    duration: attrs.duration ?? DEFAULT_DURATION_SECONDS,
    customAttributes: { ...(attrs.customAttributes ?? {}) },
  };
  setIf(attributes, 'queueName', attrs.queueName);
  setIf(attributes, 'account', attrs.account ?? attrs.projectName);
  setIf(attributes, 'reservationId', attrs.reservationId);

  const cleanupFlags = v.cleanupFlags ?? ['ALWAYS'];
  const spec: Record<string, unknown> = {
    executable: v.executable,
    arguments: [...(v.arguments ?? [])],
    name: v.name ?? v.executable,
    inheritEnvironment: v.inheritEnvironment ?? true,
    // From the validated input itself: zod's output object drops a `__proto__` key.
    environment: plainRecord(Object.entries(input.environment ?? {}).map(([k, value]) => [k, String(value)] as const)),
    resources,
    attributes,
    stageIn: (v.stageIn ?? []).map((s) => ({ source: s.source, target: s.target, mode: s.mode ?? 'COPY' })),
    stageOut: (v.stageOut ?? []).map((s) => ({
      source: s.source,
      target: s.target,
      mode: s.mode ?? 'COPY',
      flags: [...(s.flags ?? [])],
      when: stagingConditions(s.flags ?? []),
    })),
    cleanup: [...(v.cleanup ?? [])],
    cleanupFlags: [...cleanupFlags],
    cleanupWhen: stagingConditions(cleanupFlags),
  };
  for (const key of OPTIONAL_SPEC_KEYS) {
    setIf(spec, key, v[key]);
  }
  Object.defineProperty(spec, SPEC_BRAND, { value: true });
  return deepFreeze(spec) as unknown as JobSpec;
}

/**
 * The input form of a spec: plain JSON that {@link createJobSpec} turns back into an equal spec.
 * Used to persist specs (it keeps staging, which psij-python's JSON does not carry).
 */
export function jobSpecToInput(spec: JobSpec): JobSpecInput {
  const r = spec.resources;
  const resources: ResourceSpecInput = {};
  for (const key of OPTIONAL_RESOURCE_KEYS) setIf(resources, key, r[key]);
  if (r.exclusiveNodeUse) resources.exclusiveNodeUse = true;
  const a = spec.attributes;
  const attributes: JobAttributesInput = { duration: a.duration };
  setIf(attributes, 'queueName', a.queueName);
  setIf(attributes, 'account', a.account);
  setIf(attributes, 'reservationId', a.reservationId);
  if (Object.keys(a.customAttributes).length > 0) attributes.customAttributes = { ...a.customAttributes };
  const out: JobSpecInput = {
    executable: spec.executable,
    arguments: [...spec.arguments],
    name: spec.name,
    inheritEnvironment: spec.inheritEnvironment,
    environment: { ...spec.environment },
    resources,
    attributes,
  };
  for (const key of OPTIONAL_SPEC_KEYS) {
    setIf(out, key, spec[key]);
  }
  if (spec.stageIn.length) out.stageIn = spec.stageIn.map((s) => ({ source: s.source, target: s.target, mode: s.mode }));
  if (spec.stageOut.length) {
    out.stageOut = spec.stageOut.map((s) => ({ source: s.source, target: s.target, mode: s.mode, flags: [...s.flags] }));
  }
  if (spec.cleanup.length) out.cleanup = [...spec.cleanup];
  out.cleanupFlags = [...spec.cleanupFlags];
  return out;
}
