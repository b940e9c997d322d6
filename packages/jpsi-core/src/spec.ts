/**
 * JobSpec, ResourceSpecV1 and JobAttributes: zod schemas for input, immutable normalised types
 * for use, and the psij-python resource derivation.
 * @module
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { parseDuration } from './duration.js';
import { parseWith } from './validation.js';

const NO_NUL = (s: string): boolean => !s.includes('\0');
const text = (what: string) => z.string().refine(NO_NUL, `${what} cannot contain a NUL character`);
const nonEmptyText = (what: string) => text(what).refine((s) => s.length > 0, `${what} cannot be empty`);
const positiveInt = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be at least 1`);

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

/** What a caller may give for resources (TypeScript API, camelCase). */
export const ResourceSpecSchema = z
  .strictObject({
    nodeCount: positiveInt('nodeCount').optional(),
    processCount: positiveInt('processCount').optional(),
    processesPerNode: positiveInt('processesPerNode').optional(),
    cpuCoresPerProcess: positiveInt('cpuCoresPerProcess').optional(),
    gpuCoresPerProcess: positiveInt('gpuCoresPerProcess').optional(),
    exclusiveNodeUse: z.boolean().optional(),
    /** Memory for the whole job, in bytes. */
    memory: positiveInt('memory').optional(),
  })
  .superRefine((r, ctx) => {
    const d = deriveCounts(r);
    if ('field' in d) ctx.addIssue({ code: 'custom', path: [d.field], message: d.message });
  });

/** Resource input as accepted by {@link createJobSpec}. */
export type ResourceSpecInput = z.input<typeof ResourceSpecSchema>;

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

/** What a caller may give for job attributes (TypeScript API, camelCase). */
export const JobAttributesSchema = z.strictObject({
  /** Walltime: seconds as a number, or a string such as `"90 s"`, `"01:30:00"`, `"30"` (minutes). */
  duration: durationInput.optional(),
  queueName: nonEmptyText('queueName').optional(),
  account: nonEmptyText('account').optional(),
  /** Deprecated alias of `account` (psij-python). */
  projectName: nonEmptyText('projectName').optional(),
  reservationId: nonEmptyText('reservationId').optional(),
  customAttributes: customAttributes.optional(),
});

/** Attribute input as accepted by {@link createJobSpec}. */
export type JobAttributesInput = z.input<typeof JobAttributesSchema>;

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

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _, not starting with a digit');
const envValue = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine(NO_NUL, 'environment values cannot contain a NUL character');

/** What a caller may give for a job (TypeScript API, camelCase). Only `executable` is required. */
export const JobSpecSchema = z.strictObject({
  executable: nonEmptyText('executable'),
  arguments: z.array(text('an argument')).optional(),
  /** Working directory of the job. Default: the executor's choice (local: the current directory). */
  directory: nonEmptyText('directory').optional(),
  /** Defaults to the executable. */
  name: nonEmptyText('name').optional(),
  /** Whether the job inherits the submitter's environment. Default true. */
  inheritEnvironment: z.boolean().optional(),
  /** Values may be numbers; they are passed as strings. */
  environment: z.record(envName, envValue).optional(),
  stdinPath: nonEmptyText('stdinPath').optional(),
  stdoutPath: nonEmptyText('stdoutPath').optional(),
  stderrPath: nonEmptyText('stderrPath').optional(),
  resources: ResourceSpecSchema.optional(),
  attributes: JobAttributesSchema.optional(),
  /** A shell script sourced once, before launch, in the job's shell. */
  preLaunch: nonEmptyText('preLaunch').optional(),
  /** A shell script sourced once, after launch, in the job's shell. */
  postLaunch: nonEmptyText('postLaunch').optional(),
  /** Launcher name (`single`, `multiple`, `mpirun`, `srun`, …). Default: the executor's (`single`). */
  launcher: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/, 'launcher names are lower-case letters, digits, _ and -')
    .optional(),
  stageIn: z.array(StageInSchema).optional(),
  stageOut: z.array(StageOutSchema).optional(),
  /** Paths (relative to the job directory) removed after stage-out. */
  cleanup: z.array(nonEmptyText('a cleanup path')).optional(),
  cleanupFlags: stageOutFlags.optional(),
});

/** Job input as accepted by {@link createJobSpec}. */
export type JobSpecInput = z.input<typeof JobSpecSchema>;

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
    environment: { ...(v.environment ?? {}) },
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
