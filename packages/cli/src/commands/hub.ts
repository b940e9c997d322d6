/**
 * `exaworks hub`: starts a messaging hub (`@exaworks/messaging`, loaded only when the command runs).
 * @module
 */
import path from 'node:path';
import { createLogger } from '@exaworks/jpsi-core';
import type { Command } from 'commander';
import { exitCodeForError, formatError } from '../format.js';
import type { CliIO } from '../io.js';

interface HubFlags {
  host: string;
  port: string;
  secretFile?: string;
  secretEnv?: string;
  tlsCert?: string;
  tlsKey?: string;
  verbose?: boolean;
}

/**
 * Registers `hub` on `program`. The hub runs until SIGINT or SIGTERM, then closes its connections
 * (close code 1001) and the command exits 0.
 */
export function registerHubCommand(program: Command, io: CliIO): void {
  program
    .command('hub')
    .summary('start a messaging hub (authenticated WebSocket pub/sub and RPC)')
    .description(
      'Start an @exaworks/messaging hub. Peers authenticate with a shared secret (HMAC challenge-response; the secret never crosses the wire). ' +
        'The secret comes from a file only you can read (--secret-file) or an environment variable (--secret-env), never from the command line. ' +
        'Logs a JSON line {"msg":"listening","url":…} on stderr once it listens; runs until SIGINT or SIGTERM.',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0: any free port; the listening line says which)', '0')
    .option('--secret-file <file>', 'file holding the shared secret (mode 0600)')
    .option('--secret-env <NAME>', 'environment variable holding the shared secret')
    .option('--tls-cert <file>', 'PEM certificate: serve wss:// (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('-v, --verbose', 'debug logs and stack traces for errors')
    .addHelpText(
      'after',
      `
Examples:
  $ openssl rand -hex 32 > ~/.exaworks/hub.secret && chmod 600 ~/.exaworks/hub.secret
  $ exaworks hub --port 7700 --secret-file ~/.exaworks/hub.secret
  $ EXAWORKS_HUB_SECRET=… exaworks hub --secret-env EXAWORKS_HUB_SECRET --tls-cert cert.pem --tls-key key.pem`,
    )
    .action(async (flags: HubFlags) => {
      const stop = new AbortController();
      const onTerm = () => stop.abort(new Error('SIGTERM'));
      const onInterrupt = () => stop.abort(io.signal?.reason);
      process.once('SIGTERM', onTerm);
      io.signal?.addEventListener('abort', onInterrupt, { once: true });
      const resolve = (file: string | undefined) => (file === undefined ? undefined : path.resolve(io.cwd, file));
      try {
        const { runHub } = await import('@exaworks/messaging');
        const logger = createLogger({ component: 'hub', level: flags.verbose ? 'debug' : 'info', write: (l) => io.stderr(l) });
        const options = {
          host: flags.host,
          port: Number(flags.port),
          ...(flags.secretFile !== undefined ? { secretFile: resolve(flags.secretFile) } : {}),
          ...(flags.secretEnv !== undefined ? { secretEnv: flags.secretEnv } : {}),
          ...(flags.tlsCert !== undefined ? { tlsCert: resolve(flags.tlsCert) } : {}),
          ...(flags.tlsKey !== undefined ? { tlsKey: resolve(flags.tlsKey) } : {}),
        };
        await runHub(options, { signal: stop.signal, logger });
      } catch (err) {
        io.stderr(formatError(err, flags.verbose === true));
        io.setExitCode(exitCodeForError(err));
      } finally {
        process.off('SIGTERM', onTerm);
        io.signal?.removeEventListener('abort', onInterrupt);
      }
    });
}
