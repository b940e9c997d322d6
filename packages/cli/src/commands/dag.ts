/**
 * `exaworks dag …`: run, resume, inspect and draw workflow files. `@exaworks/dag` is imported only
 * when one of these commands runs, so the rest of the CLI does not pay for loading it.
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AbortedError, getExecutor, type JobExecutor, ValidationError } from '@exaworks/jpsi-core';
import { readJournal } from '@exaworks/jpsi-core/internal';
import { type Command, Option } from 'commander';
import {
  CLEAR_LINE,
  ExitCode,
  errorToJson,
  exitCodeForError,
  formatElapsed,
  formatError,
  formatTable,
  toJsonText,
} from '../format.js';
import type { CliIO } from '../io.js';

type Dag = typeof import('@exaworks/dag');
const loadDag = (): Promise<Dag> => import('@exaworks/dag');

interface DagFlags {
  json?: boolean;
  verbose?: boolean;
  journal?: string;
  workDir?: string;
  concurrency?: string;
  fsync?: boolean;
  fresh?: boolean;
  format?: 'mermaid' | 'dot';
}

/** The default journal of a workflow file: `<file>.journal.jsonl` beside it. */
export function defaultJournalFor(file: string): string {
  return `${file.replace(/\.(ya?ml|json)$/i, '')}.journal.jsonl`;
}

function reportError(io: CliIO, flags: DagFlags, err: unknown): void {
  if (flags.json) io.stdout(toJsonText({ error: errorToJson(err) }));
  else io.stderr(formatError(err, flags.verbose === true));
  io.setExitCode(exitCodeForError(err));
}

function parseConcurrency(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new ValidationError('options', [{ path: '--concurrency', message: `"${text}" is not a whole number of 1 or more` }]);
  }
  return n;
}

/** Progress on stderr: one redrawn line of counts on a terminal, one plain line per event otherwise. */
function progressReporter(
  io: CliIO,
  total: () => number,
): { listener: (e: import('@exaworks/dag').WorkflowEvent) => void; end(): void } {
  const counts = { queued: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, canceled: 0, cached: 0 };
  const state = new Map<string, keyof typeof counts>();
  const started = Date.now();
  let last = 0;
  const move = (task: string, to: keyof typeof counts | undefined) => {
    const from = state.get(task);
    if (from) counts[from]--;
    if (to) {
      counts[to]++;
      state.set(task, to);
    }
  };
  const line = () =>
    `${formatElapsed(Date.now() - started)}  ${total()} tasks: ${counts.queued} queued · ${counts.running} running · ` +
    `${counts.succeeded} succeeded (${counts.cached} cached) · ${counts.failed} failed · ${counts.skipped} skipped · ${counts.canceled} canceled`;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    io.stderr(`${CLEAR_LINE}${line()}`);
  };
  return {
    listener: (e) => {
      switch (e.type) {
        case 'queued':
          move(e.task, 'queued');
          break;
        case 'started':
          move(e.task, 'running');
          break;
        case 'retried':
          move(e.task, 'queued');
          break;
        case 'succeeded':
          move(e.task, 'succeeded');
          break;
        case 'cached':
          move(e.task, 'succeeded');
          counts.cached++;
          break;
        case 'failed':
          move(e.task, 'failed');
          break;
        case 'skipped':
          move(e.task, 'skipped');
          break;
        case 'canceled':
          move(e.task, 'canceled');
          break;
        case 'submitted':
          break;
      }
      if (io.stderrIsTTY) draw();
      else {
        const extra =
          e.type === 'failed' || e.type === 'retried'
            ? `: ${e.error}`
            : e.type === 'skipped'
              ? ` (because of ${e.cause})`
              : e.type === 'submitted'
                ? ` ${e.nativeId}${e.attached ? ' (re-attached)' : ''}`
                : '';
        if (e.type !== 'queued') io.stderr(`${e.type} ${e.task}${extra}\n`);
      }
    },
    end: () => {
      if (io.stderrIsTTY) {
        draw(true);
        io.stderr('\n');
      }
    },
  };
}

