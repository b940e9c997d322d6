import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError } from './errors.js';
import { jobSpecFromDocument, jobSpecFromPsijJson, jobSpecToPsijJson, psijDerivedResources } from './psij-json.js';
import { createJobSpec } from './spec.js';
import { specInputArb } from './test-support/arbitraries.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/psij');
const fixtureNames = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && !f.endsWith('.derived.json'));

describe('psij-python JSON fixtures', () => {
  it('finds the fixtures', () => {
    expect(fixtureNames.length).toBeGreaterThanOrEqual(14);
  });
  it.each(fixtureNames)('%s parses and re-serializes to an equal document', (name) => {
    const doc = JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
    const spec = jobSpecFromPsijJson(doc);
    expect(JSON.parse(JSON.stringify(jobSpecToPsijJson(spec)))).toEqual(doc);
    // The same document read as text, and through the form-detecting reader, gives the same spec.
    expect(jobSpecFromPsijJson(readFileSync(path.join(FIXTURES, name), 'utf8'))).toEqual(spec);
    expect(jobSpecFromDocument(doc)).toEqual(spec);
    const derived = path.join(FIXTURES, name.replace(/\.json$/, '.derived.json'));
    try {
      expect(psijDerivedResources(spec)).toEqual(JSON.parse(readFileSync(derived, 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  });
  it('reads psij-python durations correctly (where psij-python itself reads 0 s)', () => {
    const spec = jobSpecFromPsijJson(readFileSync(path.join(FIXTURES, 'attributes-full.json'), 'utf8'));
    expect(spec.attributes.duration).toBe(5400);
    expect(spec.attributes.customAttributes['lsf.x']).toBe(1);
  });
});

describe('psij-python JSON errors', () => {
  it('names fields in snake_case as the document spells them', () => {
    const issuesOf = (doc: unknown) => {
      try {
        jobSpecFromPsijJson(doc);
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).issues.map((i) => i.path);
      }
      throw new Error('expected failure');
    };
    expect(issuesOf({ executable: 'x', resources: { node_count: 0 } })).toEqual(['resources.node_count']);
    expect(issuesOf({ executable: 'x', resources: { process_count: -2 } })).toEqual(['resources.process_count']);
    expect(issuesOf({ executable: 'x', resources: { node_count: 2, process_count: 3 } })).toEqual(['resources.process_count']);
    expect(issuesOf({ executable: 'x', attributes: { duration: 'never' } })).toEqual(['attributes.duration']);
    expect(issuesOf({ executable: 'x', stdout_pth: 'typo' })).toEqual(['stdout_pth']);
    expect(issuesOf('{not json')).toEqual(['']);
  });
});

describe('psij-python JSON round trip (property)', () => {
  it('spec → psij JSON → spec keeps everything psij-python carries', () => {
    fc.assert(
      fc.property(specInputArb, (input) => {
        const spec = createJobSpec(input);
        const doc = JSON.parse(JSON.stringify(jobSpecToPsijJson(spec)));
        const back = jobSpecFromPsijJson(doc);
        expect(back).toEqual(spec);
        expect(jobSpecToPsijJson(back)).toEqual(doc);
      }),
    );
  });
});
