/**
 * Start-up cost: `exaworks --version` and `--help` must load commander alone. Walks the static
 * imports of the built bin (what Node loads before any command runs) and checks what they reach.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/**
 * Every local file and bare package reached by static imports from `entry`; `@exaworks/*`
 * packages are followed into their built files (and listed too).
 */
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
      else {
        packages.add(spec);
        if (spec.startsWith('@exaworks/')) todo.push(createRequire(file).resolve(spec));
      }
    }
  }
  return { files, packages };
}

describe('CLI start-up', () => {
  it('the bin loads no package before it knows the command; --version needs nothing else', () => {
    const bin = path.join(DIST, 'bin.js');
    expect(existsSync(bin), `${bin} (build the CLI first)`).toBe(true);
    const { packages } = reach(bin);
    expect([...packages].filter((p) => !p.startsWith('node:'))).toEqual([]);
    expect(readFileSync(bin, 'utf8')).toMatch(/import\('\.\/program\.js'\)/);
  });

  it('the program (every command registered, as for --help) statically reaches commander only', () => {
    const { files, packages } = reach(path.join(DIST, 'program.js'));
    expect([...packages].filter((p) => !p.startsWith('node:')).sort()).toEqual(['commander']);
    // Every command is registered, none of their implementations is loaded.
    const rel = [...files].map((f) => path.relative(DIST, f));
    expect(rel).toEqual(expect.arrayContaining(['commands/run.js', 'commands/status.js', 'commands/spec.js']));
    expect(rel.filter((f) => f.startsWith('actions/'))).toEqual([]);
  });

  it('status and list (local executor) load no zod, no yaml and no executor', () => {
    for (const action of ['status', 'list', 'logs']) {
      const { packages } = reach(path.join(DIST, 'actions', `${action}.js`));
      const bare = [...packages].filter((p) => !p.startsWith('node:')).sort();
      expect(bare, action).toEqual(expect.arrayContaining(['@exaworks/executors-local/inspect', '@exaworks/jpsi-core/internal']));
      expect(
        bare.filter(
          (p) =>
            !['@exaworks/executors-local/inspect', '@exaworks/jpsi-core/internal', '@exaworks/launcher/job-result'].includes(p),
        ),
        action,
      ).toEqual([]);
    }
  });

  it('finds imports in the forms tsc emits (so the walk above cannot pass vacuously)', () => {
    expect(
      staticImports(
        `import { a } from 'x';\nimport * as b from "./y.js";\nimport './z.js';\nexport { c } from 'w';\nconst d = await import('v');`,
      ),
    ).toEqual(['x', './y.js', './z.js', 'w']);
  });
});
