/**
 * Start-up cost: `exaworks --version` and `--help` must load commander alone. Walks the static
 * imports of the built bin (what Node loads before any command runs) and checks what they reach.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/** Static import/export-from specifiers of an ES module's source (dynamic import() excluded). */
function staticImports(source: string): string[] {
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(?:[^'"()]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) out.push(m[1]!);
  return out;
}

/** Every local file and bare package reached by static imports from `entry`. */
function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of staticImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

describe('CLI start-up', () => {
  it('the bin statically reaches node built-ins and commander only', () => {
    const bin = path.join(DIST, 'bin.js');
    expect(existsSync(bin), `${bin} (build the CLI first)`).toBe(true);
    const { files, packages } = reach(bin);
    expect([...packages].filter((p) => !p.startsWith('node:')).sort()).toEqual(['commander']);
    // Every command is registered, none of their implementations is loaded.
    const rel = [...files].map((f) => path.relative(DIST, f));
    expect(rel).toEqual(expect.arrayContaining(['commands/run.js', 'commands/status.js', 'commands/spec.js']));
    expect(rel.filter((f) => f.startsWith('actions/'))).toEqual([]);
  });

  it('finds imports in the forms tsc emits (so the walk above cannot pass vacuously)', () => {
    expect(
      staticImports(
        `import { a } from 'x';\nimport * as b from "./y.js";\nimport './z.js';\nexport { c } from 'w';\nconst d = await import('v');`,
      ),
    ).toEqual(['x', './y.js', './z.js', 'w']);
  });
});
