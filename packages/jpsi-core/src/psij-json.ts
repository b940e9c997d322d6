/**
 * JSON that interoperates with psij-python's `JSONSerializer`, in both directions: its key
 * names, its omitted defaults and its duration format (read correctly, unlike psij-python itself).
 * @module
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { formatPsijDuration } from './duration.js';
import {
  CUSTOM_ATTRIBUTE_KEY,
  DEFAULT_DURATION_SECONDS,
  createJobSpec,
  deriveCounts,
  type CustomAttributeValue,
  type JobAttributesInput,
  type JobSpec,
  type JobSpecInput,
  type ResourceSpecInput,
} from './spec.js';
import { parseWith } from './validation.js';
import type { Same } from './internal/types.js';

const SNAKE_COUNT_FIELDS = { nodeCount: 'node_count', processCount: 'process_count', processesPerNode: 'processes_per_node' };
const count = z.number().int('must be a whole number').positive('must be at least 1');

const PsijResourcesSchema = z
  .strictObject({
    node_count: count.nullish(),
    process_count: count.nullish(),
    processes_per_node: count.nullish(),
    cpu_cores_per_process: count.nullish(),
    gpu_cores_per_process: count.nullish(),
    exclusive_node_use: z.boolean().nullish(),
    memory: count.nullish(),
    __version: z.literal(1, 'only ResourceSpecV1 (__version 1) is supported').optional(),
  })
  .superRefine((r, ctx) => {
    const d = deriveCounts(
      {
        nodeCount: r.node_count ?? undefined,
        processCount: r.process_count ?? undefined,
        processesPerNode: r.processes_per_node ?? undefined,
      },
      SNAKE_COUNT_FIELDS,
    );
    if ('field' in d) ctx.addIssue({ code: 'custom', path: [d.field], message: d.message });
  });

const PsijAttributesSchema = z.strictObject({
  duration: z.union([z.string(), z.number()]).nullish(),
  queue_name: z.string().min(1).nullish(),
  account: z.string().min(1).nullish(),
  project_name: z.string().min(1).nullish(),
  reservation_id: z.string().min(1).nullish(),
  custom_attributes: z
    .record(
      z
        .string()
        .regex(CUSTOM_ATTRIBUTE_KEY, 'custom attribute keys are an executor name, a dot and a name, e.g. "slurm.constraint"'),
      z.union([z.string(), z.number(), z.boolean()]),
    )
    .nullish(),
});

/** psij-python's ResourceSpecV1 as JSON (see {@link ResourceSpecInput} for what each field means). `null` means unset. */
export type PsijResourcesJson = {
  node_count?: number | null;
  process_count?: number | null;
  processes_per_node?: number | null;
  cpu_cores_per_process?: number | null;
  gpu_cores_per_process?: number | null;
  exclusive_node_use?: boolean | null;
  /** Memory for the whole job, in bytes. */
  memory?: number | null;
  /** The ResourceSpec version psij-python writes: only 1 is supported. */
  __version?: 1;
};

/** psij-python's JobAttributes as JSON (see {@link JobAttributesInput}). `null` means unset. */
export type PsijAttributesJson = {
  /** Walltime, e.g. psij-python's own `"5400.0 s"`, or `"01:30:00"`, or seconds. */
  duration?: string | number | null;
  queue_name?: string | null;
  account?: string | null;
  /** Deprecated alias of `account`. */
  project_name?: string | null;
  reservation_id?: string | null;
  /** Keys `<executor>.<name>`. */
  custom_attributes?: Record<string, string | number | boolean> | null;
};

/**
 * A psij-python JSON document of a JobSpec, as read (snake_case keys, `null` for unset; see
 * {@link JobSpecInput} for what each field means). Staging is not part of psij-python's JSON.
 */
export type PsijJobSpecJson = {
  executable: string;
  arguments?: string[] | null;
  directory?: string | null;
  name?: string | null;
  inherit_environment?: boolean | null;
  environment?: Record<string, string | number> | null;
  stdin_path?: string | null;
  stdout_path?: string | null;
  stderr_path?: string | null;
  resources?: PsijResourcesJson | null;
  attributes?: PsijAttributesJson | null;
  pre_launch?: string | null;
  post_launch?: string | null;
  launcher?: string | null;
};

const psijJobSpecSchema = z.strictObject({
  executable: z.string().min(1),
  arguments: z.array(z.string()).nullish(),
  directory: z.string().min(1).nullish(),
  name: z.string().min(1).nullish(),
  inherit_environment: z.boolean().nullish(),
  environment: z.record(z.string(), z.union([z.string(), z.number()])).nullish(),
  stdin_path: z.string().min(1).nullish(),
  stdout_path: z.string().min(1).nullish(),
  stderr_path: z.string().min(1).nullish(),
  resources: PsijResourcesSchema.nullish(),
  attributes: PsijAttributesSchema.nullish(),
  pre_launch: z.string().min(1).nullish(),
  post_launch: z.string().min(1).nullish(),
  launcher: z.string().min(1).nullish(),
});

/**
 * The zod schema of {@link PsijJobSpecJson} (checked against it at compile time).
 * @internal
 */
