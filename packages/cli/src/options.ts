/**
 * Command-line flags → a validated JobSpec, plus the small parsers the flags need (memory sizes,
 * `key=value` pairs, spec files, executor configuration).
 * @module
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  CUSTOM_ATTRIBUTE_KEY,
  ValidationError,
  createJobSpec,
  jobSpecFromDocument,
  jobSpecToInput,
  parseDuration,
  type CustomAttributeValue,
  type JobSpec,
  type JobSpecInput,
  type ValidationIssue,
} from '@exaworks/jpsi-core';
import { envNameProblem } from '@exaworks/jpsi-core/internal';

/** The job flags shared by `run` and `submit`, as commander hands them over (strings, unparsed). */
export interface JobFlags {
  /** The executable (first positional argument). */
  executable?: string;
  /** Its arguments (remaining positional arguments). */
  args?: string[];
  name?: string;
  nodes?: string;
  processes?: string;
  ppn?: string;
  coresPerProcess?: string;
  gpusPerProcess?: string;
  /** Undefined when the flag was not given (so a spec file's value stands). */
  exclusive?: boolean;
  memory?: string;
  duration?: string;
  queue?: string;
  account?: string;
  reservation?: string;
  attr?: string[];
  env?: string[];
  /** `false` for `--no-inherit-env`; undefined when not given. */
  inheritEnv?: boolean;
  directory?: string;
  stdin?: string;
  stdout?: string;
  stderr?: string;
  launcher?: string;
  preLaunch?: string;
  postLaunch?: string;
  /** A spec file (JSON or YAML, camelCase or psij-python form). */
  spec?: string;
}

/** Which flag sets each spec field: used to say "from --nodes" in error messages. */
export const FLAG_FOR_FIELD: Readonly<Record<string, string>> = {
  executable: '<executable>',
  arguments: '<args>',
  name: '--name',
  'resources.nodeCount': '--nodes',
  'resources.processCount': '--processes',
  'resources.processesPerNode': '--ppn',
  'resources.cpuCoresPerProcess': '--cores-per-process',
  'resources.gpuCoresPerProcess': '--gpus-per-process',
  'resources.exclusiveNodeUse': '--exclusive',
  'resources.memory': '--memory',
  'attributes.duration': '--duration',
  'attributes.queueName': '--queue',
  'attributes.account': '--account',
  'attributes.reservationId': '--reservation',
  'attributes.customAttributes': '--attr',
  environment: '--env',
  inheritEnvironment: '--no-inherit-env',
  directory: '--directory',
  stdinPath: '--stdin',
  stdoutPath: '--stdout',
  stderrPath: '--stderr',
  launcher: '--launcher',
  preLaunch: '--pre-launch',
  postLaunch: '--post-launch',
};

const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};
const MEMORY = /^(\d+(?:\.\d+)?|\.\d+)\s*([kmgtp]?)(i?b)?$/i;

/**
 * Parses a memory size to bytes: a plain number of bytes, or a number with K, M, G, T or P
 * (powers of 1024, as Slurm and PBS read them; `KB`, `KiB` and `k` mean the same).
 */
export function parseMemory(text: string): { bytes: number } | { error: string } {
  const m = MEMORY.exec(text.trim());
  if (!m) return { error: `"${text}" is not a memory size (examples: 4G, 512M, 1.5GiB, 1073741824)` };
  const unit = m[2]!.toLowerCase();
  if (unit === '' && m[3] !== undefined && m[3].toLowerCase() === 'ib')
    return { error: `"${text}" is not a memory size (examples: 4G, 512M, 1.5GiB, 1073741824)` };
  const bytes = Math.round(Number(m[1]) * MEMORY_UNITS[unit]!);
  return bytes > 0 ? { bytes } : { error: `"${text}" must be at least 1 byte` };
}

/** Splits `KEY=VALUE` at the first `=`; undefined if there is no `=` or the key is empty. */
export function splitKeyValue(text: string): [string, string] | undefined {
  const i = text.indexOf('=');
  if (i <= 0) return undefined;
  return [text.slice(0, i), text.slice(i + 1)];
}

/** A custom attribute value as typed: `true`/`false` → boolean, canonical numbers → number, else the string. */
export function attributeValue(text: string): CustomAttributeValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  // Only canonical numbers ("8", "0.5"), so "007" or "1e3" stay strings as written.
  if (text !== '' && /^-?\d+(\.\d+)?$/.test(text) && String(Number(text)) === text) return Number(text);
  return text;
}

/** A count as typed: decimal digits only ("0x10", "1e1", "1.0", "" are not counts), else undefined. */
function toCount(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/** Reads a JSON or YAML file (told by content: JSON is valid YAML, but JSON errors are clearer). */
export async function readDocumentFile(file: string, subject: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    throw new ValidationError(
      subject,
      [{ path: '', message: `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}` }],
      { cause },
    );
  }
  return parseDocumentText(decodeUtf8(bytes, `${subject} ${file}`), `${subject} ${file}`);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The text of a file, or a ValidationError naming the first line that is not UTF-8 (never U+FFFD in its place). */
export function decodeUtf8(bytes: Uint8Array, subject: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (cause) {
    let line = 1;
    for (let start = 0; start < bytes.length; line++) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      try {
        UTF8.decode(bytes.subarray(start, end));
      } catch {
        break;
      }
      start = end + 1;
    }
    throw new ValidationError(subject, [{ path: '', message: `line ${line} is not UTF-8 text (save the file as UTF-8)` }], {
      cause,
    });
  }
}

