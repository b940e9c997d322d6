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

/** Turns a zod error into issues, one per field, with our path format. */
export function issuesFromZod(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      const base = formatPath(issue.path);
      return {
        path: keys.length === 1 ? (base === '' ? keys[0]! : `${base}.${keys[0]!}`) : base,
        message: keys.length === 1 ? 'unknown field' : `unknown fields: ${keys.join(', ')}`,
      };
    }
    if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      // zod reports a bad record key as "Invalid key in record"; the key schema's own message says why.
      return { path: formatPath(issue.path), message: issue.issues.map((i) => i.message).join('; ') };
    }
    return { path: formatPath(issue.path), message: issue.message };
  });
}

/**
 * Validates `input` with `schema`, returning the parsed value or throwing a {@link ValidationError}
 * that names every offending field.
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(subject, issuesFromZod(result.error), { cause: result.error });
  return result.data;
}
