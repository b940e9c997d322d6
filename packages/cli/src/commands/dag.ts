/**
 * `exaworks dag …`: run, resume, inspect and draw workflow files. `@exaworks/dag` is imported only
 * when one of these commands runs, so the rest of the CLI does not pay for loading it.
 * @module
 */
import { type Command, Option } from 'commander';
import { lazyAction } from '../action.js';
import type { CliIO } from '../io.js';

/** Registers `dag run|resume|status|graph` on `program`. */
export function register(program: Command, io: CliIO): void {
  const dag = program
    .command('dag')
    .summary('run workflow files: graphs of jobs with retries, timeouts and resume')
    .description(
      'Run a workflow file (YAML or JSON: jobs, dependencies, retries, timeouts, matrix sweeps), resume it after a crash, ' +
        'show its state from its journal, or draw its graph.',
    );
  dag
    .command('run')
    .description(
      'Run a workflow file to the end. Progress goes to stderr (one live line on a terminal), the summary table to stdout. ' +
        'Exit 0 if every task succeeded, 1 if any failed, 2 for an invalid file, 130 on Ctrl-C (running jobs are canceled; resume continues).',
    )
    .argument('<file>', 'workflow file (.yaml, .yml or .json)')
    .option('--journal <path>', 'journal file (default: <file>.journal.jsonl beside the file)')
    .option('--fresh', 'delete an existing journal first and start over')
    .option('--concurrency <n>', "most tasks at once (overrides the file's concurrency)")
    .option('--work-dir <dir>', "the executor's work directory")
    .option('--fsync', 'fsync the journal after every batch (survive power loss)')
    .option('--json', 'print the summary as JSON')
    .option('-v, --verbose', 'stack traces on errors')
    .addHelpText(
      'after',
      `
Examples:
  $ exaworks dag run sweep.yaml
  $ exaworks dag run --fresh --concurrency 8 sweep.yaml
  $ exaworks dag run --json sweep.yaml | jq .counts`,
    )
    .action(lazyAction(io, async () => (await import('../actions/dag.js')).dagRun));

  dag
    .command('resume')
    .description(
      'Continue an interrupted run from its journal: finished tasks are not run again, jobs still running are re-attached, the rest runs.',
    )
    .argument('<journal>', 'journal written by `exaworks dag run`')
    .option('--concurrency <n>', 'most tasks at once')
    .option('--work-dir <dir>', "the executor's work directory (as given to dag run)")
    .option('--fsync', 'fsync the journal after every batch')
    .option('--json', 'print the summary as JSON')
    .option('-v, --verbose', 'stack traces on errors')
    .action(lazyAction(io, async () => (await import('../actions/dag.js')).dagResume));

  dag
    .command('status')
    .description('Show the state of every task from a journal. Read-only: it never starts, attaches to or cancels anything.')
    .argument('<journal>', 'journal file')
    .option('--json', 'print JSON')
    .option('-v, --verbose', 'stack traces on errors')
    .action(lazyAction(io, async () => (await import('../actions/dag.js')).dagStatus));

  dag
    .command('graph')
    .description('Print the graph of a workflow file as Mermaid or Graphviz DOT.')
    .argument('<file>', 'workflow file')
    .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'))
    .option('-v, --verbose', 'stack traces on errors')
    .action(lazyAction(io, async () => (await import('../actions/dag.js')).dagGraph));
}
