/**
 * The wire protocol: JSON text frames, their schemas, and the close codes the hub uses.
 * @module
 */
import type { WebSocket } from 'ws';
import { z } from 'zod';

/** Protocol version sent in the challenge and the hello. */
export const PROTOCOL_VERSION = 1;

/**
 * WebSocket close codes used by the hub and the client. Each close also writes one log line
 * (`warn` for a misbehaving peer) naming the peer and the reason.
 */
export const CloseCode = {
  /** Normal close (`close()` on either side). */
  NORMAL: 1000,
  /** The hub is shutting down; clients reconnect with backoff. */
  GOING_AWAY: 1001,
  /** A frame was larger than `maxFrameBytes` (sent by `ws` itself). */
  TOO_BIG: 1009,
  /** Malformed JSON, a binary frame, an unknown message type or a frame that does not fit its schema. */
  PROTOCOL: 4400,
  /** The handshake was refused, or a frame other than the handshake came before it. */
  UNAUTHENTICATED: 4401,
  /** The handshake did not finish within `handshakeTimeoutMs`. */
  HANDSHAKE_TIMEOUT: 4408,
  /** Another connection with the same client id authenticated; this older one is closed. */
  REPLACED: 4409,
} as const;

/** Topic and RPC names: 1–200 characters of letters, digits and `. _ : / -`. */
export const TopicNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:/-]{1,200}$/, 'a topic name is 1-200 letters, digits or . _ : / -');

/** Client ids: 1–128 characters of letters, digits and `. _ -`. */
export const ClientIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'a client id is 1-128 letters, digits or . _ -');

const seq = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const nonce = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a nonce is 32 random bytes in base64url');
const origin = z.string().min(1).max(200);
const callId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const errorBody = z.strictObject({ code: z.string().max(100).optional(), msg: z.string().max(10_000) });

/** Most sequence numbers acknowledged by one `ack` frame (and most entries in it). */
export const MAX_ACKS = 100_000;

const ackCount = (a: readonly (readonly unknown[])[]): number => {
  let n = 0;
  for (const e of a) n += e.length - 1;
  return n;
};

/** Frames a client sends. The first one must be `hello`. */
export const ClientFrameSchema = z.discriminatedUnion('t', [
  z.strictObject({
    t: z.literal('hello'),
    v: z.literal(PROTOCOL_VERSION),
    id: ClientIdSchema,
    epoch: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    nonce: nonce.optional(),
    mac: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    token: z.string().min(1).max(4096).optional(),
    subs: z.array(TopicNameSchema).max(10_000),
    serves: z.array(TopicNameSchema).max(10_000),
    // The largest frame this client accepts: the hub keeps its batches under it.
    max: z.number().int().min(1024).optional(),
  }),
  // Publish: `w` asks the hub to hold the message until a subscriber exists; `lo` is the sender's
  // lowest unacknowledged number (everything below it is done), which keeps receivers' dedup small.
  z.strictObject({
    t: z.literal('pub'),
    s: seq,
    tp: TopicNameSchema,
    d: z.unknown(),
    w: z.boolean().optional(),
    lo: seq.optional(),
  }),
  // Acknowledgements of deliveries, batched: one [origin, seq, seq, …] entry per sender.
  z.strictObject({
    t: z.literal('ack'),
    a: z
      .array(z.tuple([origin, seq], seq))
      .min(1)
      .max(MAX_ACKS)
      .refine((a) => ackCount(a) <= MAX_ACKS, `at most ${MAX_ACKS} sequence numbers per ack frame`),
  }),
  z.strictObject({ t: z.enum(['sub', 'unsub', 'serve']), r: callId, tp: TopicNameSchema }),
  z.strictObject({ t: z.literal('call'), c: callId, tp: TopicNameSchema, d: z.unknown() }),
  // A serving client's reply to a routed `req`.
  z.strictObject({ t: z.literal('rep'), o: origin, c: callId, d: z.unknown().optional(), e: errorBody.optional() }),
]);

/** A frame a client sends. */
export type ClientFrame = z.output<typeof ClientFrameSchema>;

