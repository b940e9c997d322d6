/**
 * The `mpirun` launcher: Open MPI or MPICH (Hydra), detected once per process and program.
 * @module
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  AbortedError,
  createJobSpec,
  LauncherError,
  parseWith,
  type JobSpec,
  type LaunchCommand,
  type LaunchContext,
  type Launcher,
} from '@exaworks/jpsi-core';
import { hasNoNul, throwIfAborted } from '@exaworks/jpsi-core/internal';
import { jobShell, parseLaunchContext, programArgv } from './basic.js';
import type { Same } from '@exaworks/jpsi-core/internal';

/** Which MPI implementation an `mpirun` belongs to. `generic` gets only `-n`. */
export type MpiFlavour = 'openmpi' | 'mpich' | 'generic';

/** Configuration of {@link MpirunLauncher}. Every field is optional. */
export type MpirunConfig = {
  /**
   * The mpirun program: a name looked up on PATH, or a path.
   * @default 'mpirun'
   */
  program?: string;
  /**
   * Which MPI's flags to use, instead of detecting them.
   * @default detected from `<program> --version`
   */
  flavour?: MpiFlavour;
  /**
   * Open MPI only: pass `--oversubscribe` (allow more processes than slots), as psij-python does:
   * a job asks for processes, not cores, and the scheduler already sized the allocation.
   * @default true
   */
  oversubscribe?: boolean;
  /**
   * Run mpirun through the shipped `report-launch.sh`, so that a failure of mpirun itself (before
   * any rank started) becomes the job's FAILED message, quoting mpirun's own error.
   * @default true
   */
  reportFailures?: boolean;
  /** Extra words put right after the program, before the derived flags. */
  extraArgs?: string[];
};

const mpirunConfigSchema = z.strictObject({
  program: z.string().min(1, 'program cannot be empty').refine(hasNoNul, 'program cannot contain a NUL character').optional(),
  flavour: z.enum(['openmpi', 'mpich', 'generic']).optional(),
  oversubscribe: z.boolean().optional(),
  reportFailures: z.boolean().optional(),
  extraArgs: z.array(z.string().refine(hasNoNul, 'an argument cannot contain a NUL character')).optional(),
});

/**
 * The zod schema of {@link MpirunConfig} (checked against it at compile time).
 * @internal
 */
export const MpirunConfigSchema: z.ZodType<MpirunConfig, MpirunConfig> = mpirunConfigSchema;

