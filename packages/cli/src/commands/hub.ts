/** `exaworks hub`: starts a messaging hub (`@exaworks/messaging` is loaded only when the command runs). @module */
import type { Command } from 'commander';
import { lazyAction } from '../action.js';
import type { CliIO } from '../io.js';

/**
 * Registers `hub` on `program`. The hub runs until SIGINT, SIGTERM or SIGHUP, then closes its
 * connections (close code 1001) and the command exits 0.
 */
export function register(program: Command, io: CliIO): void {
  program
    .command('hub')
    .summary('start a messaging hub (authenticated WebSocket pub/sub and RPC)')
    .description(
      'Start an @exaworks/messaging hub. Peers authenticate with a shared secret (HMAC challenge-response; the secret never crosses the wire). ' +
        'The secret comes from a file only you can read (--secret-file) or an environment variable (--secret-env), never from the command line. ' +
        'Logs a JSON line {"msg":"listening","url":…} on stderr once it listens; runs until SIGINT, SIGTERM or SIGHUP.',
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
    .action(lazyAction(io, async () => (await import('../actions/hub.js')).hub));
}
