/**
 * What every ported psij-python test module shares: one `describe` per launcher of the target,
 * each with its own executor, scratch directory and helpers to hold a job until the test ends it.
 *
 * A ported module is a function `(ctx) => void` that registers `it`s; {@link portedModule} runs it
 * once per launcher in `target.launchers`, so another executor plugs in by handing its own
 * {@link ConformanceTarget} (as `conformance/` does) to the same modules.
 */
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Job, type JobExecutor, type JobSpecInput, type JobStatus } from '@exaworks/jpsi-core';
import type { ConformanceTarget } from '../conformance/target.js';
import { knownDefect } from './known-defects.js';

/** The executor under test; the conformance suite's target shape, so one target serves both. */
export type PortTarget = ConformanceTarget;

/** Launchers that start MPI ranks (stdin, rank variables and output are the MPI implementation's). */
export const MPI_LAUNCHERS: ReadonlySet<string> = new Set(['mpirun', 'mpirun-mpich', 'srun', 'jsrun', 'aprun']);

/** A job program that records each start and then waits, however long, until released. */
export interface Hold {
  /** Executable and arguments of the held program (a shell script with two file arguments). */
  readonly executable: string;
  readonly arguments: string[];
  /** Waits until `copies` processes of the program have started; throws after `timeout` ms. */
  started(copies: number, timeout?: number): Promise<void>;
  /** How many processes of the program have started so far. */
  count(): Promise<number>;
  /** Lets every waiting (and every later) process of the program exit 0. */
  release(): Promise<void>;
}

/** Helpers a ported module gets, bound to one target and one launcher. */
export interface PortContext {
  readonly target: PortTarget;
  /** The launcher every job of this run uses (psij-python's `execparams.launcher`). */
  readonly launcher: string;
  /**
   * Registers a test titled `<psij-python test name>: <what it checks>`; one listed in
   * `known-defects.ts` for this target and launcher is registered as `it.todo` naming the defect.
   */
  it(title: string, body: () => Promise<void>, timeout?: number): void;
  /** The executor of this launcher's tests (created before the first test, closed after the last). */
  executor(): JobExecutor;
  /** A timeout scaled for the target (batch systems are slower than local processes). */
  T(ms: number): number;
  /** A fresh directory of its own for one test. */
  dir(): Promise<string>;
  /** Writes an executable shell script into a fresh directory; returns its path. */
  script(name: string, body: string, shell?: string): Promise<string>;
  /** `spec` with this run's launcher (as psij-python's `_get_executor_instance` sets it). */
  spec(spec: JobSpecInput): JobSpecInput;
  /** Submits `spec` (with the launcher) and waits for a final state; throws if none comes in time. */
  run(spec: JobSpecInput, timeout?: number): Promise<{ job: Job; status: JobStatus }>;
  /** A fresh {@link Hold}. */
  hold(): Promise<Hold>;
}

/** Reads a file, or undefined if it does not exist. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True if `file` exists (without following a final symbolic link). */
export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Polls `pred` every 50 ms until it holds or `ms` pass; returns its last value. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

/** Describes what a status is, for assertion messages. */
export function describeStatus(status: JobStatus | undefined): string {
  if (!status) return 'no status';
  return `${status.state} exit=${status.exitCode ?? '-'} message=${JSON.stringify(status.message ?? '')}`;
}

/**
 * Registers `register`'s tests once per launcher of `target`, under
 * `psij-python <module> on <target> › launcher <name>`.
 */
export function portedModule(target: PortTarget, module: string, register: (ctx: PortContext) => void): void {
  const scale = target.timeScale ?? 1;
  describe(`psij-python ${module} on ${target.name}`, () => {
    for (const launcher of target.launchers) {
      describe(`launcher ${launcher}`, () => {
        let ex: JobExecutor | undefined;
        let root = '';
        let n = 0;
        const holds: Hold[] = [];
        beforeAll(async () => {
          root = await mkdtemp(path.join(os.tmpdir(), `exa-psij-${target.name}-${launcher}-`));
          ex = await target.create();
        });
        afterAll(async () => {
          // A test that failed half-way must not leave its held jobs polling forever.
          await Promise.all(holds.map((h) => h.release()));
          await ex?.close();
          if (root) await rm(root, { recursive: true, force: true });
        });
        const T = (ms: number) => ms * scale;
        const dir = () => mkdtemp(path.join(root, `t${++n}-`));
        const script = async (name: string, body: string, shell = '/bin/sh') => {
          const file = path.join(await dir(), name);
          await writeFile(file, `#!${shell}\n${body}\n`);
          await chmod(file, 0o755);
          return file;
        };
        const withLauncher = (spec: JobSpecInput): JobSpecInput => ({ ...spec, launcher });
        const ctx: PortContext = {
          target,
          launcher,
          it(title, body, timeout = T(90_000)) {
            const defect = knownDefect(target.name, launcher, title.split(':')[0]!.trim());
            if (defect) it.todo(`${title} — KNOWN DEFECT: ${defect.defect}`);
            else it(title, body, timeout);
          },
          executor: () => {
            if (!ex) throw new Error('the executor is created in beforeAll');
            return ex;
          },
          T,
          dir,
          script,
          spec: withLauncher,
          async run(spec, timeout = T(60_000)) {
            const job = await ctx.executor().submit(new Job(withLauncher(spec)));
            const status = await job.wait({ timeout });
            if (!status)
              throw new Error(`job ${job.nativeId} did not finish within ${timeout} ms (${describeStatus(job.status)})`);
            return { job, status };
          },
          async hold() {
            const d = await dir();
            const startedFile = path.join(d, 'started');
            const gate = path.join(d, 'gate');
            const program = path.join(d, 'hold.sh');
            // Each process notes its start, then waits for the gate file: nothing here depends on timing.
            // It also ends (exit 3) once its started file is gone: the scratch dir was removed under it.
            await writeFile(
              program,
              '#!/bin/sh\necho "$$" >> "$1"\nwhile [ ! -e "$2" ]; do [ -e "$1" ] || exit 3; sleep 0.05; done\n',
            );
            await chmod(program, 0o755);
            const count = async () => ((await readIfExists(startedFile)) ?? '').split('\n').filter(Boolean).length;
            const hold: Hold = {
              executable: program,
              arguments: [startedFile, gate],
              count,
              async started(copies, timeout = T(60_000)) {
                if (!(await until(async () => (await count()) >= copies, timeout))) {
                  throw new Error(`only ${await count()} of ${copies} held processes started within ${timeout} ms`);
                }
              },
              release: () => writeFile(gate, ''),
            };
            holds.push(hold);
            return hold;
          },
        };
        register(ctx);
      });
    }
  });
}
