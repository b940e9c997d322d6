#!/usr/bin/env node
// Runs one benchmark: `npm run bench -- <name> [args…]` builds the packages (turbo, cached) and then
// runs bench/<name>.ts with tsx. Without a name it lists the benchmarks.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(benchDir);

/** The benchmarks: bench/*.ts, each with the first line of its leading comment as description. */
function benches() {
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('_'))
    .sort()
    .map((f) => {
      const text = readFileSync(path.join(benchDir, f), 'utf8');
      const comment = /^\s*(?:\/\*\*?\s*\n?\s*\*?\s*|\/\/\s*)(.+)$/m.exec(text);
      return { name: f.slice(0, -3), description: (comment?.[1] ?? '').replace(/\*\/\s*$/, '').trim() };
    });
}

/** @param {(line: string) => void} out */
function list(out) {
  const all = benches();
  if (all.length === 0) {
    out('No benchmarks in bench/ yet.');
    return;
  }
  out('Benchmarks (run one with `npm run bench -- <name> [args…]`):');
  const width = Math.max(...all.map((b) => b.name.length));
  for (const b of all) out(`  ${b.name.padEnd(width)}  ${b.description}`);
}

/**
 * @param {string} command
 * @param {string[]} args
 * @returns {number} the exit status
 */
function run(command, args) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env },
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const argv = process.argv.slice(2);
const skipBuild = argv[0] === '--no-build';
if (skipBuild) argv.shift();
const [name, ...rest] = argv;

if (!name || name === '--help' || name === '-h') {
  list(console.log);
  process.exit(0);
}
if (!benches().some((b) => b.name === name)) {
  console.error(`Unknown benchmark "${name}".`);
  list(console.error);
  process.exit(2);
}
if (!skipBuild) {
  const turbo = path.join(root, 'node_modules', '.bin', 'turbo');
  const status = run(turbo, ['run', 'build', '--output-logs=errors-only']);
  if (status !== 0) process.exit(status);
}
// `node --import tsx` runs TypeScript without a separate tsx binary on PATH.
process.exit(run(process.execPath, ['--import', 'tsx', path.join(benchDir, `${name}.ts`), ...rest]));
