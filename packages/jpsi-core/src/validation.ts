import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';

/** Formats a zod path as `a.b[2].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * Edit distance between two strings: insertions, deletions, substitutions and swaps of two
 * neighbouring characters each cost 1 (optimal string alignment).
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

const squash = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');

/**
 * The candidate a misspelt `word` most likely meant, or undefined if none is close: the same name
 * in another case style (`stdout_path` for `stdoutPath`), else the nearest by {@link editDistance}
 * within a third of the word's length (at most 3). Ties go to the earlier candidate.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  for (const candidate of candidates) {
    if (candidate === word) continue;
    if (squash(candidate) === squash(word)) return candidate;
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

interface ZodDefLike {
  type?: string;
  shape?: Record<string, ZodLike>;
  innerType?: ZodLike;
  element?: ZodLike;
  valueType?: ZodLike;
  in?: ZodLike;
  options?: readonly ZodLike[];
}
interface ZodLike {
  _zod?: { def?: ZodDefLike };
}

/** The schema at `path` below `schema` (through optional, nullable, pipes, arrays and records). */
function schemaAt(schema: ZodLike | undefined, path: readonly PropertyKey[]): ZodLike | undefined {
  let s = schema;
  for (let i = 0; s !== undefined && i <= path.length; ) {
    const def = s._zod?.def;
    if (def === undefined) return undefined;
    if (
      def.innerType !== undefined &&
      ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch'].includes(def.type ?? '')
    ) {
      s = def.innerType;
    } else if (def.type === 'pipe') {
      s = def.in;
    } else if (def.type === 'union') {
      s = def.options?.find((o) => o._zod?.def?.type === 'object');
    } else if (i === path.length) {
      return s;
    } else if (def.type === 'object') {
      s = def.shape?.[String(path[i++])];
    } else if (def.type === 'array') {
      i++;
      s = def.element;
    } else if (def.type === 'record') {
      i++;
      s = def.valueType;
    } else {
      return undefined;
    }
  }
  return s;
}

/** The field names the object schema at `path` knows, or none. */
function knownKeysAt(schema: z.ZodType | undefined, path: readonly PropertyKey[]): string[] {
  const target = schemaAt(schema as ZodLike | undefined, path)?._zod?.def;
  return target?.type === 'object' && target.shape ? Object.keys(target.shape) : [];
}

/**
 * Turns a zod error into issues, one per field, with our path format. Given the schema, an
 * unknown field's message suggests the field it most likely meant (`did you mean "executable"?`).
 */
export function issuesFromZod(error: z.ZodError, schema?: z.ZodType): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const base = formatPath(issue.path);
      const known = knownKeysAt(schema, issue.path);
      return issue.keys.map((key) => {
        const guess = didYouMean(key, known);
        return {
          path: base === '' ? key : `${base}.${key}`,
          message: guess === undefined ? 'unknown field' : `unknown field (did you mean "${guess}"?)`,
        };
      });
    }
    if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      // zod reports a bad record key as "Invalid key in record"; the key schema's own message says why.
      return [{ path: formatPath(issue.path), message: issue.issues.map((i) => i.message).join('; ') }];
    }
    return [{ path: formatPath(issue.path), message: issue.message }];
  });
}

/**
 * Validates `input` with `schema`, returning the parsed value or throwing a {@link ValidationError}
 * that names every offending field (with a "did you mean" for misspelt ones).
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(subject, issuesFromZod(result.error, schema), { cause: result.error });
  return result.data;
}
