/** `exaworks clean`: remove finished jobs' files. @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { EXIT_CODES_HELP, addExecutorOptions, addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `clean` on `program`. */
export function register(program: Command, io: CliIO): void {
  const clean = program
    .command('clean')
    .summary("remove finished jobs' files from the work directory")
    .description(
      'Remove the files of jobs whose final state is recorded (record, result, script, and the <id>.out/.err output files of exaworks submit). ' +
        'Queued and running jobs, and jobs not yet recorded as ended, are never touched. Local executor only.',
    )
    .option('--older-than <age>', 'only jobs that ended at least this long ago: 7d, 12h, 30min, 1-00:00:00');
  addExecutorOptions(clean);
  addOutputOptions(clean);
  clean.addHelpText(
    'after',
    `
Examples:
  $ exaworks clean --older-than 7d
  $ exaworks clean --work-dir /tmp/w --json        # {"removed": [...], "unfinished": 0}
${EXIT_CODES_HELP}`,
  );
  clean.action(lazyAction(io, async () => (await import('../actions/clean.js')).clean));
}
