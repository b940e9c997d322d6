#!/usr/bin/env node
/**
 * The `exaworks` executable: wires Ctrl-C to an AbortSignal and runs the program on argv.
 * @module
 */
import { processIO } from './io.js';
import { runCli } from './program.js';

// A reader that went away (`exaworks list | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const interrupt = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  // First Ctrl-C: let the command cancel its job and exit 130; a second one forces the exit.
  if (interrupts === 1) interrupt.abort(new Error('SIGINT'));
  else process.exit(130);
});

const code = await runCli(process.argv.slice(2), processIO(interrupt.signal));
process.exitCode = code;
// Executors may leave watchers or timers behind; the command is over, so leave now.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))));
process.exit(code);
