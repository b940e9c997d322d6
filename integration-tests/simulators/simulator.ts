/**
 * Test-side handle on the scheduler simulator (test-only, never shipped): one private state
 * directory per run, the flavour's bin directory first on PATH, and readers for what the
 * simulated scheduler saw (its invocation log, its job table).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Schedulers the simulator imitates. */
export type SimulatedScheduler = 'pbs' | 'torque' | 'lsf' | 'cobalt' | 'flux';

/** Options of {@link startSchedulerSimulator}. */
export interface SimulatorOptions {
  /** Slots (cores) of the simulated cluster. @default 4 */
  readonly slots?: number;
  /** Real seconds in a simulated minute, for minute-granular walltimes (LSF -W). @default 60 */
  readonly minuteSeconds?: number;
  /** Queues the scheduler accepts (the first is the default). */
  readonly queues?: readonly string[];
  /** Finished jobs are forgotten after this many seconds. @default forever */
  readonly historySeconds?: number;
}

/** One command invocation the simulator logged. */
export interface Invocation {
  readonly t: number;
  readonly scheduler: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** A job as the simulator's store holds it. */
export interface SimulatedJob {
  readonly seq: number;
  readonly id: string;
  readonly state: 'queued' | 'running' | 'finished';
  readonly runnerPid: number | null;
  readonly pid: number | null;
  readonly canceled: boolean;
  readonly timedOut: boolean;
  readonly exitCode: number | null;
}

/** A running simulated cluster. */
export interface SchedulerSimulator {
  readonly scheduler: SimulatedScheduler;
  /** Directory with the flavour's commands (`qsub`, `bjobs`, `flux`, …). */
  readonly binDir: string;
  readonly stateDir: string;
  /** Variables a process needs to use this cluster (PATH first of all). */
  readonly env: Readonly<Record<string, string>>;
  /** Puts {@link SchedulerSimulator.env} into this process's environment (children inherit it). */
  install(): void;
  /** Everything logged so far, optionally only one command (`qstat`, `bjobs`, `jobs` for `flux jobs`). */
  invocations(command?: string): Invocation[];
  /** The job table. */
  jobs(): SimulatedJob[];
  /** Makes every query command fail with `message` (a broken scheduler), or work again with undefined. */
  failQueries(message: string | undefined): void;
  /** Kills whatever is still running and removes the state directory. */
  close(): void;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Starts a simulated cluster of the given flavour (test-only). */
export function startSchedulerSimulator(scheduler: SimulatedScheduler, options: SimulatorOptions = {}): SchedulerSimulator {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), `exa-sim-${scheduler}-`));
  const binDir = path.join(HERE, 'bin', scheduler);
  const env: Record<string, string> = {
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    EXAWORKS_SIM_STATE_DIR: stateDir,
    EXAWORKS_SIM_SLOTS: String(options.slots ?? 4),
    EXAWORKS_SIM_KILL_GRACE_MS: '2000',
  };
  if (options.minuteSeconds !== undefined) env.EXAWORKS_SIM_MINUTE_SECONDS = String(options.minuteSeconds);
  if (options.queues) env.EXAWORKS_SIM_QUEUES = options.queues.join(',');
  if (options.historySeconds !== undefined) env.EXAWORKS_SIM_HISTORY_SECONDS = String(options.historySeconds);
  const readJobs = (): SimulatedJob[] => {
    try {
      const state = JSON.parse(readFileSync(path.join(stateDir, 'jobs.json'), 'utf8')) as { jobs: Record<string, SimulatedJob> };
      return Object.values(state.jobs);
    } catch {
      return [];
    }
  };
  return {
    scheduler,
    binDir,
    stateDir,
    env,
    install() {
      Object.assign(process.env, env);
    },
    invocations(command) {
      let text = '';
      try {
        text = readFileSync(path.join(stateDir, 'invocations.log'), 'utf8');
      } catch {}
      const all = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Invocation);
      return command === undefined ? all : all.filter((i) => i.command === command);
    },
    jobs: readJobs,
    failQueries(message) {
      const file = path.join(stateDir, 'fail-queries');
      if (message === undefined) rmSync(file, { force: true });
      else writeFileSync(file, message);
    },
    close() {
      // First: no scheduling pass starts another job, or the kills below would each start the next queued one.
      try {
        writeFileSync(path.join(stateDir, 'closed'), '');
      } catch {}
      for (const j of readJobs()) {
        for (const pid of [j.pid, j.runnerPid]) {
          if (!pid || j.state === 'finished') continue;
          try {
            process.kill(pid === j.pid ? -pid : pid, 'SIGKILL');
          } catch {}
        }
      }
      // A runner that was just killed may still have been replacing the job table.
      try {
        rmSync(stateDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      } catch {}
    },
  };
}
