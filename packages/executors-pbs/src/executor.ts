/**
 * The `pbs` executor: a {@link @exaworks/executors-batch!BatchExecutor} over {@link pbsScheduler}
 * (PBS Pro / OpenPBS) or {@link torqueScheduler} (classic Torque).
 * @module
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseWith, type ExecutorProvider } from '@exaworks/jpsi-core';
import { BatchExecutor, BatchExecutorConfigSchema, runCommand } from '@exaworks/executors-batch';
import { pbsScheduler } from './scheduler.js';
import { torqueScheduler } from './torque.js';

/** This package's version. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Which PBS: PBS Pro / OpenPBS, or classic Torque. */
export type PbsFlavour = 'pro' | 'torque';

/** Configuration of the PBS executor: every batch executor option, plus `flavour`. */
export const PbsExecutorConfigSchema = z.strictObject({
  ...BatchExecutorConfigSchema.shape,
  /**
   * `pro` (PBS Pro / OpenPBS), `torque` (classic Torque), or `auto`: ask `qstat --version` once
   * (Torque prints `Version: …`, PBS Pro `pbs_version = …`; anything else is taken as PBS Pro).
   * @default 'auto'
   */
  flavour: z.enum(['pro', 'torque', 'auto'], { error: 'flavour must be "pro", "torque" or "auto"' }).optional(),
});

/** Configuration of the PBS executor as given. */
export type PbsExecutorConfig = z.input<typeof PbsExecutorConfigSchema>;

/** The flavour named by `qstat --version` output, or undefined if it names none. */
export function pbsFlavourFromVersion(text: string): PbsFlavour | undefined {
  if (/pbs_version\s*=/i.test(text)) return 'pro';
  if (/^\s*Version:\s*\d/im.test(text)) return 'torque';
  return undefined;
}

/** Asks `qstat --version` which PBS is on PATH (PBS Pro when it cannot tell). */
export async function detectPbsFlavour(signal?: AbortSignal): Promise<PbsFlavour> {
  try {
    const r = await runCommand({ argv: ['qstat', '--version'] }, { timeoutMs: 30_000, ...(signal ? { signal } : {}) });
    return pbsFlavourFromVersion(`${r.stdout}\n${r.stderr}`) ?? 'pro';
  } catch {
    return 'pro';
  }
}

/**
 * Creates a PBS executor (`qsub`, `qstat`, `qdel` must be on PATH); with `flavour: 'auto'` (the
 * default) it runs `qstat --version` once to tell PBS Pro from Torque.
 * @throws {@link @exaworks/jpsi-core!ValidationError} naming each invalid config field.
 */
export async function createPbsExecutor(config: PbsExecutorConfig = {}): Promise<BatchExecutor> {
  const { flavour = 'auto', ...rest } = parseWith(PbsExecutorConfigSchema, config ?? {}, 'pbs executor config');
  const which = flavour === 'auto' ? await detectPbsFlavour() : flavour;
  return new BatchExecutor(which === 'torque' ? torqueScheduler : pbsScheduler, rest, VERSION);
}

/** Registry entry: `getExecutor('pbs', config)` creates a PBS executor. */
export const executorProvider: ExecutorProvider = {
  name: 'pbs',
  create: (config?: unknown) => createPbsExecutor((config ?? {}) as PbsExecutorConfig),
};
