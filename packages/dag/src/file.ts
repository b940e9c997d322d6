/**
 * Declarative workflow files (YAML or JSON): the schema, loading with errors that point at the
 * file's line, matrix expansion and output references.
 * @module
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type JobExecutor,
  type JobSpec,
  jobSpecFromDocument,
  parseDuration,
  ValidationError,
  type ValidationIssue,
} from '@exaworks/jpsi-core';
import { formatPath, issuesFromZod } from '@exaworks/jpsi-core';
import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { FailurePolicy } from './options.js';
import { setWorkflowMetadata, Workflow } from './workflow.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const NAME = z
  .string()
  .min(1, 'cannot be empty')
  .regex(/^[^\s"`[\]]+$/, 'letters, digits and punctuation, without spaces, quotes or brackets');
const durationText = z
  .union([z.string(), z.number()], { error: 'must be a duration such as "90 s", "10 min" or "01:30:00"' })
  .refine((v) => !('error' in parseDuration(v)), { error: 'must be a duration such as "90 s", "10 min" or "01:30:00"' });
const policy = z.enum(['fail-fast', 'continue'], { error: 'must be "fail-fast" or "continue"' });

/** One entry of `jobs:` in a workflow file. */
export const WorkflowFileJobSchema = z
  .strictObject({
    /** The job: camelCase (this SDK) or psij-python form. Strings may use `${{ matrix.<key> }}` and `${{ jobs.<name>.outputs.<key> }}`. */
    spec: z.record(z.string(), z.unknown(), { error: 'must be a job spec (an object)' }),
    /** Jobs that must succeed first. A matrix job as a whole stands for all of its expansions. */
    after: z.array(NAME, { error: 'must be a list of job names' }).optional(),
    /** Extra attempts after a failure. */
    retries: z.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
    /** Time limit of one attempt (a number is seconds). */
    timeout: durationText.optional(),
    /** Reuse an earlier successful result with the same spec (needs `cache` at the top). */
    cache: z.boolean().optional(),
    onFailure: policy.optional(),
    /** Parameter sweep: one job per combination of the values (cartesian product). */
    matrix: z
      .record(
        z.string().regex(IDENT, 'matrix keys are identifiers'),
        z
          .array(z.union([z.string(), z.number(), z.boolean()]), { error: 'must be a list of values' })
          .min(1, 'needs at least one value'),
      )
      .optional(),
    /** Named values (typically paths) other jobs can reference; may use `${{ matrix.<key> }}`. */
    outputs: z.record(z.string().regex(IDENT, 'output names are identifiers'), z.string()).optional(),
  })
  .describe('A job of the workflow');

/** A workflow file. */
export const WorkflowFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    /** Name recorded in the journal. */
    name: NAME.optional(),
    /** Executor name from the registry. @default 'local' */
    executor: z.string().min(1).optional(),
    /** Configuration passed to the executor. */
    executorConfig: z.record(z.string(), z.unknown()).optional(),
    concurrency: z.number().int('must be a whole number').min(1, 'must be 1 or more').optional(),
    onFailure: policy.optional(),
    retries: z.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
    /** Path of the result cache (relative to the file). */
    cache: z.string().min(1).optional(),
    jobs: z.record(NAME, WorkflowFileJobSchema, { error: 'must map job names to jobs' }),
  })
  .describe('An ExaWorks DAG workflow file');

/** A workflow file as written. */
export type WorkflowFile = z.infer<typeof WorkflowFileSchema>;

/** The JSON Schema of workflow files (shipped as `@exaworks/dag/workflow.schema.json`). */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkflowFileSchema, { io: 'input' }) as Record<string, unknown>;
}

/** One job after matrix expansion. */
export interface ExpandedJob {
  /** `name`, or `name[key=value,…]` for a matrix expansion. */
  readonly name: string;
  /** The `jobs:` entry it came from. */
  readonly source: string;
  readonly spec: JobSpec;
  readonly after: readonly string[];
  readonly retries?: number;
  readonly timeoutMs?: number;
  readonly cache?: boolean;
  readonly onFailure?: FailurePolicy;
  readonly outputs: Readonly<Record<string, string>>;
}

/** A loaded, validated, expanded workflow file. */
export interface LoadedWorkflow {
  readonly file: string;
  readonly document: WorkflowFile;
  readonly jobs: readonly ExpandedJob[];
}

const TEMPLATE = /\$\{\{\s*([^}]*?)\s*\}\}/g;

/** Where in the file a path is, as `file:line:col`, if the parser kept it. */
type Locate = (p: readonly PropertyKey[]) => string;

/**
 * Parses and validates a workflow document. `text` is YAML or JSON.
 * @throws `ValidationError` (jpsi-core) with every issue; each message begins with `file:line:col`.
 */
