import { describe, expect, it } from 'vitest';
import { createJobSpec, ValidationError, type LaunchContext } from '@exaworks/jpsi-core';
import { createLauncher, launcherNames } from './providers.js';

/** The issue paths of the ValidationError `p` rejects with (fails the test if it resolves or rejects otherwise). */
async function issuePaths(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).issues.map((i) => i.path);
}

describe('launcher configs refuse what cannot reach a command line', () => {
  it.each(['mpirun', 'srun', 'jsrun', 'aprun', 'flux'])(
    '%s: a NUL in program or extraArgs is a field-level error',
    async (name) => {
      expect(await issuePaths(createLauncher(name, { program: 'mpi\0run' }))).toEqual(['program']);
      expect(await issuePaths(createLauncher(name, { extraArgs: ['ok', 'a\0b'] }))).toEqual(['extraArgs[1]']);
    },
  );
  it.each(['single', 'multiple'])('%s: takes no options and names the unknown one', async (name) => {
    expect(await issuePaths(createLauncher(name, { program: 'x' }))).toEqual(['program']);
  });
});

describe('launch contexts are validated by every launcher', () => {
  const spec = createJobSpec({ executable: '/bin/true' });
  it.each(launcherNames())('%s: a node file that is not a path string is named', async (name) => {
    // The flavour is fixed so mpirun does not probe a real program here.
    const launcher = await createLauncher(name, name === 'mpirun' ? { flavour: 'openmpi' } : undefined);
    expect(await issuePaths(launcher.launchCommand(spec, { nodeFile: 5 } as unknown as LaunchContext))).toEqual(['nodeFile']);
    expect(await issuePaths(launcher.launchCommand(spec, { signal: 'stop' } as unknown as LaunchContext))).toEqual(['signal']);
    const ok = await launcher.launchCommand(spec, { nodeFile: '/tmp/nodes' });
    expect(ok.argv).toContain('/bin/true');
  });
});
