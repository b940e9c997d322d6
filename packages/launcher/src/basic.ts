/**
 * The `single` and `multiple` launchers: no MPI, no scheduler, just processes.
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  createJobSpec,
  LauncherError,
  parseWith,
  type JobSpec,
  type LaunchCommand,
  type LaunchContext,
  type Launcher,
} from '@exaworks/jpsi-core';
import { environmentHasBashFunctions, hasNoNul, throwIfAborted } from '@exaworks/jpsi-core/internal';

const LaunchContextSchema = z.object({
  nodeFile: z.string().min(1, 'nodeFile cannot be empty').refine(hasNoNul, 'nodeFile cannot contain a NUL character').optional(),
  signal: z.instanceof(AbortSignal, { error: 'signal must be an AbortSignal' }).optional(),
});

/** Validates the launch context an executor passes (so a bad node file is named, not quoted blindly). */
export function parseLaunchContext(context: LaunchContext | undefined): LaunchContext {
  return parseWith(LaunchContextSchema, context ?? {}, 'launch context') as LaunchContext;
}

/**
 * The shell that runs a job's script and the launchers' helper scripts: `/bin/bash` when the spec has a
 * pre- or post-launch script (written for bash) or inherits an environment carrying exported bash
 * functions (dash, Debian's `/bin/sh`, drops those on the way to the program), else `/bin/sh`, which
 * starts fastest. The one place this choice is made.
 */
export function jobShell(spec: JobSpec): '/bin/bash' | '/bin/sh' {
  if (spec.preLaunch !== undefined || spec.postLaunch !== undefined) return '/bin/bash';
  return spec.inheritEnvironment && environmentHasBashFunctions() ? '/bin/bash' : '/bin/sh';
}

/** The launch command's executable and arguments: `[executable, ...arguments]`. */
export function programArgv(spec: JobSpec): string[] {
  return [spec.executable, ...spec.arguments];
}

/** The warning `single` gives for a spec that asks for more than one process (undefined for one). */
export function singleLauncherWarning(spec: JobSpec): string | undefined {
  const n = spec.resources.computedProcessCount;
  if (n <= 1) return undefined;
  return `the spec asks for ${n} processes, but the single launcher starts one; set launcher "multiple" or "mpirun" to start ${n}`;
}

/**
 * `single`: runs the executable once, as `[executable, ...arguments]`. Resource counts do not
 * change what runs (as in psij-python), but a spec that asks for more than one process gets a
 * warning (see {@link singleLauncherWarning}) instead of being silently cut to one.
 */
export class SingleLauncher implements Launcher {
  /** Registry name. */
  readonly name = 'single';

  /** The launch command: the program itself. */
  async launchCommand(spec: JobSpec, context: LaunchContext = {}): Promise<LaunchCommand> {
    throwIfAborted(parseLaunchContext(context).signal);
    const s = createJobSpec(spec);
    const warning = singleLauncherWarning(s);
    return warning === undefined ? { argv: programArgv(s), env: {} } : { argv: programArgv(s), env: {}, warnings: [warning] };
  }
}

/**
 * Path of the shipped `multiple.sh` (found next to this module's package at run time, so it
 * works from `src/` under tsx/vitest and from `dist/` once installed).
 */
export const MULTIPLE_SCRIPT: string = fileURLToPath(new URL('../scripts/multiple.sh', import.meta.url));

/**
 * `multiple`: runs `computedProcessCount` copies of the executable in parallel with the shipped
 * `multiple.sh`. Each copy sees `EXAWORKS_RANK` (0-based), `EXAWORKS_SIZE`, and psij-python's
 * `_PSI_J_PROCESS_INDEX_` (1-based) and `_PSI_J_PROCESS_COUNT`; all append to the job's
 * stdout/stderr. The job exits with the exit code of the lowest-ranked failing copy, else 0.
 *
 * argv: `<shell> <multiple.sh> [--stdin <file>] <count> <executable> <arguments…>`, the shell from
 * {@link jobShell} (named explicitly, so that a lost executable bit, as after some package extractions,
 * does not matter). With a `stdinPath` every copy opens that file itself and reads all of it.
 */
export class MultipleLauncher implements Launcher {
  /** Registry name. */
  readonly name = 'multiple';

  /** The launch command: `multiple.sh` with the process count and the program. */
  async launchCommand(spec: JobSpec, context: LaunchContext = {}): Promise<LaunchCommand> {
    throwIfAborted(parseLaunchContext(context).signal);
    const s = createJobSpec(spec);
    if (!existsSync(MULTIPLE_SCRIPT)) {
      throw new LauncherError(`The multiple launcher's script is missing at ${MULTIPLE_SCRIPT}; reinstall @exaworks/launcher.`);
    }
    const stdin = s.stdinPath === undefined ? [] : ['--stdin', s.stdinPath];
    return {
      argv: [jobShell(s), MULTIPLE_SCRIPT, ...stdin, String(s.resources.computedProcessCount), ...programArgv(s)],
      env: {},
    };
  }
}
