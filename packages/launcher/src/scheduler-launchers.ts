/**
 * Launchers of batch systems, run inside an allocation: `srun` (Slurm), `jsrun` (LSF / IBM CSM,
 * Summit-class machines), `aprun` (Cray ALPS) and `flux` (`flux run`, inside a Flux instance).
 * @module
 */
import { z } from 'zod';
import {
  createJobSpec,
  parseWith,
  type JobSpec,
  type LaunchCommand,
  type LaunchContext,
  type Launcher,
} from '@exaworks/jpsi-core';
import { hasNoNul, throwIfAborted } from '@exaworks/jpsi-core/internal';
import { parseLaunchContext, programArgv } from './basic.js';

/** Configuration of the `srun`, `jsrun` and `aprun` launchers. */
export const SchedulerLauncherConfigSchema = z.strictObject({
  /** The program to run: a name looked up on PATH or a path. Default: the launcher's name. */
  program: z.string().min(1, 'program cannot be empty').refine(hasNoNul, 'program cannot contain a NUL character').optional(),
  /** Extra words put right after the program, before the derived flags. */
  extraArgs: z.array(z.string().refine(hasNoNul, 'an argument cannot contain a NUL character')).optional(),
});

/** Input accepted as configuration of the `srun`, `jsrun` and `aprun` launchers. */
export type SchedulerLauncherConfig = z.input<typeof SchedulerLauncherConfigSchema>;

/** True if the spec placed processes on nodes explicitly (else the allocation decides). */
function placed(spec: JobSpec): boolean {
  return spec.resources.nodeCount !== undefined || spec.resources.processesPerNode !== undefined;
}

/**
 * srun flags: `-n P`; `-N nodes --ntasks-per-node K` only when the spec gave a node count or
 * processes per node; `-c C` (cpus per task); `--gpus-per-task G`; `--exclusive`.
 */
export function srunFlags(spec: JobSpec): string[] {
  const r = spec.resources;
  const flags = ['-n', String(r.computedProcessCount)];
  if (placed(spec)) flags.push('-N', String(r.computedNodeCount), '--ntasks-per-node', String(r.computedProcessesPerNode));
  if (r.cpuCoresPerProcess !== undefined) flags.push('-c', String(r.cpuCoresPerProcess));
  if (r.gpuCoresPerProcess !== undefined) flags.push('--gpus-per-task', String(r.gpuCoresPerProcess));
  if (r.exclusiveNodeUse) flags.push('--exclusive');
  return flags;
}

/**
 * jsrun flags, one resource set per process: `-n P` (resource sets), `-a 1` (tasks per resource
 * set), `-c C` (CPUs per resource set, default 1), `-g G` (GPUs per resource set, default 0);
 * `-r K` (resource sets per host) only when the spec gave a node count or processes per node.
 */
export function jsrunFlags(spec: JobSpec): string[] {
  const r = spec.resources;
  const flags = [
    '-n',
    String(r.computedProcessCount),
    '-a',
    '1',
    '-c',
    String(r.cpuCoresPerProcess ?? 1),
    '-g',
    String(r.gpuCoresPerProcess ?? 0),
  ];
  if (placed(spec)) flags.push('-r', String(r.computedProcessesPerNode));
  return flags;
}

/**
 * aprun flags: `-n P` (processing elements); `-N K` (PEs per node) only when the spec gave a
 * node count or processes per node; `-d C` (CPUs per PE) when cores per process are given.
 * aprun has no GPU flag: GPUs come with the node.
 */
export function aprunFlags(spec: JobSpec): string[] {
  const r = spec.resources;
  const flags = ['-n', String(r.computedProcessCount)];
  if (placed(spec)) flags.push('-N', String(r.computedProcessesPerNode));
  if (r.cpuCoresPerProcess !== undefined) flags.push('-d', String(r.cpuCoresPerProcess));
  return flags;
}

/**
 * `flux run` flags: `-n P`; `-N nodes` only when the spec gave a node count or processes per
 * node; `-c C` (cores per task); `-g G` (GPUs per task); `--exclusive`.
 */
