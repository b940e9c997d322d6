/**
 * Level 0, packaging a maintainer would sign off: every public package in packages/* (read anew on
 * each run, so packages added later are covered) carries the MIT LICENSE, keywords, homepage, bugs and
 * repository fields, caret ranges for its runtime dependencies, an internal range its sibling's
 * version satisfies, a package.json that `npm pkg fix` leaves alone, and a `npm publish --dry-run`
 * without warnings; an unreleased package (0.0.0) comes out of the pending changesets as 0.1.0.
 * publint and arethetypeswrong run over the packed tarballs in pack-install.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const REPO_URL = 'git+https://github.com/exaworks/sdk-typescript.git';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  keywords?: string[];
  homepage?: string;
  bugs?: { url?: string } | string;
  repository?: { type?: string; url?: string; directory?: string };
  files?: string[];
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
interface Pkg {
  dir: string;
  folder: string;
  manifest: Manifest;
}

async function publicPackages(): Promise<Pkg[]> {
  const out: Pkg[] = [];
  for (const folder of (await readdir(path.join(repoRoot, 'packages'))).sort()) {
    const dir = path.join(repoRoot, 'packages', folder);
    if (!existsSync(path.join(dir, 'package.json'))) continue;
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as Manifest;
    if (!manifest.private) out.push({ dir, folder, manifest });
  }
  return out;
}

// Child npm processes must not inherit the outer `npm test`'s npm_* settings.
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') && k !== 'INIT_CWD') env[k] = v;
  return {
    ...env,
    NO_UPDATE_NOTIFIER: '1',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };
}
function run(command: string, args: string[], cwd: string, timeout = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: childEnv(), timeout, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}${error && code === -1 ? `\n${error.message}` : ''}` });
    });
  });
}

/** Does `version` satisfy the caret range `range` (^x.y.z, with npm's 0.x rules)? */
export function caretAdmits(range: string, version: string): boolean {
  const r = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!r || !v) return false;
  const [a, b, c] = r.slice(1).map(Number) as [number, number, number];
  const [x, y, z] = v.slice(1).map(Number) as [number, number, number];
  if (a > 0) return x === a && (y > b || (y === b && z >= c));
  if (b > 0) return x === 0 && y === b && z >= c;
  return x === 0 && y === 0 && z === c;
}

