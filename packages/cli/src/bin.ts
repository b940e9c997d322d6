#!/usr/bin/env node
/**
 * The `exaworks` executable: wires SIGINT, SIGTERM and SIGHUP to an AbortSignal and runs the
 * program on argv. Imports commander and the command registrations only (see program.ts).
 * @module
 */
import { exitCodeForSignal } from './exit-codes.js';
import { processIO } from './io.js';

const argv = process.argv.slice(2);
// `exaworks --version` alone is answered before commander and the commands are even loaded.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { CLI_VERSION } = await import('./version.js');
  process.stdout.write(`${CLI_VERSION}\n`, () => process.exit(0));
} else {
  await main();
}

async function main(): Promise<void> {
  // A reader that went away (`exaworks list | head`) is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }

  const interrupt = new AbortController();
  let interrupts = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      interrupts += 1;
      // First signal: let the command cancel its job and exit 128+n; a second one forces the exit.
      if (interrupts === 1) interrupt.abort(new Error(signal));
      else process.exit(exitCodeForSignal(signal));
    });
  }

  const { runCli } = await import('./program.js');
  const code = await runCli(argv, processIO(interrupt.signal));
  process.exitCode = code;
  // Executors may leave watchers or timers behind; the command is over, so leave now.
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))));
  process.exit(code);
}
