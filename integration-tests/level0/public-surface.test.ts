/** Every package's entry point is a curated list of named exports: no `export *` can widen a public API by accident. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const packagesDir = new URL('../../packages/', import.meta.url);
const entryPoints = readdirSync(packagesDir)
  .map((name) => new URL(`${name}/src/index.ts`, packagesDir))
  .filter((file) => existsSync(file));

describe('package entry points', () => {
  it('finds the packages', () => {
    expect(entryPoints.length).toBeGreaterThanOrEqual(12);
  });
  it.each(entryPoints.map((file) => [file.pathname.split('/packages/')[1], file] as const))(
    '%s has named exports only',
    (_name, file) => {
      expect(readFileSync(file, 'utf8')).not.toMatch(/^export \* from/m);
    },
  );
});
