/**
 * Authentication: where secrets come from, and the HMAC challenge-response both sides compute.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parseWith } from '@exaworks/jpsi-core';
import { isValidEnvName } from '@exaworks/jpsi-core/internal';
import { z } from 'zod';
import { InsecureSecretError } from './errors.js';

/** The shortest secret accepted, in bytes. */
export const MIN_SECRET_BYTES = 16;

/** Where a secret comes from: a file only its owner can read, or an environment variable. Never argv. */
export type SecretSource = { readonly file: string } | { readonly env: string };

const SecretSourceSchema = z.union([
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ env: z.string().refine(isValidEnvName, 'an environment variable name') }),
]);

/**
 * Reads a shared secret (surrounding whitespace trimmed).
 * @throws {@link InsecureSecretError} if the file can be read by group or others, or the secret
 *   is missing, empty or shorter than {@link MIN_SECRET_BYTES}.
 * @throws `ValidationError` for a malformed source.
 */
export function loadSecret(source: SecretSource): Buffer {
  const src = parseWith(SecretSourceSchema, source, 'secret source');
  let text: string;
  let where: string;
  if ('file' in src) {
    where = `secret file ${src.file}`;
    let mode: number;
    try {
      mode = statSync(src.file).mode;
    } catch (cause) {
      throw new InsecureSecretError(`Cannot read the ${where}: ${(cause as Error).message}`, { cause });
    }
    if ((mode & 0o077) !== 0) {
      throw new InsecureSecretError(
        `The ${where} can be read by group or others (mode ${(mode & 0o777).toString(8)}). Run: chmod 600 ${src.file}`,
      );
    }
    text = readFileSync(src.file, 'utf8');
  } else {
    where = `environment variable ${src.env}`;
    text = process.env[src.env] ?? '';
  }
  const secret = Buffer.from(text.trim(), 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new InsecureSecretError(
      `The ${where} holds ${secret.length === 0 ? 'no secret' : `only ${secret.length} bytes`}; at least ${MIN_SECRET_BYTES} are needed ` +
        '(e.g. `openssl rand -hex 32`).',
    );
  }
  return secret;
}

/** Turns a secret given inline into bytes, refusing a short one. */
export function secretBytes(secret: string | Uint8Array): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new InsecureSecretError(`The secret has ${bytes.length} bytes; at least ${MIN_SECRET_BYTES} are needed.`);
  }
  return bytes;
}

/** 32 random bytes, base64url (43 characters). */
export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

// Role labels keep the two proofs distinct, so a hub's proof can never be reflected back as a client's.
/** The client's proof: HMAC over both nonces and its id. */
export function clientProof(secret: Buffer, hubNonce: string, clientNonce: string, id: string): string {
  return createHmac('sha256', secret).update(`exaworks-messaging/1 client ${hubNonce} ${clientNonce} ${id}`).digest('hex');
}

/** The hub's proof, which the client checks before trusting the hub. */
export function hubProof(secret: Buffer, hubNonce: string, clientNonce: string, id: string): string {
  return createHmac('sha256', secret).update(`exaworks-messaging/1 hub ${clientNonce} ${hubNonce} ${id}`).digest('hex');
}

/** Compares two strings in constant time (for proofs and tokens). */
export function safeEqual(a: string, b: string): boolean {
  const x = createHmac('sha256', 'cmp').update(a).digest();
  const y = createHmac('sha256', 'cmp').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}
