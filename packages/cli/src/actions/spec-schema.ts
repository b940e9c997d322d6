/** The implementation of `exaworks spec schema`: light on purpose (no zod, no yaml). @module */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Context } from '../context.js';

/** `exaworks spec schema`: prints the schema file jpsi-core ships (generated from its zod schemas), as it is. */
export async function schema(ctx: Context): Promise<void> {
  const file = fileURLToPath(import.meta.resolve('@exaworks/jpsi-core/schema/jobspec.schema.json'));
  ctx.out(await readFile(file, 'utf8'));
}
