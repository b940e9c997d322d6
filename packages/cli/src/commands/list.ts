/** `exaworks list`: list the jobs an executor knows (read-only). @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { EXIT_CODES_HELP, addExecutorOptions, addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `list` on `program`. */
export function register(program: Command, io: CliIO): void {
  const list = program
    .command('list')
    .summary('list the jobs an executor knows')
    .description(
      'List the native ids an executor knows (for local: the jobs in its work directory) with their state, exit code and name. Only reads: it never starts or adopts a job.',
    )
    .option('--state <state>', 'only jobs in this state');
  addExecutorOptions(list);
  addOutputOptions(list);
  list.addHelpText(
    'after',
    `
Examples:
  $ exaworks list
  $ exaworks list --state ACTIVE --json
${EXIT_CODES_HELP}`,
  );
  list.action(lazyAction(io, async () => (await import('../actions/list.js')).list));
}
