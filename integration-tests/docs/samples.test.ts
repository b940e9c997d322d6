/**
 * Docs that run: every fenced code sample in README.md, docs/**\/*.md and packages/*\/README.md
 * (found anew on every run, so pages and packages added later are covered) is checked by its fence:
 *
 * - ```` ```ts ```` is a complete program. It is type-checked (strict, NodeNext) and then run with tsx
 *   in a temp project whose node_modules resolves the workspace packages by their published names,
 *   with the real local executor, its own cwd, HOME and TMPDIR (so `os.tmpdir()` and `~/.exaworks`
 *   stay inside the test) and a 120 s limit (they take seconds). It must exit 0.
 * - ```` ```ts fragment ```` is a piece of a program: it is parsed (syntax errors fail), not run.
 * - ```` ```sh ```` / ```` ```bash ```` in README.md and docs/: the blocks of one page run in order in one
 *   `bash -e -o pipefail` session (variables carry from block to block), in a temp directory with
 *   the built `exaworks` bin on PATH. Every command must succeed.
 *   ```` ```sh no-run ```` is a command a user runs but the test must not (installing, `sudo`, `git
 *   clone`, rebuilding this checkout): only its syntax is checked (`bash -n`). In packages' READMEs
 *   shell blocks are syntax-checked only: they show commands out of context (`./a.out`, `job.yaml`).
 * - ```` ```text ```` (and yaml, json, …) is not checked: output, formats, commands not to paste as-is.
 *
 * Any other attribute on a ts or shell fence is an error, so a typo cannot silently skip a sample.
 * Every failure names the Markdown file and line.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/tools.js';
import { type Sample, allSamples, where } from './samples.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const TS_LANGS = new Set(['ts', 'typescript']);
const SH_LANGS = new Set(['sh', 'bash', 'shell']);
// A sample takes a few seconds; the limit is for a 2-core machine shared with other builds (load average 49 was seen).
const SAMPLE_TIMEOUT = 120_000;

const samples = allSamples(repoRoot);
const tsPrograms = samples.filter((s) => TS_LANGS.has(s.lang) && !s.attrs.includes('fragment'));
const tsFragments = samples.filter((s) => TS_LANGS.has(s.lang) && s.attrs.includes('fragment'));
const shellBlocks = samples.filter((s) => SH_LANGS.has(s.lang));
/** Pages whose shell blocks are run (the rest are syntax-checked). */
const runsShell = (s: Sample): boolean => !s.attrs.includes('no-run') && (s.file === 'README.md' || s.file.startsWith('docs/'));

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout: number; input?: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeout, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const why = error && code === null ? `\n(${error.killed ? `killed after ${options.timeout} ms` : error.message})` : '';
        resolve({ code, stdout, stderr: stderr + why });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
const show = (r: RunResult): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

let root = '';
let project = '';
let seq = 0;
/** A fresh directory for one sample's cwd, HOME and TMPDIR. */
function scratch(): { cwd: string; env: NodeJS.ProcessEnv } {
  const base = path.join(root, `run-${seq++}`);
  const cwd = path.join(base, 'cwd');
  const home = path.join(base, 'home');
  const tmp = path.join(base, 'tmp');
  for (const d of [cwd, home, tmp]) mkdirSync(d, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EXAWORKS_') && !k.startsWith('npm_')) env[k] = v;
  return {
    cwd,
    env: {
      ...env,
      HOME: home,
      TMPDIR: tmp,
      EXAWORKS_LOG_LEVEL: 'warn',
      PATH: `${path.join(repoRoot, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    },
  };
}
const sampleFile = (s: Sample): string => `${s.file.replace(/[^A-Za-z0-9]+/g, '_')}_L${s.line}.ts`;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'exaworks-docs-'));
  project = path.join(root, 'project');
  mkdirSync(project);
  // A consumer project: ESM, and node_modules resolving @exaworks/* (workspace links) like an install would.
  writeFileSync(path.join(project, 'package.json'), '{ "name": "docs-samples", "private": true, "type": "module" }\n');
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(project, 'node_modules'), 'dir');
  writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      },
      include: ['*.ts'],
    }),
  );
  for (const s of tsPrograms) writeFileSync(path.join(project, sampleFile(s)), s.code);
});

afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  if (root && !process.env.EXAWORKS_KEEP_TMP) await rm(root, { recursive: true, force: true });
});

describe('docs samples: conventions', () => {
  it('finds the samples of README.md, docs/ and every package README', () => {
    const files = new Set(samples.map((s) => s.file));
    expect(files).toContain('README.md');
    expect(files).toContain('docs/guide/getting-started.md');
    expect(tsPrograms.length).toBeGreaterThan(3);
  });

  it('uses only the documented fence attributes on ts and shell blocks', () => {
    const bad = samples
      .filter(
        (s) =>
          (TS_LANGS.has(s.lang) && s.attrs.some((a) => a !== 'fragment')) ||
          (SH_LANGS.has(s.lang) && s.attrs.some((a) => a !== 'no-run')),
      )
      .map((s) => `${where(s)}: \`\`\`${s.lang} ${s.attrs.join(' ')}`);
    expect(bad, 'ts takes only `fragment`, sh/bash only `no-run`').toEqual([]);
  });
});

