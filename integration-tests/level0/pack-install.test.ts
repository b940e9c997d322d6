/**
 * Level 0 interoperability: every public `@exaworks/*` package, packed by npm exactly as it would be
 * published, installs together into a fresh project and works there: each imports as ESM in a real
 * `node` process, `getRuntimeInfo` reports the packed versions, a job runs on the local executor,
 * and the installed `exaworks` bin runs a job. Needs the packages built (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The public packages the SDK ships today; a package added to packages/ must be added here. */
const EXPECTED_PACKAGES = [
  '@exaworks/cli',
  '@exaworks/executors-batch',
  '@exaworks/executors-cobalt',
  '@exaworks/executors-flux',
  '@exaworks/executors-local',
  '@exaworks/executors-lsf',
  '@exaworks/executors-pbs',
  '@exaworks/executors-slurm',
  '@exaworks/jpsi-core',
  '@exaworks/launcher',
];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: string | Record<string, string>;
  dir: string;
}

interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The workspace packages that are published (not private), read from packages/*. */
async function publicPackages(): Promise<Manifest[]> {
  const dirs = await readdir(path.join(repoRoot, 'packages'));
  const manifests: Manifest[] = [];
  for (const d of dirs) {
    const dir = path.join(repoRoot, 'packages', d);
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const m = JSON.parse(await readFile(file, 'utf8')) as Omit<Manifest, 'dir'>;
    if (!m.private) manifests.push({ ...m, dir });
  }
  return manifests.sort((a, b) => a.name.localeCompare(b.name));
}