/** Loads the file, opens its executor, runs (or resumes) the workflow, prints the summary. */
async function runFile(io: CliIO, flags: DagFlags, file: string, journal: string, resuming: boolean): Promise<void> {
  const dag = await loadDag();
  const loaded = await dag.loadWorkflowFile(file);
  const concurrency = parseConcurrency(flags.concurrency);
  let executor: JobExecutor | undefined;
  try {
    const name = loaded.document.executor ?? 'local';
    const config: Record<string, unknown> = { ...loaded.document.executorConfig };
    if (flags.workDir) config.workDirectory = path.resolve(io.cwd, flags.workDir);
    executor = await getExecutor(name, config);
    const wf = dag.workflowFromFile(loaded, {
      executor,
      journal,
      ...(flags.fsync ? { fsync: true } : {}),
      ...(concurrency ? { concurrency } : {}),
    });
    const progress = progressReporter(io, () => wf.size);
    if (!flags.json) wf.on(progress.listener);
    const summary = await wf.run(io.signal ? { signal: io.signal } : {});
    if (!flags.json) progress.end();
    const outcomes = [...summary.outcomes()];
    if (flags.json) {
      io.stdout(
        toJsonText({
          ok: summary.ok,
          resumed: summary.resumed,
          aborted: summary.aborted,
          journal,
          counts: summary.counts,
          durationMs: Math.round(summary.durationMs),
          tasks: outcomes,
        }),
      );
    } else {
      io.stdout(
        formatTable(
          ['TASK', 'STATE', 'ATTEMPTS', 'NATIVE ID', 'DETAIL'],
          outcomes.map((o) => [
            o.name,
            o.state.toUpperCase() + (o.cached ? ' (cached)' : o.restored ? ' (journal)' : ''),
            String(o.attempts),
            o.nativeId ?? '',
            o.error ?? (o.cause ? `skipped: ${o.cause}` : ''),
          ]),
        ),
      );
      const c = summary.counts;
      io.stdout(
        `${summary.ok ? 'OK' : summary.aborted ? 'INTERRUPTED' : 'FAILED'}: ${c.succeeded}/${summary.total} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.canceled} canceled in ${formatElapsed(summary.durationMs)}${resuming ? ' (resumed)' : ''}. Journal: ${journal}\n`,
      );
    }
    io.setExitCode(summary.aborted ? ExitCode.INTERRUPTED : summary.ok ? ExitCode.OK : ExitCode.FAILURE);
  } finally {
    await executor?.close().catch(() => undefined);
  }
}

/** The workflow file a journal was written for (its first record). */
function fileOfJournal(journal: string): string {
  const { records } = readJournal<{ t: string; meta?: { file?: string } }>(journal);
  if (records.length === 0) {
    throw new ValidationError('journal', [{ path: journal, message: 'is missing or empty: nothing to resume' }]);
  }
  const file = records[0]?.t === 'run' ? records[0].meta?.file : undefined;
  if (typeof file !== 'string') {
    throw new ValidationError('journal', [
      { path: journal, message: 'was not written by `exaworks dag run` (it does not name a workflow file)' },
    ]);
  }
  return file;
}

