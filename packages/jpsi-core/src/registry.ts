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
import { ExaworksError, UnknownExecutorError, UnknownLauncherError, ValidationError } from './errors.js';
import type { JobExecutor } from './executor.js';
import type { ExecutorProvider, Launcher, LauncherProvider } from './launcher.js';

const executors = new Map<string, ExecutorProvider>();
const launchers = new Map<string, LauncherProvider>();
const NAME = /^[a-z][a-z0-9_-]*$/;

function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) {
    throw new ValidationError(`${kind} name`, [
      { path: 'name', message: `"${name}" is not a valid ${kind} name (lower-case letters, digits, _ and -)` },
    ]);
  }
}

/** Registers an executor provider. A later registration of the same name replaces the earlier one. */
export function registerExecutor(provider: ExecutorProvider): void {
  checkName('executor', provider.name);
  executors.set(provider.name, provider);
}

/** Registers a launcher provider. A later registration of the same name replaces the earlier one. */
export function registerLauncher(provider: LauncherProvider): void {
  checkName('launcher', provider.name);
  launchers.set(provider.name, provider);
}

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(specifier);
}

/** Imports a package from here, or else from the current directory's node_modules. */
async function importInstalled(specifier: string): Promise<Record<string, unknown> | undefined> {
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
  const mod = await importInstalled(`@exaworks/executors-${name}`);
  if (!mod) return;
  const providers = [mod.executorProvider, ...(Array.isArray(mod.executorProviders) ? mod.executorProviders : [])];
  for (const p of providers) if (isProvider(p)) registerExecutor(p as ExecutorProvider);
}

async function loadLauncherPackages(name: string): Promise<void> {
  for (const specifier of ['@exaworks/launcher', `@exaworks/launcher-${name}`]) {
    const mod = await importInstalled(specifier);
    if (!mod) continue;
    const providers = [mod.launcherProvider, ...(Array.isArray(mod.launcherProviders) ? mod.launcherProviders : [])];
    for (const p of providers) if (isProvider(p)) registerLauncher(p as LauncherProvider);
    if (launchers.has(name)) return;
  }
}

/**
 * Creates an executor by name: a registered one, or `@exaworks/executors-<name>` if installed.
 * @throws {@link UnknownExecutorError} listing the available executors.
 */
export async function getExecutor(name: string, config?: unknown): Promise<JobExecutor> {
  checkName('executor', name);
  if (!executors.has(name)) await loadExecutorPackage(name);
  const provider = executors.get(name);
  if (!provider) throw new UnknownExecutorError(name, await listExecutors());
  return provider.create(config);
}

/**
 * Creates a launcher by name: a registered one, or one from an installed launcher package.
 * @throws {@link UnknownLauncherError} listing the available launchers.
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
