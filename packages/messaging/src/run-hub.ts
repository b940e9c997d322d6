/**
 * `runHub`: what `exaworks hub` does, as a function. Validates its options, starts a hub, logs
 * where it listens, and runs until the signal aborts.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createLogger, type Logger, parseWith, StorageError } from '@exaworks/jpsi-core';
import { isValidEnvName } from '@exaworks/jpsi-core/internal';
import { z } from 'zod';
import { loadSecret } from './auth.js';
import { MessageHub } from './hub.js';

/** Options of {@link runHub} (the flags of `exaworks hub`). */
export interface RunHubOptions {
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port (0: any free one; the log line says which). @default 0 */
  readonly port?: number;
  /** A file holding the shared secret, readable by its owner only. Give this or `secretEnv`. */
  readonly secretFile?: string;
  /** The name of an environment variable holding the shared secret. Give this or `secretFile`. */
  readonly secretEnv?: string;
  /** PEM certificate file: the hub then speaks `wss://` (give `tlsKey` too). */
  readonly tlsCert?: string;
  /** PEM private key file of `tlsCert` (readable by its owner only). */
  readonly tlsKey?: string;
}

const RunHubOptionsSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(0),
    secretFile: z.string().min(1).optional(),
    secretEnv: z.string().refine(isValidEnvName, 'an environment variable name').optional(),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
  })
  .refine((o) => (o.secretFile === undefined) !== (o.secretEnv === undefined), {
    message: 'give exactly one of secretFile and secretEnv',
    path: ['secretFile'],
  })
  .refine((o) => (o.tlsCert === undefined) === (o.tlsKey === undefined), {
    message: 'give tlsCert and tlsKey together',
    path: ['tlsKey'],
  });

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new StorageError(`Could not read the TLS ${what} ${file}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Runs a hub until `signal` aborts, then closes it (connections get close code 1001). Logs one
 * `listening` record with the URL (at level info).
 * @throws `ValidationError` for invalid options; {@link InsecureSecretError} for a secret file
 *   others can read or a missing/short secret; `StorageError` for unreadable TLS files.
 */
export async function runHub(
  options: RunHubOptions,
  init: { signal?: AbortSignal; logger?: Logger; onListening?: (url: string) => void } = {},
): Promise<void> {
  const o = parseWith(RunHubOptionsSchema, options, 'hub options');
  const secret = loadSecret(o.secretFile !== undefined ? { file: o.secretFile } : { env: o.secretEnv! });
  const logger = init.logger ?? createLogger({ component: 'messaging-hub', level: 'info' });
  const tls = o.tlsCert && o.tlsKey ? { cert: readPem(o.tlsCert, 'certificate'), key: readPem(o.tlsKey, 'key') } : undefined;
  if (init.signal?.aborted) return;
  const hub = await MessageHub.listen({ host: o.host, port: o.port, auth: { secret }, logger, ...(tls ? { tls } : {}) });
  logger.info('listening', { url: hub.url });
  init.onListening?.(hub.url);
  await new Promise<void>((resolve) => {
    if (!init.signal) return; // runs until the process ends
    if (init.signal.aborted) resolve();
    init.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await hub.close();
  logger.info('stopped', { url: hub.url });
}
