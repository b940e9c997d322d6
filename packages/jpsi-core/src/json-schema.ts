/**
 * The JSON Schema of job spec files (YAML or JSON, camelCase or psij-python form), generated from
 * the zod schemas so that editors validate exactly what {@link jobSpecFromDocument} accepts
 * (less the rules JSON Schema cannot say, such as how counts must agree), with each field's
 * description taken from the TSDoc of {@link JobSpecInput} and its companions.
 * @module
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PsijJobSpecSchema } from './psij-json.js';
import { JobSpecSchema } from './spec.js';

/** The `$id` of the shipped schema (`@exaworks/jpsi-core/schema/jobspec.schema.json`). */
export const JOB_SPEC_SCHEMA_ID =
  'https://github.com/exaworks/sdk-typescript/blob/main/packages/jpsi-core/schema/jobspec.schema.json';

/** A JSON Schema document (draft 2020-12), as plain JSON. */
export type JsonSchemaDocument = { readonly [key: string]: unknown };

/**
 * Field descriptions by form and object: `describe('camel', ['resources'], 'nodeCount')` returns the
 * text for that field, or undefined. The build script reads them from the TSDoc of the input types.
 * @internal
 */
export type FieldDescriber = (form: 'camel' | 'psij', path: readonly string[], field: string) => string | undefined;

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The object schema inside a property schema (through `anyOf` with null, and array items). */
function objectsIn(schema: unknown): JsonObject[] {
  if (!isObject(schema)) return [];
  if (schema.type === 'object' && isObject(schema.properties)) return [schema];
  const out: JsonObject[] = [];
  if (Array.isArray(schema.anyOf)) for (const s of schema.anyOf) out.push(...objectsIn(s));
  if (schema.items !== undefined) out.push(...objectsIn(schema.items));
  return out;
}

function describeObject(schema: JsonObject, form: 'camel' | 'psij', path: string[], describe: FieldDescriber): void {
  const properties = schema.properties as Record<string, JsonObject>;
  for (const [field, property] of Object.entries(properties)) {
    const text = describe(form, path, field);
    if (text !== undefined) properties[field] = { description: text, ...property };
    for (const inner of objectsIn(property)) describeObject(inner, form, [...path, field], describe);
  }
}

/**
 * Generates the schema document's text (2-space indented, final newline); with `describe`, each
 * field gets its description.
 * @internal
 */
export function generateJobSpecJsonSchema(describe?: FieldDescriber): string {
  const form = (schema: z.ZodType, which: 'camel' | 'psij', title: string, description: string) => {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as JsonObject;
    const out: JsonObject = { title, description, ...rest };
    if (describe) describeObject(out, which, [], describe);
    return out;
  };
  const document = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: JOB_SPEC_SCHEMA_ID,
    title: 'ExaWorks SDK job spec',
    description:
      'A PSI/J job spec file, in the camelCase form of @exaworks/jpsi-core or in psij-python JSON (snake_case keys). ' +
      'A document uses one form; `exaworks spec check` also checks the rules this schema cannot express.',
    anyOf: [
      form(JobSpecSchema, 'camel', 'camelCase job spec', 'The TypeScript API form (JobSpecInput), staging included.'),
      form(
        PsijJobSpecSchema,
        'psij',
        'psij-python job spec',
        "psij-python's JSONSerializer form: snake_case keys, null for unset.",
      ),
    ],
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

const SHIPPED = new URL('../schema/jobspec.schema.json', import.meta.url);
let cached: string | undefined;

/**
 * The JSON Schema (draft 2020-12) of job spec files: an `anyOf` of the camelCase form and the
 * psij-python form, with every field described. It is the shipped
 * `@exaworks/jpsi-core/schema/jobspec.schema.json` (point a YAML editor at it with
 * `# yaml-language-server: $schema=<path>`). A fresh copy per call.
 */
export function jobSpecJsonSchema(): JsonSchemaDocument {
  return JSON.parse(jobSpecJsonSchemaText()) as JsonSchemaDocument;
}

/** {@link jobSpecJsonSchema} as the exact text of the shipped file. */
export function jobSpecJsonSchemaText(): string {
  cached ??= readFileSync(SHIPPED, 'utf8');
  return cached;
}