export function fluxRunFlags(spec: JobSpec): string[] {
  const r = spec.resources;
  const flags = ['-n', String(r.computedProcessCount)];
  if (placed(spec)) flags.push('-N', String(r.computedNodeCount));
  if (r.cpuCoresPerProcess !== undefined) flags.push('-c', String(r.cpuCoresPerProcess));
  if (r.gpuCoresPerProcess !== undefined) flags.push('-g', String(r.gpuCoresPerProcess));
  if (r.exclusiveNodeUse) flags.push('--exclusive');
  return flags;
}

abstract class SchedulerLauncher implements Launcher {
  abstract readonly name: string;
  private readonly config: z.output<typeof SchedulerLauncherConfigSchema>;

  constructor(config: SchedulerLauncherConfig | undefined, subject: string) {
    this.config = parseWith(SchedulerLauncherConfigSchema, config ?? {}, subject);
  }

  protected abstract flags(spec: JobSpec): string[];

  /** Words between the program and the extra words (a subcommand, e.g. `run` of `flux run`). */
  protected subcommand(): string[] {
    return [];
  }

  /** The program this launcher runs. */
  get program(): string {
    return this.config.program ?? this.name;
  }

  /** The launch command: program, extra words, derived flags, executable and arguments. */
  async launchCommand(spec: JobSpec, context: LaunchContext = {}): Promise<LaunchCommand> {
    throwIfAborted(parseLaunchContext(context).signal);
    const s = createJobSpec(spec);
    return {
      argv: [this.program, ...this.subcommand(), ...(this.config.extraArgs ?? []), ...this.flags(s), ...programArgv(s)],
      env: {},
    };
  }
}

/** `srun` (Slurm), inside an allocation; flags from {@link srunFlags}. */
export class SrunLauncher extends SchedulerLauncher {
  /** Registry name. */
  readonly name = 'srun';
  /** @throws {@link @exaworks/jpsi-core!ValidationError} if `config` is invalid. */
  constructor(config?: SchedulerLauncherConfig) {
    super(config, 'srun launcher config');
  }
  protected flags(spec: JobSpec): string[] {
    return srunFlags(spec);
  }
}

/** `jsrun` (LSF), inside an allocation; flags from {@link jsrunFlags}. */
export class JsrunLauncher extends SchedulerLauncher {
  /** Registry name. */
  readonly name = 'jsrun';
  /** @throws {@link @exaworks/jpsi-core!ValidationError} if `config` is invalid. */
  constructor(config?: SchedulerLauncherConfig) {
    super(config, 'jsrun launcher config');
  }
  protected flags(spec: JobSpec): string[] {
    return jsrunFlags(spec);
  }
}

/** `aprun` (Cray ALPS), inside an allocation; flags from {@link aprunFlags}. */
export class AprunLauncher extends SchedulerLauncher {
  /** Registry name. */
  readonly name = 'aprun';
  /** @throws {@link @exaworks/jpsi-core!ValidationError} if `config` is invalid. */
  constructor(config?: SchedulerLauncherConfig) {
    super(config, 'aprun launcher config');
  }
  protected flags(spec: JobSpec): string[] {
    return aprunFlags(spec);
  }
}

/**
 * `flux run` (Flux), inside a Flux instance such as a `flux batch` job: the tasks get Flux's PMI,
 * so MPI programs run under it without mpirun. Flags from {@link fluxRunFlags}; the program
 * defaults to `flux`, and `extraArgs` follow `run`.
 */
export class FluxRunLauncher extends SchedulerLauncher {
  /** Registry name. */
  readonly name = 'flux';
  /** @throws {@link @exaworks/jpsi-core!ValidationError} if `config` is invalid. */
  constructor(config?: SchedulerLauncherConfig) {
    super(config, 'flux launcher config');
  }
  protected override subcommand(): string[] {
    return ['run'];
  }
  protected flags(spec: JobSpec): string[] {
    return fluxRunFlags(spec);
  }
}