/** Frames the hub sends. */
export const HubFrameSchema = z.discriminatedUnion('t', [
  // `max`: the largest frame the hub accepts; the client keeps its frames and batches under it.
  z.strictObject({
    t: z.literal('challenge'),
    v: z.number(),
    nonce,
    method: z.enum(['hmac', 'token']),
    max: z.number().int().min(1024).optional(),
  }),
  z.strictObject({
    t: z.literal('welcome'),
    mac: z.string().optional(),
    refused: z.array(z.strictObject({ tp: z.string(), code: z.string(), msg: z.string() })),
  }),
  z.strictObject({ t: z.literal('refused'), reason: z.string(), msg: z.string() }),
  z.strictObject({ t: z.literal('msg'), o: origin, s: seq, tp: z.string(), d: z.unknown(), lo: seq.optional() }),
  z.strictObject({ t: z.literal('puback'), s: z.array(seq) }),
  z.strictObject({ t: z.literal('pubnack'), s: seq, code: z.string(), msg: z.string() }),
  z.strictObject({ t: z.literal('ok'), r: callId }),
  z.strictObject({ t: z.literal('err'), r: callId, code: z.string(), msg: z.string() }),
  z.strictObject({ t: z.literal('req'), o: origin, c: callId, tp: z.string(), d: z.unknown() }),
  z.strictObject({ t: z.literal('reply'), c: callId, d: z.unknown().optional(), e: errorBody.optional() }),
]);

/** A frame the hub sends. */
export type HubFrame = z.output<typeof HubFrameSchema>;

const TOPIC_RE = /^[A-Za-z0-9._:/-]{1,200}$/;
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/**
 * The hot frames (`pub`, `ack`) checked by hand, exactly as {@link ClientFrameSchema} would;
 * anything else (or anything doubtful) returns undefined and goes through the schema.
 */
export function fastClientFrame(x: unknown): ClientFrame | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined;
  const f = x as Record<string, unknown>;
  if (f.t === 'pub') {
    let n = 0;
    for (const k in f) {
      if (k !== 't' && k !== 's' && k !== 'tp' && k !== 'd' && k !== 'w' && k !== 'lo') return undefined;
      n += 1;
    }
    if (!isSeq(f.s) || typeof f.tp !== 'string' || !TOPIC_RE.test(f.tp)) return undefined;
    if (f.w !== undefined && typeof f.w !== 'boolean') return undefined;
    if ('lo' in f && !isSeq(f.lo)) return undefined;
    if (n < 3 || !('d' in f)) return undefined;
    return f as ClientFrame;
  }
  if (f.t === 'ack') {
    const a = f.a;
    if (Object.keys(f).length !== 2 || !Array.isArray(a) || a.length === 0 || a.length > MAX_ACKS) return undefined;
    let n = 0;
    for (const p of a) {
      if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'string' || p[0].length === 0 || p[0].length > 200) {
        return undefined;
      }
      for (let i = 1; i < p.length; i++) if (!isSeq(p[i])) return undefined;
      n += p.length - 1;
    }
    return n <= MAX_ACKS ? (f as ClientFrame) : undefined;
  }
  return undefined;
}

/** The hot frames the client receives (`msg`, `puback`) checked by hand; undefined sends the rest through {@link HubFrameSchema}. */
export function fastHubFrame(x: unknown): HubFrame | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined;
  const f = x as Record<string, unknown>;
  if (f.t === 'msg') {
    if (typeof f.o !== 'string' || f.o.length === 0 || f.o.length > 200 || !isSeq(f.s) || typeof f.tp !== 'string')
      return undefined;
    for (const k in f) if (k !== 't' && k !== 'o' && k !== 's' && k !== 'tp' && k !== 'd' && k !== 'lo') return undefined;
    if ('lo' in f && !isSeq(f.lo)) return undefined;
    return 'd' in f ? (f as HubFrame) : undefined;
  }
  if (f.t === 'puback') {
    if (Object.keys(f).length !== 2 || !Array.isArray(f.s) || !f.s.every(isSeq)) return undefined;
    return f as HubFrame;
  }
  return undefined;
}

/** Most frames in one batch (a WebSocket message holding a JSON array of frames). */
export const MAX_BATCH = 10_000;

/** UTF-16 units of frames packed into one batch message (at most 768 KiB of UTF-8). */
const BATCH_UNITS = 256 * 1024;

/**
 * Sends already-serialised frames, packing consecutive ones into JSON-array batches: one WebSocket
 * message (and one write) for many small frames is what makes a busy connection cheap. A batch
 * stays under `peerMaxBytes`, the largest frame the peer accepts.
 */
export function sendBatched(ws: WebSocket, frames: readonly string[], peerMaxBytes = 1 << 20): void {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; 2 units for the brackets.
  const limit = Math.min(BATCH_UNITS, Math.floor(peerMaxBytes / 3) - 2);
  let i = 0;
  while (i < frames.length) {
    let units = frames[i]!.length;
    let j = i + 1;
    while (j < frames.length && j - i < MAX_BATCH && units + frames[j]!.length + 1 <= limit) units += frames[j++]!.length + 1;
    ws.send(j - i === 1 ? frames[i]! : `[${frames.slice(i, j).join(',')}]`);
    i = j;
  }
}