/** Parses JSON or YAML text; a ValidationError (with line information from the parser) if neither. */
export function parseDocumentText(text: string, subject: string): unknown {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch {
      // Flow-style YAML also starts with "{"; fall through to the YAML parser.
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (cause) {
    throw new ValidationError(
      subject,
      [{ path: '', message: `not valid JSON or YAML: ${(cause as Error).message.split('\n')[0]}` }],
      { cause },
    );
  }
}

/**
 * Reads a spec file (JSON or YAML; this SDK's camelCase form or psij-python's snake_case JSON).
 * @throws {@link ValidationError} naming each field as the file spells it.
 */
export async function readSpecFile(file: string): Promise<JobSpec> {
  const doc = await readDocumentFile(file, 'spec file');
  try {
    return jobSpecFromDocument(doc);
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`${err.subject} in ${file}`, err.issues, { cause: err });
    throw err;
  }
}

/** What {@link specInputFromFlags} made of the flags: the input, and the issues found parsing them. */
export interface FlagParseResult {
  /** The spec input contributed by the flags (only the fields they set). */
  input: JobSpecInput;
  /** Problems with flags that could not even be turned into values (bad memory size, `--env` without `=`). */
  issues: ValidationIssue[];
}

/** Turns flags into the part of a spec input they set; paths are resolved against `cwd`. */
export function specInputFromFlags(flags: JobFlags, cwd: string = process.cwd()): FlagParseResult {
  const issues: ValidationIssue[] = [];
  const input: Record<string, unknown> = {};
  const resources: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  const abs = (p: string) => (p === '' ? p : path.resolve(cwd, p));

  if (flags.executable !== undefined) input.executable = flags.executable;
  if (flags.args !== undefined && (flags.executable !== undefined || flags.args.length > 0)) input.arguments = [...flags.args];
  if (flags.name !== undefined) input.name = flags.name;

  const counts: [keyof JobFlags, string][] = [
    ['nodes', 'nodeCount'],
    ['processes', 'processCount'],
    ['ppn', 'processesPerNode'],
    ['coresPerProcess', 'cpuCoresPerProcess'],
    ['gpusPerProcess', 'gpuCoresPerProcess'],
  ];
  for (const [flag, field] of counts) {
    const value = flags[flag];
    if (typeof value !== 'string') continue;
    const n = toCount(value);
    if (n !== undefined) resources[field] = n;
    else
      issues.push({
        path: `resources.${field}`,
        message: `"${value}" is not a whole number in decimal digits (from ${FLAG_FOR_FIELD[`resources.${field}`]})`,
      });
  }
  if (flags.exclusive !== undefined) resources.exclusiveNodeUse = flags.exclusive;
  if (flags.memory !== undefined) {
    const m = parseMemory(flags.memory);
    if ('bytes' in m) resources.memory = m.bytes;
    else issues.push({ path: 'resources.memory', message: `${m.error} (from --memory)` });
  }

  if (flags.duration !== undefined) {
    // Checked here so the message names the flag; createJobSpec parses it again, identically.
    const d = parseDuration(flags.duration);
    if ('seconds' in d) attributes.duration = d.seconds;
    else issues.push({ path: 'attributes.duration', message: `duration ${d.error} (from --duration)` });
  }
  if (flags.queue !== undefined) attributes.queueName = flags.queue;
  if (flags.account !== undefined) attributes.account = flags.account;
  if (flags.reservation !== undefined) attributes.reservationId = flags.reservation;
  if (flags.attr !== undefined && flags.attr.length > 0) {
    const custom: Record<string, CustomAttributeValue> = {};
    for (const pair of flags.attr) {
      const kv = splitKeyValue(pair);
      if (!kv)
        issues.push({
          path: 'attributes.customAttributes',
          message: `"${pair}" is not KEY=VALUE, e.g. slurm.constraint=haswell (from --attr)`,
        });
      else if (!CUSTOM_ATTRIBUTE_KEY.test(kv[0])) {
        // Checked here because zod reports a bad record key without the schema's explanation.
        issues.push({
          path: `attributes.customAttributes.${kv[0]}`,
          message: `"${kv[0]}" must be an executor name, a dot and a name, e.g. slurm.constraint (from --attr)`,
        });
      } else custom[kv[0]] = attributeValue(kv[1]);
    }
    attributes.customAttributes = custom;
  }

  if (flags.env !== undefined && flags.env.length > 0) {
    // No prototype: `--env __proto__=x` is a variable like any other, not the object's prototype.
    const env = Object.create(null) as Record<string, string>;
    for (const pair of flags.env) {
      const kv = splitKeyValue(pair);
      // jpsi-core's one rule, checked here too so the message survives zod's record-key report.
      const problem = kv ? envNameProblem(kv[0]) : undefined;
      if (!kv) issues.push({ path: 'environment', message: `"${pair}" is not NAME=VALUE, e.g. OMP_NUM_THREADS=4 (from --env)` });
      else if (problem !== undefined) issues.push({ path: `environment.${kv[0]}`, message: `${problem} (from --env)` });
      else Object.defineProperty(env, kv[0], { value: kv[1], enumerable: true, writable: true, configurable: true });
    }
    input.environment = env;
  }
  if (flags.inheritEnv !== undefined) input.inheritEnvironment = flags.inheritEnv;
  if (flags.directory !== undefined) input.directory = abs(flags.directory);
  if (flags.stdin !== undefined) input.stdinPath = abs(flags.stdin);
  if (flags.stdout !== undefined) input.stdoutPath = abs(flags.stdout);
  if (flags.stderr !== undefined) input.stderrPath = abs(flags.stderr);
  if (flags.preLaunch !== undefined) input.preLaunch = abs(flags.preLaunch);
  if (flags.postLaunch !== undefined) input.postLaunch = abs(flags.postLaunch);
  if (flags.launcher !== undefined) input.launcher = flags.launcher;

  if (Object.keys(resources).length) input.resources = resources;
  if (Object.keys(attributes).length) input.attributes = attributes;
  return { input: input as JobSpecInput, issues };
}