export const PsijJobSpecSchema: z.ZodType<z.output<typeof psijJobSpecSchema>, PsijJobSpecJson> = psijJobSpecSchema;

const schemaMatchesTypes: [
  Same<z.input<typeof psijJobSpecSchema>, PsijJobSpecJson>,
  Same<z.input<typeof PsijResourcesSchema>, PsijResourcesJson>,
  Same<z.input<typeof PsijAttributesSchema>, PsijAttributesJson>,
] = [true, true, true];
void schemaMatchesTypes;

const CAMEL_TO_SNAKE: Readonly<Record<string, string>> = {
  inheritEnvironment: 'inherit_environment',
  stdinPath: 'stdin_path',
  stdoutPath: 'stdout_path',
  stderrPath: 'stderr_path',
  preLaunch: 'pre_launch',
  postLaunch: 'post_launch',
  nodeCount: 'node_count',
  processCount: 'process_count',
  processesPerNode: 'processes_per_node',
  cpuCoresPerProcess: 'cpu_cores_per_process',
  gpuCoresPerProcess: 'gpu_cores_per_process',
  exclusiveNodeUse: 'exclusive_node_use',
  queueName: 'queue_name',
  projectName: 'project_name',
  reservationId: 'reservation_id',
  customAttributes: 'custom_attributes',
};

const SNAKE_TO_CAMEL: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(CAMEL_TO_SNAKE).map(([camel, snake]) => [snake, camel]),
);

/** Copies a psij-python object's set values under their camelCase names (`__version` is dropped). */
function fromSnake(obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (key !== '__version' && value !== undefined && value !== null) out[SNAKE_TO_CAMEL[key] ?? key] = value;
  }
  return out;
}

function snakePath(path: string): string {
  return path.replace(/[A-Za-z]+/g, (seg) => CAMEL_TO_SNAKE[seg] ?? seg);
}

/**
 * Reads a psij-python JSON document (a string or an already-parsed object) into a JobSpec.
 * Durations in psij-python's own `"5400.0 s"` format are read as 5400 s.
 *
 * @throws {@link ValidationError} with snake_case field paths, as the document spells them.
 */
export function jobSpecFromPsijJson(document: string | unknown): JobSpec {
  let raw: unknown = document;
  if (typeof document === 'string') {
    try {
      raw = JSON.parse(document);
    } catch (cause) {
      throw new ValidationError('psij-python JSON', [{ path: '', message: `not valid JSON: ${(cause as Error).message}` }], {
        cause,
      });
    }
  }
  const v = parseWith(PsijJobSpecSchema, raw, 'psij-python job spec');
  const { resources, attributes, ...top } = v;
  const input = fromSnake(top) as unknown as JobSpecInput;
  if (resources) input.resources = fromSnake(resources);
  if (attributes) input.attributes = fromSnake(attributes);
  try {
    return createJobSpec(input);
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new ValidationError(
        'psij-python job spec',
        err.issues.map((i) => ({ path: snakePath(i.path), message: i.message })),
        { cause: err },
      );
    }
    throw err;
  }
}

/** The psij-python JSON object of a spec: snake_case keys, defaults omitted, as psij-python writes it. */
export interface PsijJobSpecDocument {
  executable: string;
  arguments?: string[];
  directory?: string;
  name: string;
  inherit_environment?: boolean;
  environment?: Record<string, string>;
  stdin_path?: string;
  stdout_path?: string;
  stderr_path?: string;
  resources?: Record<string, number | boolean>;
  attributes: Record<string, string | Record<string, CustomAttributeValue>>;
  pre_launch?: string;
  post_launch?: string;
  launcher?: string;
}

/**
 * Writes a spec as psij-python's serializer would. Staging is not part of psij-python's JSON and
 * is left out; use {@link jobSpecToInput} to persist a whole spec.
 */
