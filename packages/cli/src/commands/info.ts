/** `exaworks info`: installed packages, executors and the system. @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `info` on `program`. */
export function register(program: Command, io: CliIO): void {
  const info = program
    .command('info')
    .summary('show installed packages, executors and the system')
    .description(
      'Show the installed @exaworks packages and versions, Node, OS, CPUs, schedulers and launchers on PATH, and the available executors and launchers.',
    );
  addOutputOptions(info);
  info.addHelpText(
    'after',
    `
Examples:
  $ exaworks info
  $ exaworks info --json | jq .registry.executors`,
  );
  info.action(lazyAction(io, async () => (await import('../actions/info.js')).info));
}
