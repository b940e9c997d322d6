/** `exaworks submit`: submit a job and print its native id. @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { EXIT_CODES_HELP, addExecutorOptions, addJobOptions, addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `submit` on `program`. */
export function register(program: Command, io: CliIO): void {
  const submit = program
    .command('submit')
    .summary('submit a job and print its native id')
    .description(
      'Submit a job and print its native id once the executor has accepted it (for the local executor: once it has started). The job keeps running after this command exits.',
    )
    .argument('[executable]', 'program to run (or give --spec)')
    .argument('[args...]', 'its arguments')
    .passThroughOptions();
  addJobOptions(submit);
  submit.option('--script <file>', 'hand an existing batch script to a batch executor as-is (e.g. --executor slurm)');
  addExecutorOptions(submit);
  addOutputOptions(submit);
  submit.addHelpText(
    'after',
    `
Output: without --stdout/--stderr, the local executor writes the job's output to
<work dir>/<native id>.out and .err (see: exaworks logs ID). %j in a path is the native id.

Examples:
  $ id=$(exaworks submit -- sleep 600)
  $ exaworks submit --json --spec job.json      # {"nativeId": "...", "state": "ACTIVE", ...}
  $ exaworks submit --stdout 'out-%j.txt' -- ./sim
  $ exaworks submit --executor slurm --script job.sh   # an existing batch script, as-is
${EXIT_CODES_HELP}`,
  );
  submit.action(lazyAction(io, async () => (await import('../actions/submit.js')).submit));
}
