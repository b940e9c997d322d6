/**
 * Level 1: packages meet only through jpsi-core's interfaces. A launcher that no @exaworks package
 * knows about, registered in jpsi-core's registry, is picked up by the local executor by name, and
 * its command runs inside the launcher package's job script (pre-launch, environment, exit code).
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobExecutor, type JobSpec, UnknownLauncherError, getExecutor, registerLauncher } from '@exaworks/jpsi-core';

describe('a third-party launcher through the registry, run by the local executor', () => {
  let ex: JobExecutor;
  let tmp: string;
  const seen: JobSpec[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'exa-l1-'));
    registerLauncher({
      name: 'tagged',
      create: () => ({
        name: 'tagged',
        // Runs the program once per process, prefixing each line with its index: a launcher of our own making.
        async launchCommand(spec) {
          seen.push(spec);
          const script = 'i=0; while [ "$i" -lt "$TAGGED_N" ]; do "$@" | sed "s/^/[$i] /" || exit $?; i=$((i+1)); done';
          return {
            argv: ['/bin/sh', '-c', script, 'tagged', spec.executable, ...spec.arguments],
            env: { TAGGED_N: String(spec.resources.computedProcessCount) },
          };
        },
      }),
    });
    ex = await getExecutor('local', { workDirectory: path.join(tmp, 'work'), maxCores: 2 });
  });
  afterAll(async () => {
    await ex?.close();
  });

  it('runs the job through the registered launcher with the spec it was given', async () => {
    const out = path.join(tmp, 'out.txt');
    const pre = path.join(tmp, 'pre.sh');
    await writeFile(pre, 'export GREETING="hello from pre-launch"\n');
    const job = await ex.submit({
      executable: '/bin/sh',
      arguments: ['-c', 'echo "$GREETING"'],
      launcher: 'tagged',
      preLaunch: pre,
      resources: { processCount: 2 },
      stdoutPath: out,
    });
    expect(await job.wait({ timeout: 30_000 })).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(await readFile(out, 'utf8')).toBe('[0] hello from pre-launch\n[1] hello from pre-launch\n');
    expect(seen.at(-1)?.launcher).toBe('tagged');
  });

  it('fails a job naming an unknown launcher with the registry’s typed error, listing what exists', async () => {
    const error = await ex.submit({ executable: '/bin/true', launcher: 'no-such-launcher' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownLauncherError);
    expect((error as Error).message).toMatch(/tagged/);
    expect((error as Error).message).toMatch(/mpirun/);
  });
});