export function jobSpecToPsijJson(spec: JobSpec): PsijJobSpecDocument {
  const out: Partial<PsijJobSpecDocument> = { executable: spec.executable };
  if (spec.arguments.length) out.arguments = [...spec.arguments];
  if (spec.directory !== undefined) out.directory = spec.directory;
  out.name = spec.name;
  if (!spec.inheritEnvironment) out.inherit_environment = false;
  if (Object.keys(spec.environment).length) out.environment = { ...spec.environment };
  if (spec.stdinPath !== undefined) out.stdin_path = spec.stdinPath;
  if (spec.stdoutPath !== undefined) out.stdout_path = spec.stdoutPath;
  if (spec.stderrPath !== undefined) out.stderr_path = spec.stderrPath;
  const r = spec.resources;
  const resources: Record<string, number | boolean> = {};
  if (r.nodeCount !== undefined) resources.node_count = r.nodeCount;
  if (r.processCount !== undefined) resources.process_count = r.processCount;
  if (r.processesPerNode !== undefined) resources.processes_per_node = r.processesPerNode;
  if (r.cpuCoresPerProcess !== undefined) resources.cpu_cores_per_process = r.cpuCoresPerProcess;
  if (r.gpuCoresPerProcess !== undefined) resources.gpu_cores_per_process = r.gpuCoresPerProcess;
  if (r.exclusiveNodeUse) resources.exclusive_node_use = true;
  if (r.memory !== undefined) resources.memory = r.memory;
  if (Object.keys(resources).length) out.resources = { ...resources, __version: 1 };
  const a = spec.attributes;
  const attributes: PsijJobSpecDocument['attributes'] = {};
  if (a.duration !== DEFAULT_DURATION_SECONDS) attributes.duration = formatPsijDuration(a.duration);
  if (a.queueName !== undefined) attributes.queue_name = a.queueName;
  if (a.account !== undefined) attributes.account = a.account;
  if (a.reservationId !== undefined) attributes.reservation_id = a.reservationId;
  if (Object.keys(a.customAttributes).length) attributes.custom_attributes = { ...a.customAttributes };
  // psij-python's project_name is an alias of account, so its serializer writes both.
  if (a.account !== undefined) attributes.project_name = a.account;
  out.attributes = attributes;
  if (spec.preLaunch !== undefined) out.pre_launch = spec.preLaunch;
  if (spec.postLaunch !== undefined) out.post_launch = spec.postLaunch;
  if (spec.launcher !== undefined) out.launcher = spec.launcher;
  return out as PsijJobSpecDocument;
}

/** The numbers psij-python derives from a spec's ResourceSpecV1, in its key names. */
export interface PsijDerivedResources {
  computed_node_count: number;
  computed_process_count: number;
  computed_processes_per_node: number;
  cpu_cores_per_process: number | null;
  exclusive_node_use: boolean;
  gpu_cores_per_process: number | null;
}

/** The derived resource numbers in psij-python's naming (see the `*.derived.json` fixtures). */
export function psijDerivedResources(spec: JobSpec): PsijDerivedResources {
  const r = spec.resources;
  return {
    computed_node_count: r.computedNodeCount,
    computed_process_count: r.computedProcessCount,
    computed_processes_per_node: r.computedProcessesPerNode,
    cpu_cores_per_process: r.cpuCoresPerProcess ?? null,
    exclusive_node_use: r.exclusiveNodeUse,
    gpu_cores_per_process: r.gpuCoresPerProcess ?? null,
  };
}

/** Which form a spec document is written in, and the keys that told. */
export interface SpecDocumentForm {
  /** `camel` (this SDK's input form), `psij` (psij-python JSON), or `either` (no key tells them apart). */
  readonly form: 'camel' | 'psij' | 'either';
  /** Keys only the psij-python form has (snake_case), by path. */
  readonly snakeKeys: readonly string[];
  /** Keys only the camelCase form has, by path. */
  readonly camelKeys: readonly string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Tells a spec document's form by the majority of its telling keys (those spelt differently in the
 * two forms, such as `stdout_path` and `stdoutPath`) at the top level, in `resources` and in
 * `attributes`; keys both forms share (`executable`, `arguments`, …) do not count.
 * @throws {@link ValidationError} if as many keys say one form as the other.
 */
export function specDocumentForm(document: Readonly<Record<string, unknown>>): SpecDocumentForm {
  const snakeKeys: string[] = [];
  const camelKeys: string[] = [];
  const scan = (obj: unknown, prefix: string) => {
    if (!isObject(obj)) return;
    for (const key of Object.keys(obj)) {
      const where = prefix + key;
      if (key === '__version' || /^[a-z0-9]+(_[a-z0-9]+)+$/.test(key)) snakeKeys.push(where);
      else if (/^[a-z][a-z0-9]*[A-Z]/.test(key)) camelKeys.push(where);
    }
  };
  scan(document, '');
  scan(document.resources, 'resources.');
  scan(document.attributes, 'attributes.');
  if (snakeKeys.length === camelKeys.length && snakeKeys.length > 0) {
    throw new ValidationError('job spec', [
      {
        path: '',
        message:
          `mixes the two spec forms equally: psij-python (${snakeKeys.join(', ')}) and camelCase (${camelKeys.join(', ')}); ` +
          'write every key in one form (for example stdoutPath or stdout_path, not both styles)',
      },
    ]);
  }
  const form = snakeKeys.length > camelKeys.length ? 'psij' : camelKeys.length > 0 ? 'camel' : 'either';
  return { form, snakeKeys, camelKeys };
}

/**
 * Reads a spec document that may be in either form: psij-python JSON (snake_case keys) or this
 * SDK's input form (camelCase). The form is decided by the majority of the keys that differ
 * between the two (see {@link specDocumentForm}); keys of the other form are then reported as
 * unknown fields with the spelling meant (`unknown field (did you mean "stdoutPath"?)`).
 * @throws {@link ValidationError} naming each field as the document spells it, or saying the form is ambiguous.
 */
export function jobSpecFromDocument(document: unknown): JobSpec {
  if (!isObject(document)) throw new ValidationError('job spec', [{ path: '', message: 'a job spec must be an object' }]);
  const { form } = specDocumentForm(document);
  return form === 'psij' ? jobSpecFromPsijJson(document) : createJobSpec(document as unknown as JobSpecInput);
}
