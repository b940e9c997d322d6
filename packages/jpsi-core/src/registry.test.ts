import { describe, expect, it } from 'vitest';
import { ErrorCode, ExaworksError, UnknownExecutorError, UnknownLauncherError, ValidationError } from './errors.js';
import { getExecutor, getLauncher, listExecutors, listLaunchers, registerExecutor, registerLauncher } from './registry.js';
import type { JobExecutor } from './executor.js';
import { getRuntimeInfo, whichSync } from './info.js';

describe('registry', () => {
  it('creates registered executors and passes config through', async () => {
    const fake = { name: 'fake-test' } as unknown as JobExecutor;
    let got: unknown;
    registerExecutor({
      name: 'fake-test',
      create: (c) => {
        got = c;
        return fake;
      },
    });
    expect(await getExecutor('fake-test', { a: 1 })).toBe(fake);
    expect(got).toEqual({ a: 1 });
    expect(await listExecutors()).toContain('fake-test');
  }, 30_000); // loads installed packages by name: slow on a busy machine
  it('fails for an unknown executor listing what is available', async () => {
    const err = await getExecutor('no-such-thing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownExecutorError);
    expect((err as UnknownExecutorError).code).toBe(ErrorCode.UNKNOWN_EXECUTOR);
    expect((err as Error).message).toContain('fake-test');
    expect((err as Error).message).toContain('@exaworks/executors-no-such-thing');
  }, 30_000); // loads installed packages by name: slow on a busy machine
  it('rejects names that are not package-name safe before importing anything', async () => {
    await expect(getExecutor('../../etc')).rejects.toBeInstanceOf(ValidationError);
    expect(() =>
      registerLauncher({ name: 'Bad Name', create: () => ({ name: 'x', launchCommand: async () => ({ argv: [], env: {} }) }) }),
    ).toThrow(ValidationError);
  });
  it('registers launchers by name and reports unknown ones', async () => {
    const launcher = { name: 'echo-test', launchCommand: async () => ({ argv: ['echo'], env: {} }) };
    registerLauncher({ name: 'echo-test', create: () => launcher });
    expect(await getLauncher('echo-test')).toBe(launcher);
    expect(await listLaunchers()).toContain('echo-test');
    await expect(getLauncher('no-such-launcher')).rejects.toBeInstanceOf(UnknownLauncherError);
  }, 30_000); // loads installed packages by name: slow on a busy machine
});

describe('errors', () => {
  it('carry stable codes, causes and cross-copy instanceof', () => {
    const cause = new Error('root');
    const err = new UnknownLauncherError('x', ['a'], { cause });
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('UnknownLauncherError');
    expect(err).toBeInstanceOf(ExaworksError);
    // An error from another copy of the package: same brand symbol, different class.
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@exaworks/jpsi-core/ExaworksError')]: true });
    expect(foreign).toBeInstanceOf(ExaworksError);
    expect(new Error('plain')).not.toBeInstanceOf(ExaworksError);
    expect(new ValidationError('thing', [{ path: 'a.b', message: 'bad' }]).message).toBe('Invalid thing:\n  - a.b: bad');
  });
});

describe('runtime info', () => {
  it('reports this package, node, cpus and tools on PATH', () => {
    const info = getRuntimeInfo();
    expect(info.packages.map((p) => p.name)).toContain('@exaworks/jpsi-core');
    expect(info.packages.find((p) => p.name === '@exaworks/jpsi-core')?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.node.version).toBe(process.version);
    expect(info.cpus).toBeGreaterThan(0);
    expect(Object.keys(info.schedulers)).toEqual(expect.arrayContaining(['slurm', 'pbs', 'lsf', 'flux']));
    expect(whichSync('sh')).toMatch(/\/sh$/);
    expect(whichSync('definitely-not-a-command-xyz')).toBeNull();
  });
});

describe('registry input validation (names and providers)', () => {
  it('rejects a non-string executor or launcher name with a field-level error', async () => {
    const err = await getExecutor(undefined as unknown as string).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]!.path).toBe('name');
    expect((err as ValidationError).issues[0]!.message).toContain('must be a string');
    await expect(getLauncher(42 as unknown as string)).rejects.toBeInstanceOf(ValidationError);
  }, 30_000); // loads installed packages by name: slow on a busy machine
  it('rejects a provider without a name or without create, naming the field', () => {
    let err: unknown;
    try {
      registerExecutor({ create: () => ({}) } as unknown as Parameters<typeof registerExecutor>[0]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['name']);
    try {
      registerLauncher({ name: 'no-create' } as unknown as Parameters<typeof registerLauncher>[0]);
    } catch (e) {
      err = e;
    }
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['create']);
    expect((err as ValidationError).subject).toBe('launcher provider');
  });
});

describe('registry: an installed package that fails to load', () => {
  it('becomes an ExaworksError with a stable code, the package named and the loader error as cause', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'exaworks-broken-'));
    const pkg = path.join(dir, 'node_modules', '@exaworks', 'executors-broken');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      path.join(pkg, 'package.json'),
      JSON.stringify({ name: '@exaworks/executors-broken', version: '0.0.0', type: 'module', main: 'index.js' }),
    );
    writeFileSync(path.join(pkg, 'index.js'), 'export const executorProvider = {;\n'); // a syntax error, as from a broken build
    const before = process.cwd();
    process.chdir(dir);
    try {
      const err = await getExecutor('broken').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExaworksError);
      expect((err as ExaworksError).code).toBe(ErrorCode.UNKNOWN_EXECUTOR);
      expect((err as Error).message).toContain('@exaworks/executors-broken is installed but could not be loaded');
      expect((err as Error).cause).toBeInstanceOf(SyntaxError);
    } finally {
      process.chdir(before);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000); // loads installed packages by name: slow on a busy machine
});
