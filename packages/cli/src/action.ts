/**
 * The one way a command's action runs: its implementation module is `import()`ed only when the
 * command runs, so registering every command costs commander alone.
 * @module
 */
import type { Command } from 'commander';
import type { Context } from './context.js';
import type { CliIO } from './io.js';

/** A command's implementation: the context, the commander command, then its positional arguments. */
export type CommandBody<A extends unknown[]> = (ctx: Context, cmd: Command, ...args: A) => Promise<void>;

/**
 * A commander action that loads its implementation on first use. Errors of the body (and of
 * loading it) are reported through the context: text or `--json`, with the exit code they call for.
 *
 * @example
 * ```ts fragment
 * cmd.action(lazyAction(io, async () => (await import('../actions/status.js')).status));
 * ```
 */
export function lazyAction<A extends unknown[]>(
  io: CliIO,
  load: () => Promise<CommandBody<A>>,
): (...raw: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    // commander calls actions with (...positional, options, command).
    const cmd = raw[raw.length - 1] as Command;
    const positional = raw.slice(0, -2) as A;
    const { Context } = await import('./context.js');
    const ctx = new Context(io, cmd.opts());
    try {
      const body = await load();
      await body(ctx, cmd, ...positional);
    } catch (err) {
      ctx.fail(err);
    }
  };
}
