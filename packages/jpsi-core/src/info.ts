/**
 * Runtime information (an ExaWorks SDK policy): which `@exaworks/*` packages are installed, at
 * which versions, and what this system offers (Node, OS, CPUs, schedulers and MPI launchers on PATH).
 * @module
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installedExaworksPackages } from './registry.js';

/** This package's version, read from its package.json. */
export const VERSION: string = readPackageVersion(new URL('../package.json', import.meta.url));

/** Reads `version` from a package.json; `"unknown"` if it cannot be read. */
export function readPackageVersion(packageJson: string | URL): string {
  try {
    const parsed = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Batch schedulers' submit commands, by scheduler. */
export const SCHEDULER_COMMANDS: Readonly<Record<string, string>> = {
  slurm: 'sbatch',
  pbs: 'qsub',
  lsf: 'bsub',
  flux: 'flux',
  cobalt: 'cqsub',
};

/** MPI and parallel launchers looked for on PATH. */
export const LAUNCHER_COMMANDS: readonly string[] = ['mpirun', 'mpiexec', 'srun', 'jsrun', 'aprun'];

/** Everything {@link getRuntimeInfo} reports. */
export interface RuntimeInfo {
  /** Installed `@exaworks/*` packages and their versions. */
  packages: { name: string; version: string; path: string }[];
  node: { version: string; execPath: string };
  os: { platform: string; release: string; arch: string; hostname: string };
  cpus: number;
  memoryBytes: number;
  /** Scheduler name → path of its submit command on PATH, or null. */
  schedulers: Record<string, string | null>;
  /** Launcher command → its path on PATH, or null. */
  launchers: Record<string, string | null>;
}

/** Finds an executable on PATH without running anything. */
export function whichSync(command: string, searchPath: string = process.env.PATH ?? ''): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Versions of the SDK's installed packages plus the system configuration. */
export function getRuntimeInfo(): RuntimeInfo {
  const packages = [...installedExaworksPackages().entries()]
    .map(([name, dir]) => ({ name: `@exaworks/${name}`, version: readPackageVersion(path.join(dir, 'package.json')), path: dir }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const schedulers: Record<string, string | null> = {};
  for (const [name, cmd] of Object.entries(SCHEDULER_COMMANDS)) schedulers[name] = whichSync(cmd);
  const launchers: Record<string, string | null> = {};
  for (const cmd of LAUNCHER_COMMANDS) launchers[cmd] = whichSync(cmd);
  return {
    packages,
    node: { version: process.version, execPath: process.execPath },
    os: { platform: process.platform, release: os.release(), arch: process.arch, hostname: os.hostname() },
    cpus: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    schedulers,
    launchers,
  };
}