export function parseWorkflowFile(text: string, file = 'workflow.yaml'): LoadedWorkflow {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const display = path.basename(file);
  if (doc.errors.length > 0) {
    throw new ValidationError(
      `workflow file ${display}`,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: '', message: `${display}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const locate: Locate = (p) => {
    for (let depth = p.length; depth >= 0; depth--) {
      const node = doc.getIn(p.slice(0, depth) as unknown[], true);
      if (isNode(node) && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return `${display}:${pos.line}:${pos.col}`;
      }
    }
    return display;
  };
  /** The position of the key `key` inside the mapping at `p` (for unknown fields). */
  const locateKey = (p: readonly PropertyKey[], key: string): string => {
    const map = doc.getIn(p as unknown[], true);
    if (isMap(map)) {
      for (const item of map.items) {
        if (isScalar(item.key) && String(item.key.value) === key && item.key.range) {
          const pos = lineCounter.linePos(item.key.range[0]);
          return `${display}:${pos.line}:${pos.col}`;
        }
      }
    }
    return locate(p);
  };
  const raw = doc.toJS() as unknown;
  const parsed = WorkflowFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      `workflow file ${display}`,
      parsed.error.issues.map((issue) => {
        const [converted] = issuesFromZod(new z.ZodError([issue]));
        const where =
          issue.code === 'unrecognized_keys' && issue.keys.length === 1
            ? locateKey(issue.path, issue.keys[0]!)
            : locate(issue.path);
        return { path: converted!.path, message: `${where}: ${converted!.message}` };
      }),
    );
  }
  const jobs = expand(parsed.data, locate);
  return { file, document: parsed.data, jobs };
}

/** Reads and parses a workflow file (see {@link parseWorkflowFile}). */
export async function loadWorkflowFile(file: string): Promise<LoadedWorkflow> {
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new ValidationError(`workflow file ${file}`, [{ path: '', message: `cannot be read: ${(cause as Error).message}` }], {
      cause,
    });
  });
  return parseWorkflowFile(text, file);
}

function combinations(matrix: Record<string, ReadonlyArray<string | number | boolean>>): Array<Record<string, string>> {
  let out: Array<Record<string, string>> = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    const next: Array<Record<string, string>> = [];
    for (const partial of out) for (const v of values) next.push({ ...partial, [key]: String(v) });
    out = next;
  }
  return out;
}

/** Expands matrices, substitutes templates, resolves output references and validates specs. */
function expand(file: WorkflowFile, locate: Locate): ExpandedJob[] {
  const issues: ValidationIssue[] = [];
  const expansions = new Map<string, Array<{ name: string; vars: Record<string, string>; outputs: Record<string, string> }>>();
  // Pass 1: names and outputs of every expansion.
  for (const [name, job] of Object.entries(file.jobs)) {
    const list = job.matrix ? combinations(job.matrix) : [{}];
    expansions.set(
      name,
      list.map((vars) => {
        const suffix = Object.entries(vars)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        const outputs: Record<string, string> = {};
        for (const [k, v] of Object.entries(job.outputs ?? {})) {
          outputs[k] = substitute(v, vars, undefined, ['jobs', name, 'outputs', k]);
        }
        return { name: job.matrix ? `${name}[${suffix}]` : name, vars, outputs };
      }),
    );
  }
  function substitute(
    text: string,
    vars: Record<string, string>,
    refs: Set<string> | undefined,
    at: readonly PropertyKey[],
  ): string {
    return text.replace(TEMPLATE, (whole, expr: string) => {
      const m = /^matrix\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(expr);
      if (m) {
        const v = vars[m[1]!];
        if (v === undefined)
          issues.push({ path: formatPath(at), message: `${locate(at)}: "${whole}": no matrix key "${m[1]}" here` });
        return v ?? whole;
      }
      const o = /^jobs\.([^.\s]+)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(expr);
      if (o && refs) {
        const list = expansions.get(o[1]!);
        if (!list) {
          issues.push({ path: formatPath(at), message: `${locate(at)}: "${whole}": unknown job "${o[1]}"` });
          return whole;
        }
        if (list.length !== 1) {
          issues.push({
            path: formatPath(at),
            message: `${locate(at)}: "${whole}": "${o[1]}" is a matrix job; reference its outputs as a whole argument to get one argument per expansion`,
          });
          return whole;
        }
        const value = list[0]!.outputs[o[2]!];
        if (value === undefined) {
          issues.push({ path: formatPath(at), message: `${locate(at)}: "${whole}": job "${o[1]}" has no output "${o[2]}"` });
          return whole;
        }
        refs.add(list[0]!.name);
        return value;
      }
      issues.push({
        path: formatPath(at),
        message: `${locate(at)}: "${whole}" is not a known reference (matrix.<key> or jobs.<name>.outputs.<key>)`,
      });
      return whole;
    });
  }
  /** Substitutes in every string of a JSON value; an array element that is exactly a matrix job's output reference becomes one element per expansion. */
  function deep(value: unknown, vars: Record<string, string>, refs: Set<string>, at: PropertyKey[]): unknown {
    if (typeof value === 'string') return substitute(value, vars, refs, at);
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      value.forEach((v, i) => {
        const whole =
          typeof v === 'string' ? /^\$\{\{\s*jobs\.([^.\s]+)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}$/.exec(v) : null;
        const list = whole ? expansions.get(whole[1]!) : undefined;
        if (whole && list && list.length > 1) {
          for (const e of list) {
            const o = e.outputs[whole[2]!];
            if (o === undefined) {
              issues.push({
                path: formatPath([...at, i]),
                message: `${locate([...at, i])}: job "${whole[1]}" has no output "${whole[2]}"`,
              });
              continue;
            }
            refs.add(e.name);
            out.push(o);
          }
        } else out.push(deep(v, vars, refs, [...at, i]));
      });
      return out;
    }
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = deep(v, vars, refs, [...at, k]);
      return out;
    }
    return value;
  }
  const result: ExpandedJob[] = [];
  for (const [name, job] of Object.entries(file.jobs)) {
    const after: string[] = [];
    for (const [i, dep] of (job.after ?? []).entries()) {
      const list = expansions.get(dep);
      if (!list)
        issues.push({ path: `jobs.${name}.after[${i}]`, message: `${locate(['jobs', name, 'after', i])}: unknown job "${dep}"` });
      else for (const e of list) after.push(e.name);
    }
    for (const e of expansions.get(name)!) {
      const refs = new Set<string>();
      const at = ['jobs', name, 'spec'];
      const specDoc = deep(job.spec, e.vars, refs, at);
      let spec: JobSpec | undefined;
      try {
        spec = jobSpecFromDocument(specDoc);
      } catch (err) {
        if (err instanceof ValidationError) {
          for (const i of err.issues) {
            const sub =
              i.path === ''
                ? []
                : i.path
                    .split(/[.[\]]+/)
                    .filter(Boolean)
                    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
            issues.push({
              path: `jobs.${name}.spec${i.path ? `.${i.path}` : ''}`,
              message: `${locate([...at, ...sub])}: ${i.message}`,
            });
          }
          continue;
        }
        throw err;
      }
      const deps = [...after];
      for (const r of refs) if (!deps.includes(r) && r !== e.name) deps.push(r);
      const timeout = job.timeout === undefined ? undefined : parseDuration(job.timeout);
      result.push({
        name: e.name,
        source: name,
        spec,
        after: deps,
        ...(job.retries !== undefined ? { retries: job.retries } : {}),
        ...(timeout && 'seconds' in timeout ? { timeoutMs: timeout.seconds * 1000 } : {}),
        ...(job.cache !== undefined ? { cache: job.cache } : {}),
        ...(job.onFailure !== undefined ? { onFailure: job.onFailure } : {}),
        outputs: e.outputs,
      });
    }
  }
  if (issues.length > 0) throw new ValidationError('workflow file', issues);
  return result;
}

/** Options of {@link workflowFromFile}. */
export interface FileWorkflowOptions {
  /** Runs the jobs (the file's `executor` names which one the CLI loads). */
  executor?: JobExecutor;
  /** Journal path (the CLI default is `<file>.journal.jsonl`). */
  journal?: string;
  fsync?: boolean;
  /** Overrides the file's concurrency. */
  concurrency?: number;
}

/** Builds a {@link Workflow} from a loaded workflow file. The journal's first record remembers the file. */
export function workflowFromFile(loaded: LoadedWorkflow, options: FileWorkflowOptions = {}): Workflow {
  const d = loaded.document;
  const wf = new Workflow({
    ...(options.executor ? { executor: options.executor } : {}),
    ...(options.journal ? { journal: options.journal } : {}),
    ...(options.fsync !== undefined ? { fsync: options.fsync } : {}),
    ...((options.concurrency ?? d.concurrency) ? { concurrency: options.concurrency ?? d.concurrency } : {}),
    ...(d.onFailure ? { onFailure: d.onFailure } : {}),
    ...(d.retries !== undefined ? { retries: d.retries } : {}),
    ...(d.cache ? { cache: path.resolve(path.dirname(loaded.file), d.cache) } : {}),
    name: d.name ?? path.basename(loaded.file).replace(/\.(ya?ml|json)$/i, ''),
  });
  setWorkflowMetadata(wf, { file: path.resolve(loaded.file) });
  for (const j of loaded.jobs) {
    wf.job(j.name, j.spec, {
      after: j.after,
      ...(j.retries !== undefined ? { retries: j.retries } : {}),
      ...(j.timeoutMs !== undefined ? { timeout: j.timeoutMs } : {}),
      ...(j.cache !== undefined ? { cache: j.cache } : {}),
      ...(j.onFailure !== undefined ? { onFailure: j.onFailure } : {}),
    });
  }
  return wf;
}