/** Registers `dag run|resume|status|graph` on `program`. */
export function registerDagCommands(program: Command, io: CliIO): void {
  const dag = program
    .command('dag')
    .summary('run workflow files: graphs of jobs with retries, timeouts and resume')
    .description(
      'Run a workflow file (YAML or JSON: jobs, dependencies, retries, timeouts, matrix sweeps), resume it after a crash, ' +
        'show its state from its journal, or draw its graph.',
    );
  const wrap =
    (body: (flags: DagFlags, ...args: string[]) => Promise<void>) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as Command;
      const flags = cmd.opts<DagFlags>();
      try {
        await body(flags, ...(args.slice(0, -2) as string[]));
      } catch (err) {
        if (err instanceof AbortedError && io.signal?.aborted) io.setExitCode(ExitCode.INTERRUPTED);
        else reportError(io, flags, err);
      }
    };

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
    .action(
      wrap(async (flags, fileArg) => {
        const file = path.resolve(io.cwd, fileArg!);
        const journal = flags.journal ? path.resolve(io.cwd, flags.journal) : defaultJournalFor(file);
        if (existsSync(journal)) {
          if (!flags.fresh) {
            throw new ValidationError('options', [
              {
                path: '--journal',
                message: `${journal} already exists: continue it with \`exaworks dag resume ${journal}\`, or pass --fresh to start over`,
              },
            ]);
          }
          const { rm } = await import('node:fs/promises');
          await rm(journal);
        }
        await runFile(io, flags, file, journal, false);
      }),
    );

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
    .action(
      wrap(async (flags, journalArg) => {
        const journal = path.resolve(io.cwd, journalArg!);
        await runFile(io, flags, fileOfJournal(journal), journal, true);
      }),
    );

  dag
    .command('status')
    .description('Show the state of every task from a journal. Read-only: it never starts, attaches to or cancels anything.')
    .argument('<journal>', 'journal file')
    .option('--json', 'print JSON')
    .option('-v, --verbose', 'stack traces on errors')
    .action(
      wrap(async (flags, journalArg) => {
        const { restoreRun } = await loadDag();
        const journal = path.resolve(io.cwd, journalArg!);
        if (!existsSync(journal)) {
          throw new ValidationError('journal', [{ path: journal, message: 'does not exist' }]);
        }
        const { records, tornTail } = readJournal<import('@exaworks/dag').WorkflowRecord>(journal);
        const run = restoreRun(records);
        const tasks = [...run.tasks.entries()].map(([name, t]) => ({
          name,
          state: t.final ?? (t.attempts > 0 ? 'running' : 'queued'),
          attempts: t.attempts,
          ...(t.nativeId ? { nativeId: t.nativeId } : {}),
          ...(t.error ? { error: t.error } : {}),
          ...(t.cause ? { cause: t.cause } : {}),
        }));
        const counts: Record<string, number> = {};
        for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
        const phase = run.ended ? (run.ok ? 'finished' : 'finished with failures') : 'unfinished (resume continues it)';
        if (flags.json) {
          io.stdout(
            toJsonText({
              journal,
              workflow: run.workflow,
              run: run.runId,
              ended: run.ended,
              ok: run.ok,
              tornTail,
              counts,
              tasks,
            }),
          );
          return;
        }
        io.stdout(`workflow ${run.workflow ?? '?'}: ${phase}\n`);
        io.stdout(
          formatTable(
            ['TASK', 'STATE', 'ATTEMPTS', 'NATIVE ID', 'DETAIL'],
            tasks.map((t) => [t.name, t.state.toUpperCase(), String(t.attempts), t.nativeId ?? '', t.error ?? t.cause ?? '']),
          ),
        );
        io.stdout(
          `${
            Object.entries(counts)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ') || 'no tasks recorded'
          }\n`,
        );
      }),
    );

  dag
    .command('graph')
    .description('Print the graph of a workflow file as Mermaid or Graphviz DOT.')
    .argument('<file>', 'workflow file')
    .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'))
    .option('-v, --verbose', 'stack traces on errors')
    .action(
      wrap(async (flags, fileArg) => {
        const { loadWorkflowFile, renderGraph, workflowFromFile } = await loadDag();
        const wf = workflowFromFile(await loadWorkflowFile(path.resolve(io.cwd, fileArg!)));
        wf.validate();
        io.stdout(renderGraph(wf.edges(), flags.format ?? 'mermaid'));
      }),
    );
}
