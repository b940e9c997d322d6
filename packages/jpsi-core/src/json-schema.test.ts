import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildSchemaText } from '../scripts/schema.mjs';
import { jobSpecJsonSchema, jobSpecJsonSchemaText } from './json-schema.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHIPPED = path.resolve(here, '../schema/jobspec.schema.json');
const FIXTURES = path.resolve(here, '../../../../shared/fixtures/psij');

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(jobSpecJsonSchema());
const valid = (doc: unknown): boolean => validate(doc) === true;

describe('the JSON Schema of spec files', () => {
  it('the shipped schema/jobspec.schema.json is the generated one (run `npm run schema` after changing a schema or its docs)', () => {
    expect(readFileSync(SHIPPED, 'utf8')).toBe(buildSchemaText());
    expect(jobSpecJsonSchemaText()).toBe(readFileSync(SHIPPED, 'utf8'));
    expect(jobSpecJsonSchema()).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', anyOf: [{}, {}] });
  });

  it('describes every field of both forms from the TSDoc of the input types, defaults included', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const o = node as Record<string, unknown>;
      if (typeof o.properties === 'object' && o.properties !== null) {
        for (const [key, value] of Object.entries(o.properties as Record<string, Record<string, unknown>>)) {
          if (typeof value.description !== 'string' || value.description === '') undescribed.push(`${at}.${key}`);
          walk(value, `${at}.${key}`);
        }
      }
      for (const inner of [o.anyOf, o.items].flat()) walk(inner, at);
    };
    const [camel, psij] = jobSpecJsonSchema().anyOf as unknown[];
    walk(camel, 'camel');
    walk(psij, 'psij');
    expect(undescribed).toEqual([]);
    const props = (
      camel as { properties: Record<string, { description: string; properties?: Record<string, { description: string }> }> }
    ).properties;
    expect(props.inheritEnvironment!.description).toMatch(/Default: true\.$/);
    expect(props.resources!.properties!.memory!.description).toMatch(/in bytes/);
  });

  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && !f.endsWith('.derived.json'));
  it('finds the psij-python fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(14);
  });
  it.each(fixtures)('psij-python fixture %s validates', (file) => {
    const doc: unknown = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8'));
    expect(valid(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  it('a camelCase spec with resources, attributes and staging validates', () => {
    const doc = {
      executable: '/bin/hostname',
      arguments: ['-f'],
      environment: { OMP_NUM_THREADS: 4 },
      resources: { nodeCount: 2, processesPerNode: 4, exclusiveNodeUse: true },
      attributes: { duration: '00:10:00', queueName: 'debug', customAttributes: { 'slurm.constraint': 'haswell' } },
      launcher: 'mpirun',
      stageIn: [{ source: 'file:///data/in.txt', target: 'in.txt', mode: 'LINK' }],
      stageOut: [{ source: 'out.txt', target: '/data/out.txt', flags: ['IF_PRESENT', 'ON_SUCCESS'] }],
      cleanup: ['in.txt'],
      cleanupFlags: ['ALWAYS'],
    };
    expect(valid(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['a misspelt field', { executible: '/bin/date' }],
    ['no executable', { arguments: ['x'] }],
    ['a mix of the two forms', { executable: 'x', stdoutPath: 'o', stderr_path: 'e' }],
    ['a count that is not a positive integer', { executable: 'x', resources: { processCount: 0 } }],
    ['a bad staging mode', { executable: 'x', stageIn: [{ source: 'a', target: 'b', mode: 'SYMLINK' }] }],
    ['a custom attribute without an executor prefix', { executable: 'x', attributes: { customAttributes: { constraint: 'a' } } }],
  ])('%s does not validate', (_what, doc) => {
    expect(valid(doc)).toBe(false);
  });
});