let pkgs: Pkg[] = [];
let scratch = '';
beforeAll(async () => {
  pkgs = await publicPackages();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'exaworks-packaging-'));
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('level 0: packaging metadata of every public package', () => {
  it('finds the public packages (the four foundation packages among them)', () => {
    expect(pkgs.map((p) => p.manifest.name)).toEqual(
      expect.arrayContaining(['@exaworks/cli', '@exaworks/executors-local', '@exaworks/jpsi-core', '@exaworks/launcher']),
    );
  });

  it('ships the MIT LICENSE of the repository root in every package', async () => {
    const license = await readFile(path.join(repoRoot, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    for (const { dir, folder, manifest } of pkgs) {
      expect(manifest.license, `${manifest.name}: "license"`).toBe('MIT');
      expect(manifest.files ?? [], `${manifest.name}: add "LICENSE" to "files"`).toContain('LICENSE');
      const own = existsSync(path.join(dir, 'LICENSE')) ? await readFile(path.join(dir, 'LICENSE'), 'utf8') : '';
      expect(own, `packages/${folder}/LICENSE must be a copy of the root LICENSE`).toBe(license);
    }
  });

  it('has keywords, homepage, bugs and a repository pointing at its folder', () => {
    for (const { folder, manifest } of pkgs) {
      const n = manifest.name;
      expect(manifest.keywords?.length ?? 0, `${n}: "keywords" (a non-empty array)`).toBeGreaterThan(0);
      expect(manifest.keywords, `${n}: "keywords" should include "exaworks"`).toContain('exaworks');
      expect(manifest.homepage, `${n}: "homepage"`).toBe(
        `https://github.com/exaworks/sdk-typescript/tree/main/packages/${folder}#readme`,
      );
      const bugs = typeof manifest.bugs === 'string' ? manifest.bugs : manifest.bugs?.url;
      expect(bugs, `${n}: "bugs.url"`).toBe('https://github.com/exaworks/sdk-typescript/issues');
      expect(manifest.repository, `${n}: "repository"`).toEqual({ type: 'git', url: REPO_URL, directory: `packages/${folder}` });
    }
  });

  it('takes runtime dependencies as caret ranges, internal ones admitting the sibling version', () => {
    const versions = new Map(pkgs.map((p) => [p.manifest.name, p.manifest.version]));
    const problems: string[] = [];
    for (const { manifest } of pkgs) {
      const deps = { ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies };
      for (const [dep, range] of Object.entries(deps)) {
        if (!/^\^\d+\.\d+\.\d+$/.test(range)) problems.push(`${manifest.name}: ${dep} "${range}" is not a caret range (^x.y.z)`);
        const sibling = versions.get(dep);
        if (sibling !== undefined && !caretAdmits(range, sibling))
          problems.push(`${manifest.name}: ${dep} "${range}" does not admit the workspace's ${dep}@${sibling}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('caretAdmits follows npm for 0.x ranges (so the check above can fail)', () => {
    expect(caretAdmits('^0.0.0', '0.0.0')).toBe(true);
    expect(caretAdmits('^0.0.0', '0.1.0')).toBe(false);
    expect(caretAdmits('^0.1.0', '0.1.3')).toBe(true);
    expect(caretAdmits('^0.1.0', '0.2.0')).toBe(false);
    expect(caretAdmits('^1.2.0', '1.9.0')).toBe(true);
    expect(caretAdmits('1.2.0', '1.2.0')).toBe(false);
  });

  it('has a package.json that `npm pkg fix` leaves unchanged', async () => {
    for (const { dir, folder, manifest } of pkgs) {
      // A copy with the bin files beside it: npm pkg fix checks that they exist.
      const copy = path.join(scratch, 'pkg-fix', folder);
      await mkdir(copy, { recursive: true });
      await copyFile(path.join(dir, 'package.json'), path.join(copy, 'package.json'));
      const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
      for (const b of bins) {
        await mkdir(path.dirname(path.join(copy, b)), { recursive: true });
        await copyFile(path.join(dir, b), path.join(copy, b));
      }
      const r = await run('npm', ['pkg', 'fix'], copy);
      expect(r.code, `${manifest.name}: npm pkg fix\n${r.out}`).toBe(0);
      const fixed = JSON.parse(await readFile(path.join(copy, 'package.json'), 'utf8')) as unknown;
      expect(fixed, `${manifest.name}: npm pkg fix would change package.json`).toEqual(manifest);
    }
  }, 300_000);

  it('publishes (--dry-run) without npm correcting or warning about package.json', async () => {
    for (const { dir, manifest } of pkgs) {
      const r = await run('npm', ['publish', '--dry-run', '--ignore-scripts', '--tag', 'dry-run'], dir, 240_000);
      expect(r.code, `${manifest.name}: npm publish --dry-run\n${r.out}`).toBe(0);
      // The only expected warning: nobody is logged in to the registry in a test.
      const warnings = r.out.split('\n').filter((l) => /npm warn publish/.test(l) && !/requires you to be logged in/.test(l));
      expect(warnings, `${manifest.name}: npm publish --dry-run warns`).toEqual([]);
    }
  }, 600_000);

  it('releases every unreleased package (0.0.0, no CHANGELOG.md) as 0.1.0 from the pending changesets', async () => {
    // The plan `changeset status` prints, computed without git (a CI clone may be shallow or lack `main`).
    const { default: getReleasePlan } = await import('@changesets/get-release-plan');
    const plan = await getReleasePlan(repoRoot);
    const planned = new Map(plan.releases.map((x) => [x.name, x.newVersion]));
    // A package never released (no CHANGELOG.md yet: `changeset version` writes it) sits at 0.0.0,
    // so that its first `minor` changeset makes 0.1.0 (0.1.0 + minor would make 0.2.0).
    for (const { dir, manifest } of pkgs.filter((p) => !existsSync(path.join(p.dir, 'CHANGELOG.md')))) {
      expect(manifest.version, `${path.relative(repoRoot, dir)}: an unreleased package has version 0.0.0`).toBe('0.0.0');
      expect(
        planned.get(manifest.name),
        `${manifest.name}: add a \`minor\` changeset (.changeset/*.md) for its first release`,
      ).toBe('0.1.0');
    }
  }, 90_000);
});
