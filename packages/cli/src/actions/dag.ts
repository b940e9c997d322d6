/**
 * The implementation of `exaworks dag …` (run, resume, status, graph); `@exaworks/dag` is imported
 * only when one of these commands runs.
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AbortedError, getExecutor, type JobExecutor, ValidationError } from '@exaworks/jpsi-core';
import { readJournal } from '@exaworks/jpsi-core/internal';
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { CLEAR_LINE, ExitCode, formatElapsed, formatTable, toJsonText } from '../format.js';
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

/** Ctrl-C (or SIGTERM/SIGHUP) during a run is an interruption (exit 130), not a failure. */
async function interruptible(io: CliIO, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof AbortedError && io.signal?.aborted) io.setExitCode(ExitCode.INTERRUPTED);
    else throw err;
  }
}

function parseConcurrency(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new ValidationError('options', [{ path: '--concurrency', message: `"${text}" is not a whole number of 1 or more` }]);
  }
  return n;
}

/** Width of the progress bar, in characters. */
const BAR_WIDTH = 20;

/** Progress on stderr: one redrawn line (a bar of finished tasks, counts per state) on a terminal, one plain line per event otherwise. */
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
  const line = () => {
    const n = total();
    const finished = counts.succeeded + counts.failed + counts.skipped + counts.canceled;
    const filled = n === 0 ? 0 : Math.min(BAR_WIDTH, Math.round((finished / n) * BAR_WIDTH));
    return (
      `${formatElapsed(Date.now() - started)} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${finished}/${n}  ` +
      `${counts.queued} queued · ${counts.running} running · ${counts.succeeded} succeeded (${counts.cached} cached) · ` +
      `${counts.failed} failed · ${counts.skipped} skipped · ${counts.canceled} canceled`
    );
  };
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

/** `exaworks dag run <file>`. */
export async function dagRun(ctx: Context, cmd: Command, fileArg: string): Promise<void> {
  const flags = cmd.opts<DagFlags>();
  const { io } = ctx;
  await interruptible(io, async () => {
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
  });
}

/** `exaworks dag resume <journal>`. */
export async function dagResume(ctx: Context, cmd: Command, journalArg: string): Promise<void> {
  const flags = cmd.opts<DagFlags>();
  const { io } = ctx;
  await interruptible(io, async () => {
    const journal = path.resolve(io.cwd, journalArg!);
    await runFile(io, flags, fileOfJournal(journal), journal, true);
  });
}

/** `exaworks dag status <journal>`: read-only. */
export async function dagStatus(ctx: Context, cmd: Command, journalArg: string): Promise<void> {
  const flags = cmd.opts<DagFlags>();
  const { io } = ctx;
  await interruptible(io, async () => {
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
  });
}

/** `exaworks dag graph <file>`. */
export async function dagGraph(ctx: Context, cmd: Command, fileArg: string): Promise<void> {
  const flags = cmd.opts<DagFlags>();
  const { io } = ctx;
  await interruptible(io, async () => {
    const { loadWorkflowFile, renderGraph, workflowFromFile } = await loadDag();
    const wf = workflowFromFile(await loadWorkflowFile(path.resolve(io.cwd, fileArg!)));
    wf.validate();
    io.stdout(renderGraph(wf.edges(), flags.format ?? 'mermaid'));
  });
}
