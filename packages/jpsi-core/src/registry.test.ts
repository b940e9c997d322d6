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
  });
  it('fails for an unknown executor listing what is available', async () => {
    const err = await getExecutor('no-such-thing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownExecutorError);
    expect((err as UnknownExecutorError).code).toBe(ErrorCode.UNKNOWN_EXECUTOR);
    expect((err as Error).message).toContain('fake-test');
    expect((err as Error).message).toContain('@exaworks/executors-no-such-thing');
  });
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
  });
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
