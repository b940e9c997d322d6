/**
 * Running scheduler commands: argv without a shell, a timeout, bounded output.
 * @module
 */
import { spawn } from 'node:child_process';
import { AbortedError, BackendError } from '@exaworks/jpsi-core';
import type { CommandResult, SchedulerCommand } from './scheduler.js';

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Kill the command after this many ms. */
  readonly timeoutMs: number;
  /** Working directory. */
  readonly cwd?: string;
  /** Aborts (kills) the command. */
  readonly signal?: AbortSignal;
}

// A queue listing of a few thousand jobs is well under this; more means something is wrong.
const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * Runs a scheduler command and resolves with its exit status and output, whatever the status.
 * @throws {@link @exaworks/jpsi-core!BackendError} if it cannot be started or times out;
 * {@link @exaworks/jpsi-core!AbortedError} if `signal` aborts it.
 */
export function runCommand(command: SchedulerCommand, options: RunCommandOptions): Promise<CommandResult> {
  const [program, ...args] = command.argv;
  if (program === undefined) return Promise.reject(new BackendError('A scheduler command is empty.'));
  return new Promise<CommandResult>((resolve, reject) => {
    if (options.signal?.aborted) return reject(new AbortedError(`${program} was aborted`, { cause: options.signal.reason }));
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: command.env ? { ...process.env, ...command.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let settled = false;
    let why: 'timeout' | 'abort' | 'overflow' | undefined;
    const kill = (reason: typeof why) => {
      why = reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), options.timeoutMs);
    const onAbort = () => kill('abort');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) kill('overflow');
      else into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    child.on('error', (cause) =>
      done(() => reject(new BackendError(`Could not run ${program}: ${cause.message}. Is it installed and on PATH?`, { cause }))),
    );
    child.on('close', (code, signal) =>
      done(() => {
        const text = (b: Buffer[]) => Buffer.concat(b).toString('utf8');
        if (why === 'timeout') return reject(new BackendError(`${program} did not answer within ${options.timeoutMs} ms.`));
        if (why === 'abort') return reject(new AbortedError(`${program} was aborted`, { cause: options.signal?.reason }));
        if (why === 'overflow') return reject(new BackendError(`${program} wrote more than ${MAX_OUTPUT} bytes of output.`));
        resolve({
          exitCode: code ?? 128 + (signal ? (osSignals[signal] ?? 0) : 0),
          stdout: text(out),
          stderr: text(err),
        });
      }),
    );
    child.stdin.on('error', () => undefined); // a command that does not read its stdin
    child.stdin.end(command.stdin ?? '');
  });
}

const osSignals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };

/** The first non-empty line of a command's stderr (else stdout), for messages. */
export function firstLine(result: CommandResult): string {
  const text = `${result.stderr}\n${result.stdout}`.split('\n').find((l) => l.trim() !== '');
  return text?.trim() ?? `exit status ${result.exitCode}`;
}
