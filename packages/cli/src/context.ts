/**
 * What a running command has at hand: its IO, a logger, its flags, and (loaded only when asked)
 * an executor. Light on purpose: read-only commands must not pay for jpsi-core's zod schemas.
 * @module
 */
import type { JobExecutor, JobExecutorConfig } from '@exaworks/jpsi-core';
import { createLogger, type Logger } from '@exaworks/jpsi-core/internal';
import { buildExecutorConfig } from './executor-config.js';
import type { CommandFlags } from './flags.js';
import { errorToJson, exitCodeForError, formatError, toJsonText } from './format.js';
import type { CliIO } from './io.js';

/** Per-command context: the IO, a logger, and the output mode. */
export class Context {
  readonly logger: Logger;

  constructor(
    readonly io: CliIO,
    readonly flags: CommandFlags,
  ) {
    this.logger = createLogger({
      component: 'cli',
      ...(flags.verbose ? { level: 'debug' as const } : {}),
      write: (l) => io.stderr(l),
    });
  }

  get json(): boolean {
    return this.flags.json === true;
  }

  /** The executor name the command was given (`--executor`, default `local`). */
  get executorName(): string {
    return this.flags.executor ?? 'local';
  }

  out(text: string): void {
    this.io.stdout(text);
  }

  err(text: string): void {
    this.io.stderr(text);
  }

  /** Reports an error (text or JSON) and sets the exit code it calls for. */
  fail(err: unknown): void {
    if (this.json) this.out(toJsonText({ error: errorToJson(err) }));
    else this.err(formatError(err, this.flags.verbose === true));
    this.io.setExitCode(exitCodeForError(err));
  }

  /** The executor configuration from `--executor-config` and `--work-dir`. */
  executorConfig(): Promise<JobExecutorConfig & Record<string, unknown>> {
    return buildExecutorConfig(this.flags, this.io.cwd);
  }

  /**
   * Opens the executor (this loads the registry, and with it jpsi-core's schemas). `local`, when
   * set, is merged into the config of the local executor only (e.g. `cancel` adopts nothing).
   */
  async openExecutor(local?: Record<string, unknown>): Promise<JobExecutor> {
    const { getExecutor } = await import('@exaworks/jpsi-core');
    const name = this.executorName;
    const config = await this.executorConfig();
    if (local !== undefined && name === 'local') Object.assign(config, local);
    const level = this.flags.verbose ? { level: 'debug' as const } : {};
    config.logger = createLogger({ component: `executor:${name}`, ...level, write: (l) => this.io.stderr(l) });
    this.logger.debug('opening executor', { executor: name, workDirectory: config.workDirectory });
    return getExecutor(name, config);
  }
}