describe('docs samples: TypeScript', () => {
  it('parses every ts fragment', () => {
    const errors: string[] = [];
    for (const s of tsFragments) {
      const source = ts.createSourceFile('fragment.ts', s.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
      const diagnostics = (source as unknown as { parseDiagnostics: ts.DiagnosticWithLocation[] }).parseDiagnostics;
      for (const d of diagnostics) {
        const { line } = source.getLineAndCharacterOfPosition(d.start);
        errors.push(`${where(s, line + 1)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      }
    }
    expect(errors).toEqual([]);
  });

  it('type-checks every ts program (strict, NodeNext, against the built packages)', async () => {
    if (tsPrograms.length === 0) return;
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: project, timeout: 240_000 });
    // Map `<sample file>(line,col): error …` back to the Markdown line.
    const byFile = new Map(tsPrograms.map((s) => [sampleFile(s), s]));
    const errors = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const m = /^(.+?\.ts)\((\d+),(\d+)\): (.*)$/.exec(l);
        const s = m && byFile.get(path.basename(m[1]!));
        return s ? `${where(s, Number(m[2]))}: ${m[4]}` : l;
      });
    expect(errors, show(r)).toEqual([]);
    expect(r.code, show(r)).toBe(0);
  }, 300_000);

  const tsx = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  for (const s of tsPrograms) {
    it(
      `runs ${where(s)}`,
      async () => {
        const { cwd, env } = scratch();
        const r = await run(process.execPath, [tsx, path.join(project, sampleFile(s))], { cwd, env, timeout: SAMPLE_TIMEOUT });
        expect(r.code, `${where(s)}: the sample (${sampleFile(s)}, line N = ${s.file}:${s.line}+N) failed\n${show(r)}`).toBe(0);
      },
      SAMPLE_TIMEOUT + 10_000,
    );
  }
});

describe('docs samples: shell', () => {
  it('every shell block parses (bash -n)', async () => {
    const errors: string[] = [];
    for (const s of shellBlocks) {
      const r = await run('bash', ['-n'], { cwd: repoRoot, timeout: 10_000, input: s.code });
      if (r.code !== 0) errors.push(`${where(s)}: ${r.stderr.trim()}`);
    }
    expect(errors).toEqual([]);
  }, 60_000);

  const pages = [...new Set(shellBlocks.filter(runsShell).map((s) => s.file))];
  for (const page of pages) {
    const blocks = shellBlocks.filter((s) => s.file === page && runsShell(s));
    it(`runs the shell blocks of ${page} in order (${blocks.map((b) => `line ${b.line}`).join(', ')})`, async () => {
      if (blocks.some((b) => /\bmpirun\b/.test(b.code)) && !requireTool('mpirun', 'run scripts/ci-setup.sh')) return;
      // One script; a map from its lines back to the page's, and an ERR trap that names the line.
      const lines = ['set -eE -o pipefail', `trap 'echo "__DOCS_FAILED_AT__ $LINENO $?" >&2' ERR`];
      const origin: string[] = ['', ''];
      for (const b of blocks) {
        b.code
          .replace(/\n$/, '')
          .split('\n')
          .forEach((l, i) => {
            lines.push(l);
            origin.push(where(b, i + 1));
          });
      }
      const { cwd, env } = scratch();
      const r = await run('bash', ['-c', lines.join('\n'), page], { cwd, env, timeout: 240_000 });
      const failed = /__DOCS_FAILED_AT__ (\d+) (\d+)/.exec(r.stderr);
      const at = failed ? `${origin[Number(failed[1]) - 1] ?? page} (exit ${failed[2]})` : page;
      expect(r.code, `${at}: a command failed\n${show(r)}`).toBe(0);
    }, 300_000);
  }
});