/** Flag values override the base; `resources`, `attributes`, `environment` and custom attributes merge key by key. */
export function mergeSpecInput(base: JobSpecInput, over: JobSpecInput): JobSpecInput {
  const out: Record<string, unknown> = { ...base, ...over };
  if (base.resources || over.resources) out.resources = { ...base.resources, ...over.resources };
  if (base.environment || over.environment) out.environment = { ...base.environment, ...over.environment };
  if (base.attributes || over.attributes) {
    const attrs: Record<string, unknown> = { ...base.attributes, ...over.attributes };
    if (base.attributes?.customAttributes || over.attributes?.customAttributes) {
      attrs.customAttributes = { ...base.attributes?.customAttributes, ...over.attributes?.customAttributes };
    }
    // An account given by flag replaces the file's deprecated alias too, instead of clashing with it.
    if (over.attributes?.account !== undefined) delete attrs.projectName;
    out.attributes = attrs;
  }
  return out as JobSpecInput;
}

/** Adds "(from --flag)" to issues about fields the flags set. */
function attributeIssuesToFlags(issues: readonly ValidationIssue[], fromFlags: JobSpecInput): ValidationIssue[] {
  const set = (p: string): boolean => {
    let node: unknown = fromFlags;
    for (const key of p.split('.')) {
      if (typeof node !== 'object' || node === null || !(key in node)) return false;
      node = (node as Record<string, unknown>)[key];
    }
    return true;
  };
  return issues.map((issue) => {
    const field = Object.keys(FLAG_FOR_FIELD)
      .filter((f) => issue.path === f || issue.path.startsWith(`${f}.`) || issue.path.startsWith(`${f}[`))
      .sort((a, b) => b.length - a.length)[0];
    if (field === undefined || !set(field)) return issue;
    return { path: issue.path, message: `${issue.message} (from ${FLAG_FOR_FIELD[field]})` };
  });
}

/**
 * Builds the job spec of `run`/`submit`: the spec file (if any), then the flags on top.
 * Every problem is reported at once, each with its field path (and the flag that set it).
 *
 * @throws {@link ValidationError} for bad flags or a bad/absent spec file.
 */
export async function buildJobSpec(flags: JobFlags, cwd: string = process.cwd()): Promise<JobSpec> {
  let base: JobSpecInput | undefined;
  if (flags.spec !== undefined) {
    const fromFile = await readSpecFile(path.resolve(cwd, flags.spec));
    base = jobSpecToInput(fromFile);
    // The derived default name follows the executable; do not pin the file's executable as name.
    if (flags.executable !== undefined && fromFile.name === fromFile.executable) delete base.name;
  }
  const { input: fromFlags, issues } = specInputFromFlags(flags, cwd);
  if (base === undefined && fromFlags.executable === undefined) {
    issues.unshift({
      path: 'executable',
      message: 'give an executable (exaworks run [options] -- <executable> [args...]) or --spec FILE',
    });
  }
  const merged = base ? mergeSpecInput(base, fromFlags) : fromFlags;
  try {
    const spec = createJobSpec(merged);
    if (issues.length) throw new ValidationError('job spec', issues);
    return spec;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    if (err.issues === issues) throw err;
    const seen = new Set(issues.map((i) => i.path));
    const more = attributeIssuesToFlags(err.issues, fromFlags).filter(
      (i) => !seen.has(i.path) && !(i.path === 'executable' && seen.has('executable')),
    );
    throw new ValidationError('job spec', [...issues, ...more], { cause: err });
  }
}

export { buildExecutorConfig, type ExecutorFlags } from './executor-config.js';
