/**
 * `--executor-config` and `--work-dir` → an executor configuration. YAML (and its parser) is
 * only loaded for a configuration file, so commands given `--work-dir` alone stay light.
 * @module
 */
import path from 'node:path';
import type { JobExecutorConfig } from '@exaworks/jpsi-core';
import { ValidationError } from '@exaworks/jpsi-core/internal';

/** Executor options common to every command that talks to an executor. */
export interface ExecutorFlags {
  /** Executor name (default `local`). */
  executor?: string;
  /** Work directory; passed as `workDirectory`. */
  workDir?: string;
  /** A file (JSON/YAML) or inline JSON object with executor configuration. */
  executorConfig?: string;
}

async function parseInline(raw: string): Promise<unknown> {
  try {
    return JSON.parse(raw);
  } catch {
    // Flow-style YAML also starts with "{"; the full parser says what is wrong otherwise.
    const { parseDocumentText } = await import('./options.js');
    return parseDocumentText(raw, 'executor config (--executor-config)');
  }
}

/**
 * Builds an executor configuration: `--executor-config` (inline JSON or a file), then `--work-dir`.
 * @throws {@link ValidationError} if the configuration is not an object.
 */
export async function buildExecutorConfig(
  flags: ExecutorFlags,
  cwd: string = process.cwd(),
): Promise<JobExecutorConfig & Record<string, unknown>> {
  let config: Record<string, unknown> = {};
  if (flags.executorConfig !== undefined) {
    const raw = flags.executorConfig.trim();
    const doc = raw.startsWith('{')
      ? await parseInline(raw)
      : await (await import('./options.js')).readDocumentFile(path.resolve(cwd, raw), 'executor config');
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new ValidationError('executor config', [
        { path: '', message: 'must be an object, e.g. {"keepFiles": true} (from --executor-config)' },
      ]);
    }
    config = { ...(doc as Record<string, unknown>) };
  }
  if (flags.workDir !== undefined) {
    if (flags.workDir === '')
      throw new ValidationError('executor config', [{ path: 'workDirectory', message: 'cannot be empty (from --work-dir)' }]);
    config.workDirectory = path.resolve(cwd, flags.workDir);
  } else if (typeof config.workDirectory === 'string' && config.workDirectory !== '') {
    config.workDirectory = path.resolve(cwd, config.workDirectory);
  }
  return config;
}
