/**
 * `@exaworks/cli`: the `exaworks` command line of the ExaWorks SDK, embeddable.
 *
 * ### Usage
 * ```ts
 * import { runCli } from '@exaworks/cli';
 *
 * const out: string[] = [];
 * const code = await runCli(['spec', 'check', 'job.yaml'], { stdout: (s) => out.push(String(s)) });
 * ```
 * @module
 */
export { createProgram, runCli, CLI_VERSION } from './program.js';
export { processIO, type CliIO, type Writer } from './io.js';
export { ExitCode } from './exit-codes.js';
