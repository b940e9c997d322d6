/**
 * Small helpers shared by the hub and the client for RPC error bodies and reply validation.
 * @module
 */
import { ExaworksError, issuesFromZod, ValidationError } from '@exaworks/jpsi-core';
import type { z } from 'zod';
import type { Rpc } from './topics.js';

/** The error body of a reply whose request or reply did not fit its schema. */
export function errorBody(error: z.ZodError, what: 'request' | 'reply' | 'message'): { code: string; msg: string } {
  const issues = issuesFromZod(error).map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`);
  return { code: 'EXAWORKS_VALIDATION', msg: `invalid ${what}: ${issues.join('; ')}` };
}

/** The error body sent back when a handler throws. */
export function replyError(err: unknown): { code?: string; msg: string } {
  const msg = err instanceof Error ? err.message : String(err);
  if (err instanceof ExaworksError) return { code: err.code, msg };
  return { msg };
}

/** Checks a handler's reply against the RPC's reply schema; throws the zod error's issues as an Error. */
export function validateReply(rpc: Rpc, reply: unknown): unknown {
  const r = rpc.reply.safeParse(reply);
  if (!r.success) throw new Error(errorBody(r.error, 'reply').msg);
  return r.data;
}

/**
 * Serialises a message's data (or an RPC request) for the wire.
 * @throws `ValidationError` naming `subject` for data JSON cannot carry (undefined, a function, a
 * BigInt, a cycle): sent as is, it would make a frame the hub refuses on every reconnection.
 */
export function encodeData(data: unknown, subject: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new ValidationError(subject, [{ path: '', message: `cannot be sent as JSON: ${(err as Error).message}` }], {
      cause: err,
    });
  }
  if (text === undefined) {
    throw new ValidationError(subject, [{ path: '', message: 'cannot be sent as JSON (undefined, a function or a symbol)' }]);
  }
  return text;
}

/** Bytes a frame's envelope adds around its data at most (ids, names and numbers at their size limits). */
export const ENVELOPE_BYTES = 512;

/**
 * Checks that data of `text` fits in a frame of at most `maxBytes`.
 * @throws `ValidationError` naming `subject` when it does not.
 */
export function checkSize(text: string, maxBytes: number, subject: string): void {
  // UTF-8 needs at most 3 bytes per UTF-16 unit: count bytes only when the text might not fit.
  if (text.length * 3 + ENVELOPE_BYTES <= maxBytes) return;
  const bytes = Buffer.byteLength(text);
  if (bytes + ENVELOPE_BYTES > maxBytes) {
    throw new ValidationError(subject, [
      {
        path: '',
        message: `is ${bytes} bytes of JSON; a frame holds at most ${maxBytes - ENVELOPE_BYTES} (maxFrameBytes ${maxBytes} of this client or the hub, less ${ENVELOPE_BYTES} for the envelope)`,
      },
    ]);
  }
}
