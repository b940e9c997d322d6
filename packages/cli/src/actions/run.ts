/** The implementation of `exaworks run`. @module */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { AbortedError, Job, createJobSpec, isFinalState, jobSpecToInput, type JobSpec } from '@exaworks/jpsi-core';
import type { Context } from '../context.js';
import { jobFlagsOf, type CommandFlags } from '../flags.js';
import { CLEAR_LINE, exitCodeForJob, formatStatusLine, toJsonText } from '../format.js';
import type { CliIO } from '../io.js';
import { jobJson } from '../job-json.js';
import { buildJobSpec } from '../options.js';
import { interruptedExitCode, withExecutor } from '../session.js';
import { FileFollower } from '../tail.js';

interface RunFlags extends CommandFlags {
  quiet?: boolean;
}

/** The live status of `run`: redrawn in place on a TTY, one line per state change otherwise. */
class StatusLine {
  #shown = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #start = Date.now();

  constructor(
    private readonly io: CliIO,
    private readonly job: Job,
    private readonly enabled: boolean,
  ) {}

  start(): void {
    if (!this.enabled) return;
    this.job.onStatus(() => this.changed());
    // Elapsed time ticks on a terminal only; plain logs get a line per state change.
    if (this.io.stderrIsTTY) {
      this.#timer = setInterval(() => this.draw(), 1000).unref();
      this.draw();
    }
  }

  private text(): string {
    return `exaworks: ${formatStatusLine(this.job.toJSON(), Date.now() - this.#start)}`;
  }

  private changed(): void {
    if (this.io.stderrIsTTY) this.draw();
    // The final line waits for stop(), so it comes after the last of the job's own output.
    else if (!isFinalState(this.job.status.state)) this.io.stderr(`${this.text()}\n`);
  }

  draw(): void {
    if (!this.enabled || !this.io.stderrIsTTY) return;
    this.io.stderr(`${CLEAR_LINE}${this.text()}`);
    this.#shown = true;
  }

  /** Removes the line before other output is written below it. */
  clear(): void {
    if (this.#shown) this.io.stderr(CLEAR_LINE);
    this.#shown = false;
  }

  /** Leaves the final status as a permanent line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (!this.enabled) return;
    this.clear();
    if (this.io.stderrIsTTY || isFinalState(this.job.status.state)) this.io.stderr(`${this.text()}\n`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `exaworks run [executable] [args...]`. */
export async function run(ctx: Context, cmd: Command, executable: string | undefined, args: string[]): Promise<void> {
  const { io } = ctx;
  const flags = cmd.opts<RunFlags>();
  const jobFlags = jobFlagsOf(cmd, executable, executable === undefined ? undefined : args);
  let capture: string | undefined;
  // Validate before touching any executor, so bad input is a usage error (exit 2) whatever the backend.
  let spec: JobSpec = await buildJobSpec(jobFlags, io.cwd);
  await withExecutor(ctx, async (executor) => {
    // Output the spec does not send to a file is captured and shown live (not in --json mode).
    if (!ctx.json && (spec.stdoutPath === undefined || spec.stderrPath === undefined)) {
      capture = await mkdtemp(path.join(os.tmpdir(), 'exaworks-run-'));
      spec = createJobSpec({
        ...jobSpecToInput(spec),
        stdoutPath: spec.stdoutPath ?? path.join(capture, 'stdout'),
        stderrPath: spec.stderrPath ?? path.join(capture, 'stderr'),
      });
    }
    const job = new Job(spec);
    const status = new StatusLine(io, job, !ctx.json && flags.quiet !== true);
    const followers: FileFollower[] = [];
    if (capture) {
      const around = [() => status.clear(), () => status.draw()] as const;
      if (jobFlags.stdout === undefined && spec.stdoutPath?.startsWith(capture))
        followers.push(new FileFollower(spec.stdoutPath, io.stdout, ...around));
      if (jobFlags.stderr === undefined && spec.stderrPath?.startsWith(capture))
        followers.push(new FileFollower(spec.stderrPath, io.stderr, ...around));
    }
    status.start();
    ctx.logger.debug('submitting', { executor: executor.name, executable: spec.executable });
    let interrupted = false;
    try {
      await executor.submit(job, io.signal ? { signal: io.signal } : {});
      ctx.logger.debug('submitted', { nativeId: job.nativeId });
      let done = false;
      const poller = (async () => {
        while (!done) {
          await Promise.all(followers.map((f) => f.poll()));
          await sleep(100);
        }
      })();
      try {
        await job.wait(io.signal ? { signal: io.signal } : {});
      } catch (err) {
        if (!(err instanceof AbortedError)) throw err;
        interrupted = true;
      } finally {
        done = true;
        await poller;
      }
    } catch (err) {
      if (err instanceof AbortedError && io.signal?.aborted) interrupted = true;
      else {
        status.stop();
        throw err;
      }
    }
    if (interrupted) {
      if (job.nativeId !== undefined && !isFinalState(job.status.state)) {
        status.clear();
        if (!ctx.json) io.stderr(`exaworks: interrupted; canceling job ${job.nativeId}\n`);
        try {
          await executor.cancel(job);
          await job.wait({ timeout: 10_000 });
        } catch (err) {
          ctx.logger.warn('cancel after interrupt failed', { error: err });
        }
      }
    }
    await Promise.all(followers.map((f) => f.close()));
    status.stop();
    if (ctx.json) ctx.out(toJsonText(jobJson(job)));
    io.setExitCode(interrupted ? interruptedExitCode(io.signal) : exitCodeForJob(job.status.state, job.status.exitCode));
  });
  if (capture) await rm(capture, { recursive: true, force: true }).catch(() => undefined);
}
