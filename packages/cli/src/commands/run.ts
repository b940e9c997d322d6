/** `exaworks run`: submit a job and wait for it, showing its output and state. @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import { EXIT_CODES_HELP, addExecutorOptions, addJobOptions, addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `run` on `program`. */
export function register(program: Command, io: CliIO): void {
  const run = program
    .command('run')
    .summary('run a job and wait for it, showing its output and state')
    .description(
      'Submit a job, show its state live on stderr and its output on stdout/stderr, wait for it to end, and exit with its exit code. ' +
        'Options after the executable belong to the job. Ctrl-C (or SIGTERM, SIGHUP) cancels the job (exit 130, 143, 129).',
    )
    .argument('[executable]', 'program to run (or give --spec)')
    .argument('[args...]', 'its arguments')
    .passThroughOptions();
  addJobOptions(run);
  addExecutorOptions(run);
  addOutputOptions(run);
  run.option('--quiet', 'no status line (job output still shown)');
  run.addHelpText(
    'after',
    `
Output: unless --stdout/--stderr name files, the job's standard output is copied to this
command's stdout and its standard error to stderr as the job writes them. With --json
only the final job JSON is printed; give --stdout/--stderr to keep the job's output
(the local executor discards output that no file is named for).

Examples:
  $ exaworks run -- /bin/echo hello
  $ exaworks run --nodes 2 --ppn 4 --duration 1h --queue debug --launcher mpirun -- ./a.out -i in.dat
  $ exaworks run --env OMP_NUM_THREADS=8 --memory 4G --stdout out.txt ./sim
  $ exaworks run --spec job.yaml --duration 00:30:00     # flags override the file
  $ exaworks run --json -- /bin/false; echo $?           # {"nativeId":…,"state":"FAILED","exitCode":1,…}  1
${EXIT_CODES_HELP}`,
  );
  run.action(lazyAction(io, async () => (await import('../actions/run.js')).run));
}
