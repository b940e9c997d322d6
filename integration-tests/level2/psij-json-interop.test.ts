/**
 * Level 2: JSON interop with psij-python. The fixtures are the exact bytes psij-python 0.9.3's
 * serializer wrote; every one must parse, derive the same resources, and re-serialize to an
 * equal document, both through the library and through the installed CLI.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { jobSpecFromPsijJson, jobSpecToPsijJson, psijDerivedResources } from '@exaworks/jpsi-core';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(HERE, '../../../shared/fixtures/psij');
const CLI = path.resolve(HERE, '../../packages/cli/dist/bin.js');
const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && !f.endsWith('.derived.json'));

describe('psij-python JSON interop', () => {
  it('has every fixture described in the fixtures README', () => {
    const readme = readFileSync(path.join(FIXTURES, 'README.md'), 'utf8');
    for (const name of names) expect(readme).toContain(`| ${name.replace(/\.json$/, '')} |`);
  });

  it.each(names)('%s: library round trip is exact and derived resources match psij-python', (name) => {
    const text = readFileSync(path.join(FIXTURES, name), 'utf8');
    const spec = jobSpecFromPsijJson(text);
    expect(JSON.parse(JSON.stringify(jobSpecToPsijJson(spec)))).toEqual(JSON.parse(text));
    const derivedFile = path.join(FIXTURES, name.replace(/\.json$/, '.derived.json'));
    if (names.length && readdirSync(FIXTURES).includes(path.basename(derivedFile))) {
      expect(psijDerivedResources(spec)).toEqual(JSON.parse(readFileSync(derivedFile, 'utf8')));
    }
  });

  it.each(names)('%s: `exaworks spec convert --to json` prints an equal document', async (name) => {
    const file = path.join(FIXTURES, name);
    const { stdout } = await run(process.execPath, [CLI, 'spec', 'convert', file, '--to', 'json']);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});
