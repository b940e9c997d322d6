// Regenerates schema/jobspec.schema.json from the built package (npm run schema, after a build).
import { writeFileSync } from 'node:fs';
import { jobSpecJsonSchemaText } from '../dist/index.js';

writeFileSync(new URL('../schema/jobspec.schema.json', import.meta.url), jobSpecJsonSchemaText());
