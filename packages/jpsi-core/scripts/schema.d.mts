/** The text of schema/jobspec.schema.json as the zod schemas and the input types' TSDoc give it now. */
export function buildSchemaText(): string;
/** A field's description, for form `camel` or `psij`, in the object at `path`. */
export function describe(form: 'camel' | 'psij', path: readonly string[], field: string): string | undefined;
