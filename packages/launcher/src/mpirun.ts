/**
 * The `mpirun` launcher: Open MPI or MPICH (Hydra), detected once per process and program.
 * @module
 */
import { spawn } from 'node:child_process';
import { z } from 'zod';
import {
  AbortedError,
  createJobSpec,
  LauncherError,
  parseWith,
  throwIfAborted,
  type JobSpec,
  type LaunchCommand,
  type LaunchContext,
  type Launcher,
} from '@exaworks/jpsi-core';
import { noNul, parseLaunchContext, programArgv } from './basic.js';

/** Which MPI implementation an `mpirun` belongs to. `generic` gets only `-n`. */
export type MpiFlavour = 'openmpi' | 'mpich' | 'generic';

/** Configuration of {@link MpirunLauncher}. */
export const MpirunConfigSchema = z.strictObject({
  /** The mpirun program: a name looked up on PATH or a path. Default `mpirun`. */
  program: z.string().min(1, 'program cannot be empty').refine(noNul, 'program cannot contain a NUL character').optional(),
  /** Skip detection and use these flags. Default: detected from `<program> --version`. */
  flavour: z.enum(['openmpi', 'mpich', 'generic']).optional(),
  /**
   * Open MPI only: pass `--oversubscribe` (allow more processes than slots). Default true, as in
   * psij-python: a job asks for processes, not cores, and the scheduler already sized the allocation.
   */
  oversubscribe: z.boolean().optional(),
  /** Extra words put right after the program, before the derived flags. */
  extraArgs: z.array(z.string().refine(noNul, 'an argument cannot contain a NUL character')).optional(),
});

/** Input accepted as {@link MpirunLauncher} configuration. */
export type MpirunConfig = z.input<typeof MpirunConfigSchema>;

const flavourCache = new Map<string, Promise<MpiFlavour>>();

/** The flavour named by `mpirun --version` output. */
export function flavourFromVersion(output: string): MpiFlavour {
  if (/Open MPI|OpenRTE/i.test(output)) return 'openmpi';
  if (/HYDRA|MPICH|Intel\(R\) MPI|MVAPICH/i.test(output)) return 'mpich';
  return 'generic';
}

// Output beyond this is not needed to tell the flavour apart.
const PROBE_OUTPUT_LIMIT = 64 * 1024;

function notFound(program: string, cause?: unknown): LauncherError {
  return new LauncherError(
    `"${program}" was not found on PATH. Install Open MPI or MPICH (on Debian: scripts/install-mpi.sh, or apt-get install openmpi-bin), ` +
      'or set the mpirun launcher\'s "program" option to its path.',
    cause === undefined ? {} : { cause },
  );
}

/** Runs `<program> --version` with node:child_process (no shell) and reads the flavour from its output. */
function probe(program: string, signal: AbortSignal | undefined): Promise<MpiFlavour> {
  return new Promise<MpiFlavour>((resolve, reject) => {
    let output = '';
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const child = spawn(program, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(() => reject(new LauncherError(`Could not run "${program} --version": no answer within 30 s.`)));
    }, 30_000);
    // An aborted probe returns at once, even if a grandchild still holds the output pipes open.
    const onAbort = (): void => {
      child.kill('SIGKILL');
      settle(() => reject(new AbortedError('Probing the MPI flavour was aborted.', { cause: signal?.reason })));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const read = (chunk: Buffer): void => {
      if (output.length < PROBE_OUTPUT_LIMIT) output += chunk.toString('utf8');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('error', (err: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          err.code === 'ENOENT'
            ? notFound(program, err)
            : new LauncherError(`Could not run "${program} --version": ${err.message}`, { cause: err }),
        ),
      ),
    );
    child.once('close', (code) => settle(() => (code === 127 ? reject(notFound(program)) : resolve(flavourFromVersion(output)))));
  });
}

/**
 * The MPI flavour of `program`, probed with `<program> --version` once per process: callers
 * share one promise. Failures and aborts are not cached, so a later call probes again.
 * @throws {@link @exaworks/jpsi-core!LauncherError} if the program cannot be run; {@link @exaworks/jpsi-core!AbortedError} if `signal` aborts.
 */