// Child npm processes must not inherit the outer `npm test`'s workspace settings (npm_* variables),
// except where the cache and user config live, so that the install can be served from the cache.
const KEEP_NPM = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig']);
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((k.toLowerCase().startsWith('npm_') && !KEEP_NPM.has(k.toLowerCase())) || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** Runs a real process; never throws on a non-zero exit (the test asserts on `code` with the output). */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? childEnv(), timeout: options.timeout ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${command} ${args.join(' ')} did not run: ${error.message}\n${stderr}`, { cause: error }));
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

function describeRun(what: string, r: RunResult): string {
  return `${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

describe('level 0: every public package packed and installed together', () => {
  let manifests: Manifest[] = [];
  let work = '';
  let project = '';
  let home = '';
  let npmCache = '';
  const packed = new Map<string, PackResult>();

  beforeAll(async () => {
    manifests = await publicPackages();
    const unbuilt = manifests.filter((m) => !existsSync(path.join(m.dir, 'dist', 'index.js'))).map((m) => m.name);
    if (unbuilt.length) throw new Error(`Not built: ${unbuilt.join(', ')}. Run \`npm run build\` first (\`npm test\` does).`);

    work = await mkdtemp(path.join(os.tmpdir(), 'exaworks-level0-'));
    const packDir = path.join(work, 'tarballs');
    project = path.join(work, 'project');
    home = path.join(work, 'home');
    await Promise.all([mkdir(packDir), mkdir(project), mkdir(home)]);

    const pack = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir, ...manifests.flatMap((m) => ['-w', m.name])],
      {
        cwd: repoRoot,
      },
    );
    if (pack.code !== 0) throw new Error(describeRun('npm pack', pack));
    for (const entry of JSON.parse(pack.stdout) as PackResult[]) packed.set(entry.name, entry);

    npmCache = (await run('npm', ['config', 'get', 'cache'], { cwd: project })).stdout.trim();
    await writeFile(
      path.join(project, 'package.json'),
      `${JSON.stringify({ name: 'exaworks-level0-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
    );
    // Third-party dependencies come from the npm cache when they are there (CI ran `npm ci` just before).
    const tarballs = [...packed.values()].map((p) => path.join(packDir, p.filename));
    const install = await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs],
      {
        cwd: project,
        timeout: 180_000,
      },
    );
    if (install.code !== 0) throw new Error(describeRun('npm install of the tarballs', install));
  }, 240_000);

  afterAll(async () => {
    if (work && !process.env.EXAWORKS_KEEP_TMP) await rm(work, { recursive: true, force: true });
  });

  /** Runs an ES module in the consumer project with a real `node`; HOME is a scratch directory. */
  async function runModule(name: string, source: string): Promise<RunResult> {
    const file = path.join(project, name);
    await writeFile(file, source);
    return run(process.execPath, [file], { cwd: project, env: childEnv({ HOME: home }), timeout: 60_000 });
  }

  it('packs exactly the public packages, at their manifest versions', () => {
    expect(manifests.map((m) => m.name)).toEqual(EXPECTED_PACKAGES);
    expect([...packed.keys()].sort()).toEqual(EXPECTED_PACKAGES);
    for (const m of manifests) expect(packed.get(m.name)?.version, m.name).toBe(m.version);
  });

  it('ships each build, its sources (for source maps), README and bin, and no tests or build caches', () => {
    for (const m of manifests) {
      const files = (packed.get(m.name)?.files ?? []).map((f) => f.path);
      expect(files, m.name).toEqual(
        expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'src/index.ts']),
      );
      expect(
        files.filter((f) => /\.test\.|(^|\/)test-support\//.test(f) || f.endsWith('.tsbuildinfo')),
        `${m.name} ships files it should not`,
      ).toEqual([]);
      const bins = typeof m.bin === 'string' ? [m.bin] : Object.values(m.bin ?? {});
      for (const bin of bins) expect(files, `${m.name} bin ${bin}`).toContain(path.posix.normalize(bin));
    }
  });

  it('installs every package from its tarball (copies, not workspace links) with a consistent tree', async () => {
    for (const m of manifests) {
      const installed = path.join(project, 'node_modules', ...m.name.split('/'));
      expect((await lstat(installed)).isSymbolicLink(), `${m.name} is a symlink`).toBe(false);
      const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as { version: string };
      expect(manifest.version, m.name).toBe(m.version);
      // One copy of each SDK package: internal dependency ranges resolve to the packed siblings.
      expect(existsSync(path.join(installed, 'node_modules', '@exaworks')), `${m.name} has a nested @exaworks copy`).toBe(false);
    }
    const ls = await run('npm', ['ls', '--all', '--json'], { cwd: project });
    expect(ls.code, describeRun('npm ls --all', ls)).toBe(0);
  });

  it('imports every package as ESM in a real node process and reports the packed versions', async () => {
    const r = await runModule(
      'imports.mjs',
      `const names = ${JSON.stringify(manifests.map((m) => m.name))};
const exports = {};
for (const name of names) exports[name] = Object.keys(await import(name)).length;
const { getRuntimeInfo, VERSION } = await import('@exaworks/jpsi-core');
const info = getRuntimeInfo();
console.log(JSON.stringify({ exports, coreVersion: VERSION, packages: info.packages, node: info.node.version }));
`,
    );
    expect(r.code, describeRun('imports.mjs', r)).toBe(0);
    const out = JSON.parse(r.stdout) as {
      exports: Record<string, number>;
      coreVersion: string;
      packages: { name: string; version: string; path: string }[];
      node: string;
    };
    for (const m of manifests) expect(out.exports[m.name], `${m.name} exports nothing`).toBeGreaterThan(0);
    expect(out.coreVersion).toBe(manifests.find((m) => m.name === '@exaworks/jpsi-core')?.version);
    expect(out.node).toBe(process.version);
    const reported = Object.fromEntries(out.packages.map((p) => [p.name, p]));
    for (const m of manifests) {
      expect(reported[m.name]?.version, `getRuntimeInfo version of ${m.name}`).toBe(m.version);
      expect(reported[m.name]?.path.startsWith(path.join(project, 'node_modules')), `${m.name} found outside the project`).toBe(
        true,
      );
    }
  });

  it("runs a job through getExecutor('local') from the installed packages", async () => {
    const workDirectory = path.join(work, 'local-executor');
    const stdoutPath = path.join(work, 'job.out');
    const r = await runModule(
      'job.mjs',
      `import { getExecutor, listExecutors } from '@exaworks/jpsi-core';
const executor = await getExecutor('local', { workDirectory: ${JSON.stringify(workDirectory)} });
const job = await executor.submit({ executable: '/bin/echo', arguments: ['hello from level 0'], stdoutPath: ${JSON.stringify(stdoutPath)} });
const status = await job.wait({ timeout: 30000 });
await executor.close();
console.log(JSON.stringify({ executors: await listExecutors(), name: executor.name, version: executor.version, nativeId: job.nativeId ?? null, state: status?.state ?? null, exitCode: status?.exitCode ?? null, states: job.history.map((s) => s.state) }));
`,
    );
    expect(r.code, describeRun('job.mjs', r)).toBe(0);
    const out = JSON.parse(r.stdout) as {
      executors: string[];
      name: string;
      version: string;
      nativeId: string | null;
      state: string | null;
      exitCode: number | null;
      states: string[];
    };
    expect(out.executors).toContain('local');
    expect(out.name).toBe('local');
    expect(out.version).toBe(manifests.find((m) => m.name === '@exaworks/executors-local')?.version);
    expect(out.nativeId).toBeTruthy();
    expect(out, describeRun('job.mjs', r)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(out.states[0]).toBe('NEW');
    expect(out.states.at(-1)).toBe('COMPLETED');
    expect(await readFile(stdoutPath, 'utf8')).toBe('hello from level 0\n');
  });

  it('runs a job through the installed exaworks bin (npx exaworks run -- /bin/echo hi)', async () => {
    const env = childEnv({ HOME: home, npm_config_cache: npmCache });
    const r = await run('npx', ['--no', 'exaworks', 'run', '--', '/bin/echo', 'hi'], { cwd: project, env, timeout: 60_000 });
    expect(r.code, describeRun('npx exaworks run -- /bin/echo hi', r)).toBe(0);
    expect(r.stdout.split('\n')).toContain('hi');
    // After `--` npx passes --version to exaworks instead of answering it itself.
    const version = await run('npx', ['--no', '--', 'exaworks', '--version'], { cwd: project, env, timeout: 60_000 });
    expect(version.code, describeRun('npx -- exaworks --version', version)).toBe(0);
    expect(version.stdout.trim()).toBe(manifests.find((m) => m.name === '@exaworks/cli')?.version);
  });
});
