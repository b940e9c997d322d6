/**
 * The JSON Schema of job spec files (YAML or JSON, camelCase or psij-python form), generated from
 * the zod schemas so that editors validate exactly what {@link jobSpecFromDocument} accepts
 * (less the rules JSON Schema cannot say, such as how counts must agree).
 * @module
 */
import { z } from 'zod';
import { PsijJobSpecSchema } from './psij-json.js';
import { JobSpecSchema } from './spec.js';

/** The `$id` of the shipped schema (`@exaworks/jpsi-core/schema/jobspec.schema.json`). */
export const JOB_SPEC_SCHEMA_ID =
  'https://github.com/exaworks/sdk-typescript/blob/main/packages/jpsi-core/schema/jobspec.schema.json';

/** A JSON Schema document (draft 2020-12), as plain JSON. */
export type JsonSchemaDocument = { readonly [key: string]: unknown };

let cached: string | undefined;

function generate(): string {
  const form = (schema: z.ZodType, title: string, description: string) => {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Record<
      string,
      unknown
    >;
    return { title, description, ...rest };
  };
  const document = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: JOB_SPEC_SCHEMA_ID,
    title: 'ExaWorks SDK job spec',
    description:
      'A PSI/J job spec file, in the camelCase form of @exaworks/jpsi-core or in psij-python JSON (snake_case keys). ' +
      'A document uses one form; `exaworks spec check` also checks the rules this schema cannot express.',
    anyOf: [
      form(JobSpecSchema, 'camelCase job spec', 'The TypeScript API form (JobSpecInput), staging included.'),
      form(PsijJobSpecSchema, 'psij-python job spec', "psij-python's JSONSerializer form: snake_case keys, null for unset."),
    ],
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * The JSON Schema (draft 2020-12) of job spec files: an `anyOf` of the camelCase form and the
 * psij-python form. The same document ships as `@exaworks/jpsi-core/schema/jobspec.schema.json`
 * (point a YAML editor at it with `# yaml-language-server: $schema=<path>`). A fresh copy per call.
 */
export function jobSpecJsonSchema(): JsonSchemaDocument {
  return JSON.parse(jobSpecJsonSchemaText()) as JsonSchemaDocument;
}

/** {@link jobSpecJsonSchema} as the exact text of the shipped file (2-space indented, final newline). */
export function jobSpecJsonSchemaText(): string {
  cached ??= generate();
  return cached;
}