const configMatchesSchema: Same<z.input<typeof mpirunConfigSchema>, MpirunConfig> = true;
void configMatchesSchema;

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
 * Path of the shipped `report-launch.sh`, which runs mpirun so that its own failures (as opposed to
 * a rank's) reach the job's FAILED message (see {@link @exaworks/jpsi-core!LaunchCommand.reportsFailures}).
 */
export const REPORT_LAUNCH_SCRIPT: string = fileURLToPath(new URL('../scripts/report-launch.sh', import.meta.url));

/** The distinct host names of a node file, in order; undefined if it cannot be read (not written yet). */
export function nodeFileHosts(file: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const hosts = new Set<string>();
  for (const line of text.split('\n')) {
    const host = line.trim().split(/\s+/)[0];
    if (host) hosts.add(host);
  }
  return [...hosts];
}

const positive = (v: string | undefined): number | undefined => {
  const n = v === undefined ? Number.NaN : Number.parseInt(v, 10);
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

/**
 * How many nodes the batch allocation this process runs in has, from the scheduler's environment
 * (Slurm `SLURM_JOB_NUM_NODES`/`SLURM_NNODES`, PBS `PBS_NODEFILE`, LSF `LSB_MCPU_HOSTS`, Cobalt
 * `COBALT_PARTSIZE`); undefined outside an allocation.
 */
export function allocationNodeCount(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const slurm = positive(env.SLURM_JOB_NUM_NODES) ?? positive(env.SLURM_NNODES);
  if (slurm !== undefined) return slurm;
  if (env.PBS_NODEFILE) {
    const hosts = nodeFileHosts(env.PBS_NODEFILE);
    if (hosts?.length) return hosts.length;
  }
  if (env.LSB_MCPU_HOSTS) {
    const words = env.LSB_MCPU_HOSTS.trim().split(/\s+/);
    return new Set(words.filter((_, i) => i % 2 === 0)).size || undefined;
  }
  return positive(env.COBALT_PARTSIZE);
}

/** Where an mpirun launch may place its processes, decided by {@link mpirunPlacement}. */
export interface MpirunPlacement {
  /** The node file to pass to mpirun (none: mpirun takes the scheduler's allocation, or this host). */
  readonly nodeFile?: string;
  /** True if the spec's per-node placement is dropped because there is only one host. */
  readonly singleHost: boolean;
  /** Why placement was relaxed, for the job's warnings. */
  readonly warning?: string;
}

/**
 * Decides placement for a spec given the executor's node file and the environment:
 *
 * - a node file naming one host, inside a multi-node allocation (scheduler environment): the node
 *   file is a stand-in for "this host" written by an executor that knows no better (`local`), so it
 *   is not passed and mpirun places ranks over the allocation, honouring the spec's placement;
 * - a node file naming one host, elsewhere, for a spec that asks for more than one node: there is
 *   only this host, so per-node placement is dropped and all processes run here (as psij-python
 *   does; with Open MPI, `ppr:K:node` would make mpirun refuse), with a warning;
 * - anything else (several hosts, or a node file not written yet, as for a batch job prepared on a
 *   login node): placement is honoured.
 */
export function mpirunPlacement(
  spec: JobSpec,
  nodeFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): MpirunPlacement {
  const hosts = nodeFile === undefined ? undefined : nodeFileHosts(nodeFile);
  if (hosts?.length !== 1) return nodeFile === undefined ? { singleHost: false } : { nodeFile, singleHost: false };
  if ((allocationNodeCount(env) ?? 1) > 1) return { singleHost: false };
  const r = spec.resources;
  if (r.computedNodeCount <= 1) return { nodeFile: nodeFile!, singleHost: false };
  return {
    nodeFile: nodeFile!,
    singleHost: true,
    warning:
      `the spec asks for ${r.computedNodeCount} nodes × ${r.computedProcessesPerNode} processes per node, but only one host ` +
      `(${hosts[0]}) is available: all ${r.computedProcessCount} processes run on it`,
  };
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
 * - `singleHost` (see {@link mpirunPlacement}): no per-node placement;
 * - a node file: Open MPI `--hostfile F`, MPICH `-f F`;
 * - Open MPI: `--oversubscribe` unless configured off.
 */
export function mpirunFlags(
  spec: JobSpec,
  flavour: MpiFlavour,
  options: { nodeFile?: string; oversubscribe?: boolean; singleHost?: boolean } = {},
): string[] {
  const r = spec.resources;
  const flags = ['-n', String(r.computedProcessCount)];
  if (flavour === 'generic') return flags;
  const placed = !options.singleHost && (r.processesPerNode !== undefined || r.nodeCount !== undefined);
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
 * the detected MPI flavour (see {@link mpirunFlags}) and placement decided by {@link mpirunPlacement}
 * (a node-count/ppn spec runs on the one local host under the local executor, and is honoured in
 * a real allocation). Run through `report-launch.sh` unless `reportFailures` is false. As root, Open MPI's permission variables
 * `OMPI_ALLOW_RUN_AS_ROOT` and `OMPI_ALLOW_RUN_AS_ROOT_CONFIRM` are set in the launch environment.
 */
export class MpirunLauncher implements Launcher {
  /** Registry name. */
  readonly name = 'mpirun';
  private readonly config: MpirunConfig;

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
    const placement = mpirunPlacement(s, context.nodeFile);
    const flags = mpirunFlags(s, flavour, {
      ...(placement.nodeFile !== undefined ? { nodeFile: placement.nodeFile } : {}),
      ...(this.config.oversubscribe !== undefined ? { oversubscribe: this.config.oversubscribe } : {}),
      singleHost: placement.singleHost,
    });
    const env: Record<string, string> = {};
    if (flavour === 'openmpi' && isRoot()) {
      env.OMPI_ALLOW_RUN_AS_ROOT = '1';
      env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = '1';
    }
    const launcherWords = [this.program, ...(this.config.extraArgs ?? []), ...flags];
    const warnings = placement.warning !== undefined ? { warnings: [placement.warning] } : {};
    if (this.config.reportFailures === false) return { argv: [...launcherWords, ...programArgv(s)], env, ...warnings };
    return {
      argv: [jobShell(s), REPORT_LAUNCH_SCRIPT, String(launcherWords.length), ...launcherWords, ...programArgv(s)],
      env,
      reportsFailures: true,
      ...warnings,
    };
  }
}
