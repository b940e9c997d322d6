/**
 * The one registry of executors and launchers. A name is looked up among registered providers,
 * then loaded from an installed package: `@exaworks/executors-<name>` (exporting
 * `executorProvider`), `@exaworks/launcher` (exporting `launcherProviders`) or
 * `@exaworks/launcher-<name>` (exporting `launcherProvider`).
 * @module
 */
import { readdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  ErrorCode,
  ExaworksError,
  type ExaworksErrorCode,
  UnknownExecutorError,
  UnknownLauncherError,
  ValidationError,
} from './errors.js';
import type { JobExecutor } from './executor.js';
import type { ExecutorProvider, Launcher, LauncherProvider } from './launcher.js';
import { parseWith } from './validation.js';

const executors = new Map<string, ExecutorProvider>();
const launchers = new Map<string, LauncherProvider>();
const NAME = /^[a-z][a-z0-9_-]*$/;

const NameSchema = z
  .string({ error: 'must be a string' })
  .regex(NAME, 'lower-case letters, digits, _ and -, starting with a letter');

function checkName(kind: string, name: unknown): asserts name is string {
  const result = NameSchema.safeParse(name);
  if (!result.success) {
    throw new ValidationError(
      `${kind} name`,
      [
        {
          path: 'name',
          message: `${JSON.stringify(name) ?? String(name)} is not a valid ${kind} name (${result.error.issues[0]!.message})`,
        },
      ],
      { cause: result.error },
    );
  }
}

// A provider from a third party is checked whole, so a typo is reported by field, not as "x is not a function" later.
const ProviderSchema = z.object({
  name: NameSchema,
  create: z.custom<(config?: unknown) => unknown>((v) => typeof v === 'function', 'must be a function (config) => instance'),
});

function checkProvider(kind: string, provider: unknown): void {
  parseWith(ProviderSchema, provider, `${kind} provider`);
}

/**
 * Registers an executor provider. A later registration of the same name replaces the earlier one.
 * @throws {@link ValidationError} if the provider has no valid `name` or no `create` function.
 */
export function registerExecutor(provider: ExecutorProvider): void {
  checkProvider('executor', provider);
  executors.set(provider.name, provider);
}

/**
 * Registers a launcher provider. A later registration of the same name replaces the earlier one.
 * @throws {@link ValidationError} if the provider has no valid `name` or no `create` function.
 */
export function registerLauncher(provider: LauncherProvider): void {
  checkProvider('launcher', provider);
  launchers.set(provider.name, provider);
}

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(specifier);
}

/**
 * Imports a package from here, or else from the current directory's node_modules; a package that
 * is installed but fails to load (broken build, missing dependency) becomes an {@link ExaworksError}
 * with the loader's error as cause, so callers see a stable code instead of a raw SyntaxError.
 */
