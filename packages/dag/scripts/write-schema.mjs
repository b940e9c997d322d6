// Writes schema/workflow.schema.json from the built package (zod's z.toJSONSchema). Run after `tsc -b`.
// The file is left alone when its content is already the same JSON (so its committed formatting stays).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { workflowJsonSchema } from '../dist/index.js';

const target = new URL('../schema/workflow.schema.json', import.meta.url);
const schema = {
  $id: 'https://exaworks.org/schemas/dag/workflow.schema.json',
  title: 'ExaWorks DAG workflow file',
  ...workflowJsonSchema(),
};
const current = existsSync(target) ? JSON.parse(readFileSync(target, 'utf8')) : undefined;
if (!isDeepStrictEqual(current, schema)) writeFileSync(target, `${JSON.stringify(schema, null, 2)}\n`);
