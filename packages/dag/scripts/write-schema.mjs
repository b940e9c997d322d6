// Writes schema/workflow.schema.json from the built package (zod's z.toJSONSchema). Run after `tsc -b`.
import { writeFileSync } from 'node:fs';
import { workflowJsonSchema } from '../dist/index.js';

const schema = {
  $id: 'https://exaworks.org/schemas/dag/workflow.schema.json',
  title: 'ExaWorks DAG workflow file',
  ...workflowJsonSchema(),
};
writeFileSync(new URL('../schema/workflow.schema.json', import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
