/**
 * Small helpers shared by the hub and the client for RPC error bodies and reply validation.
 * @module
 */
import { ExaworksError, issuesFromZod } from '@exaworks/jpsi-core';
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