async function importInstalled(specifier: string, code: ExaworksErrorCode): Promise<Record<string, unknown> | undefined> {
  try {
    return await importInstalledRaw(specifier);
  } catch (cause) {
    throw new ExaworksError(
      code,
      `${specifier} is installed but could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        `Reinstall it (npm install ${specifier}) or check that its dependencies are installed.`,
      { cause },
    );
  }
}

async function importInstalledRaw(specifier: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    if (!isModuleNotFound(err, specifier)) throw err;
  }
  try {
    const resolved = createRequire(path.join(process.cwd(), 'noop.js')).resolve(specifier);
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch (err) {
    if (isModuleNotFound(err, specifier)) return undefined;
    throw err;
  }
}

function isProvider(value: unknown): value is { name: string; create: (c?: unknown) => unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { create?: unknown }).create === 'function'
  );
}

async function loadExecutorPackage(name: string): Promise<void> {
  const mod = await importInstalled(`@exaworks/executors-${name}`, ErrorCode.UNKNOWN_EXECUTOR);
  if (!mod) return;
  const providers = [mod.executorProvider, ...(Array.isArray(mod.executorProviders) ? mod.executorProviders : [])];
  for (const p of providers) if (isProvider(p)) registerExecutor(p as ExecutorProvider);
}

async function loadLauncherPackages(name: string): Promise<void> {
  for (const specifier of ['@exaworks/launcher', `@exaworks/launcher-${name}`]) {
    const mod = await importInstalled(specifier, ErrorCode.UNKNOWN_LAUNCHER);
    if (!mod) continue;
    const providers = [mod.launcherProvider, ...(Array.isArray(mod.launcherProviders) ? mod.launcherProviders : [])];
    for (const p of providers) if (isProvider(p)) registerLauncher(p as LauncherProvider);
    if (launchers.has(name)) return;
  }
}

/**
 * The configuration type of each executor, by registry name, so that {@link getExecutor} checks a
 * config at compile time. Executor packages add themselves by module augmentation:
 *
 * ```ts fragment
 * declare module '@exaworks/jpsi-core' {
 *   interface ExecutorConfigs {
 *     slurm: SlurmExecutorConfigInput;
 *   }
 * }
 * ```
 *
 * The augmentation is seen wherever the executor package's types are part of the program (an
 * `import type {} from '@exaworks/executors-local'` is enough). Names not listed take `unknown`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by executor packages through module augmentation.
export interface ExecutorConfigs {}

/** The config type {@link getExecutor} takes for executor `N`: its {@link ExecutorConfigs} entry, else `unknown`. */
export type ExecutorConfigFor<N extends string> = N extends keyof ExecutorConfigs ? ExecutorConfigs[N] : unknown;

/**
 * Creates an executor by name: a registered one, or `@exaworks/executors-<name>` if installed.
 * `config` is handed to the provider, which validates it; for a name listed in
 * {@link ExecutorConfigs} its type is checked at compile time too.
 * @throws {@link UnknownExecutorError} listing the available executors; {@link ValidationError} for a bad name or config.
 */
export async function getExecutor<N extends string>(name: N, config?: ExecutorConfigFor<N>): Promise<JobExecutor> {
  checkName('executor', name);
  if (!executors.has(name)) await loadExecutorPackage(name);
  const provider = executors.get(name);
  if (!provider) throw new UnknownExecutorError(name, await listExecutors());
  return provider.create(config);
}

/**
 * Creates a launcher by name: a registered one, or one from an installed launcher package.
 * `config` is handed to the provider, which validates it.
 * @throws {@link UnknownLauncherError} listing the available launchers; {@link ValidationError} for a bad name or config.
 */
export async function getLauncher(name: string, config?: unknown): Promise<Launcher> {
  checkName('launcher', name);
  if (!launchers.has(name)) await loadLauncherPackages(name);
  const provider = launchers.get(name);
  if (!provider) throw new UnknownLauncherError(name, await listLaunchers());
  return provider.create(config);
}

/** Directories named `node_modules/@exaworks` from here and from the current directory upwards. */
function scopeDirectories(): string[] {
  const starts = [process.cwd()];
  try {
    starts.push(path.dirname(realpathSync(fileURLToPath(import.meta.url))));
  } catch {
    // not a file URL (bundled): only the current directory is searched
  }
  const dirs = new Set<string>();
  for (const start of starts) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      dirs.add(path.join(dir, 'node_modules', '@exaworks'));
      if (path.dirname(dir) === dir) break;
    }
  }
  return [...dirs];
}

/** Names of installed `@exaworks/*` packages (without the scope), found on disk. */
export function installedExaworksPackages(): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of scopeDirectories()) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) if (!found.has(entry)) found.set(entry, path.join(dir, entry));
  }
  return found;
}

/** Names of registered executors and of installed `@exaworks/executors-*` packages, sorted. */
export async function listExecutors(): Promise<string[]> {
  const names = new Set(executors.keys());
  for (const pkg of installedExaworksPackages().keys())
    if (pkg.startsWith('executors-')) names.add(pkg.slice('executors-'.length));
  return [...names].sort();
}

/** Names of registered launchers and those of the installed `@exaworks/launcher` package, sorted. */
export async function listLaunchers(): Promise<string[]> {
  try {
    await loadLauncherPackages('');
  } catch (err) {
    if (!(err instanceof ExaworksError)) throw err;
  }
  const names = new Set(launchers.keys());
  for (const pkg of installedExaworksPackages().keys()) if (pkg.startsWith('launcher-')) names.add(pkg.slice('launcher-'.length));
  return [...names].sort();
}