export function detectMpiFlavour(program = 'mpirun', signal?: AbortSignal): Promise<MpiFlavour> {
  if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
  let pending = flavourCache.get(program);
  if (!pending) {
    pending = probe(program, signal);
    flavourCache.set(program, pending);
    pending.catch(() => flavourCache.delete(program));
  }
  return pending;
}

/** True if this process runs as root (Open MPI then needs explicit permission). */
function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The mpirun flags for a spec and flavour (without the program and its executable).
 *
 * - always `-n <computedProcessCount>`;
 * - when the spec gave `processesPerNode` or `nodeCount`: Open MPI `--map-by ppr:K:node`,
 *   MPICH `-ppn K` (K = computedProcessesPerNode). Otherwise placement is left to mpirun, so a
 *   bare process count spreads over the allocation instead of being pinned to one node;
 * - `cpuCoresPerProcess` C: Open MPI `:PE=C` on the mapping (`--map-by slot:PE=C` without one),
 *   MPICH `-bind-to core:C`;
 * - a node file: Open MPI `--hostfile F`, MPICH `-f F`;
 * - Open MPI: `--oversubscribe` unless configured off.
 */
export function mpirunFlags(
  spec: JobSpec,
  flavour: MpiFlavour,
  options: { nodeFile?: string; oversubscribe?: boolean } = {},
): string[] {
  const r = spec.resources;
  const flags = ['-n', String(r.computedProcessCount)];
  if (flavour === 'generic') return flags;
  const placed = r.processesPerNode !== undefined || r.nodeCount !== undefined;
  const ppn = String(r.computedProcessesPerNode);
  if (flavour === 'openmpi') {
    if (options.oversubscribe ?? true) flags.push('--oversubscribe');
    const pe = r.cpuCoresPerProcess !== undefined ? `:PE=${r.cpuCoresPerProcess}` : '';
    if (placed) flags.push('--map-by', `ppr:${ppn}:node${pe}`);
    else if (pe) flags.push('--map-by', `slot${pe}`);
    if (options.nodeFile !== undefined) flags.push('--hostfile', options.nodeFile);
  } else {
    if (placed) flags.push('-ppn', ppn);
    if (r.cpuCoresPerProcess !== undefined) flags.push('-bind-to', `core:${r.cpuCoresPerProcess}`);
    if (options.nodeFile !== undefined) flags.push('-f', options.nodeFile);
  }
  return flags;
}

/**
 * `mpirun`: `mpirun -n <processes> [placement flags] <executable> <arguments…>` with the flags of
 * the detected MPI flavour (see {@link mpirunFlags}). As root, Open MPI's permission variables
 * `OMPI_ALLOW_RUN_AS_ROOT` and `OMPI_ALLOW_RUN_AS_ROOT_CONFIRM` are set in the launch environment.
 */
export class MpirunLauncher implements Launcher {
  /** Registry name. */
  readonly name = 'mpirun';
  private readonly config: z.output<typeof MpirunConfigSchema>;

  /** @throws {@link @exaworks/jpsi-core!ValidationError} if `config` is invalid. */
  constructor(config: MpirunConfig = {}) {
    this.config = parseWith(MpirunConfigSchema, config ?? {}, 'mpirun launcher config');
  }

  /** The mpirun program this launcher runs. */
  get program(): string {
    return this.config.program ?? 'mpirun';
  }

  /**
   * The launch command, probing the flavour on first use.
   * @throws {@link @exaworks/jpsi-core!LauncherError} if mpirun cannot be found or run.
   */
  async launchCommand(spec: JobSpec, launchContext: LaunchContext = {}): Promise<LaunchCommand> {
    const context = parseLaunchContext(launchContext);
    const s = createJobSpec(spec);
    const flavour = this.config.flavour ?? (await detectMpiFlavour(this.program, context.signal));
    throwIfAborted(context.signal);
    const flags = mpirunFlags(s, flavour, {
      ...(context.nodeFile !== undefined ? { nodeFile: context.nodeFile } : {}),
      ...(this.config.oversubscribe !== undefined ? { oversubscribe: this.config.oversubscribe } : {}),
    });
    const env: Record<string, string> = {};
    if (flavour === 'openmpi' && isRoot()) {
      env.OMPI_ALLOW_RUN_AS_ROOT = '1';
      env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = '1';
    }
    return { argv: [this.program, ...(this.config.extraArgs ?? []), ...flags, ...programArgv(s)], env };
  }
}
