// Builds schema/jobspec.schema.json: the zod schemas' JSON Schema (from dist) with each field's
// description read from the TSDoc of the input types in src (the one place fields are documented).
import { readFileSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
// Straight from the built module: the internal subpath stays free of zod for the CLI's read-only commands.
import { generateJobSpecJsonSchema } from '../dist/json-schema.js';

const src = (file) => new URL(`../src/${file}`, import.meta.url);

/** `{ TypeName: { field: description } }` for the object type aliases of a source file. */
function fieldDocs(file) {
  const text = readFileSync(src(file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = {};
  for (const statement of source.statements) {
    if (!ts.isTypeAliasDeclaration(statement) || !ts.isTypeLiteralNode(statement.type)) continue;
    const fields = {};
    for (const member of statement.type.members) {
      if (!ts.isPropertySignature(member) || !member.name) continue;
      const doc = ts.getJSDocCommentsAndTags(member).find(ts.isJSDoc);
      if (!doc) continue;
      const words = (c) => (typeof c === 'string' ? c : (c ?? []).map((part) => part.text).join(''));
      let description = words(doc.comment).replace(/\s+/g, ' ').trim();
      for (const tag of doc.tags ?? []) {
        const value = words(tag.comment).replace(/\s+/g, ' ').trim();
        if (tag.tagName.text === 'default') description += ` Default: ${value}.`;
        if (tag.tagName.text === 'deprecated') description += ` Deprecated: ${value}.`;
      }
      fields[member.name.getText(source)] = description.replace(/\{@link ([^}]+)\}/g, '$1').trim();
    }
    out[statement.name.text] = fields;
  }
  return out;
}

const docs = { ...fieldDocs('spec.ts'), ...fieldDocs('psij-json.ts') };
const camelType = {
  '': 'JobSpecInput',
  resources: 'ResourceSpecInput',
  attributes: 'JobAttributesInput',
  stageIn: 'StageInInput',
  stageOut: 'StageOutInput',
};
const psijType = { '': 'PsijJobSpecJson', resources: 'PsijResourcesJson', attributes: 'PsijAttributesJson' };
const camelCase = (snake) => snake.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** The describer: psij fields without their own doc borrow the camelCase field's. */
export function describe(form, path, field) {
  const key = path.join('.');
  const camel = docs[camelType[key]]?.[form === 'camel' ? field : camelCase(field)];
  if (form === 'camel') return camel;
  const own = docs[psijType[key]]?.[field];
  return own || camel;
}

export function buildSchemaText() {
  return generateJobSpecJsonSchema(describe);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  writeFileSync(new URL('../schema/jobspec.schema.json', import.meta.url), buildSchemaText());
}
