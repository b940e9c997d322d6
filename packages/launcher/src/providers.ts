/**
 * The launchers of this package as registry providers.
 * @module
 */
import { z } from 'zod';
import { parseWith, UnknownLauncherError, type Launcher, type LauncherProvider } from '@exaworks/jpsi-core';
import { MultipleLauncher, SingleLauncher } from './basic.js';
import { MpirunLauncher, type MpirunConfig } from './mpirun.js';
import {
  AprunLauncher,
  FluxRunLauncher,
  JsrunLauncher,
  SrunLauncher,
  type SchedulerLauncherConfig,
} from './scheduler-launchers.js';

// `single` and `multiple` take no options; anything given is a mistake worth reporting.
const NoConfig = z.strictObject({});

/** The launchers of this package, for jpsi-core's registry (which loads them by name). */
export const launcherProviders: readonly LauncherProvider[] = Object.freeze([
  {
    name: 'single',
    create: (config?: unknown) => {
      parseWith(NoConfig, config ?? {}, 'single launcher config');
      return new SingleLauncher();
    },
  },
  {
    name: 'multiple',
    create: (config?: unknown) => {
      parseWith(NoConfig, config ?? {}, 'multiple launcher config');
      return new MultipleLauncher();
    },
  },
  { name: 'mpirun', create: (config?: unknown) => new MpirunLauncher(config as MpirunConfig | undefined) },
  { name: 'srun', create: (config?: unknown) => new SrunLauncher(config as SchedulerLauncherConfig | undefined) },
  { name: 'jsrun', create: (config?: unknown) => new JsrunLauncher(config as SchedulerLauncherConfig | undefined) },
  { name: 'aprun', create: (config?: unknown) => new AprunLauncher(config as SchedulerLauncherConfig | undefined) },
  { name: 'flux', create: (config?: unknown) => new FluxRunLauncher(config as SchedulerLauncherConfig | undefined) },
]);

/** Names of the launchers this package provides. */
export function launcherNames(): string[] {
  return launcherProviders.map((p) => p.name);
}

/**
 * Creates one of this package's launchers by name, without going through the registry.
 * @throws {@link @exaworks/jpsi-core!UnknownLauncherError} listing this package's launchers; {@link @exaworks/jpsi-core!ValidationError} for a bad config.
 */
export async function createLauncher(name: string, config?: unknown): Promise<Launcher> {
  const provider = launcherProviders.find((p) => p.name === name);
  if (!provider) throw new UnknownLauncherError(name, launcherNames());
  return provider.create(config);
}
