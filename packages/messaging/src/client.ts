/**
 * `MessageClient`: a peer of a {@link MessageHub}. It publishes and subscribes, calls and serves
 * RPCs, and keeps every accepted message until the hub acknowledges it, across reconnections.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  AbortedError,
  BackendError,
  createLogger,
  ErrorCode,
  type Logger,
  parseWith,
  ValidationError,
} from '@exaworks/jpsi-core';
import { type RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { clientProof, hubProof, newNonce, safeEqual, secretBytes } from './auth.js';
import { BoundedMap, Dedup, PairMap } from './dedup.js';
import {
  ConnectionClosedError,
  ForbiddenError,
  HandshakeRefusedError,
  QueueFullError,
  type RefusalReason,
  RemoteError,
  ReplyTimeoutError,
  UnknownTopicError,
} from './errors.js';
import { Fifo } from './fifo.js';
import { Outbox } from './outbox.js';
import {
  ClientIdSchema,
  CloseCode,
  fastHubFrame,
  type HubFrame,
  HubFrameSchema,
  PROTOCOL_VERSION,
  sendBatched,
} from './protocol.js';
import type { MessageHandler, Rpc, RpcHandler, Topic } from './topics.js';
import { checkSize, encodeData, errorBody, replyError, validateReply } from './wire.js';

/** How the client proves who it is: the hub's shared secret, or a bearer token. */
export type ClientAuth = { readonly secret: string | Uint8Array } | { readonly token: string };

/** Options of {@link MessageClient.connect}. */
export interface MessageClientOptions {
  /** The hub's URL, `ws://host:port` or `wss://host:port`. */
  readonly url: string;
  /** Credentials (see {@link loadSecret} to read a secret from a file or the environment). */
  readonly auth: ClientAuth;
  /** This client's id, unique among the hub's peers; a durable outbox keeps its own. @default random */
  readonly id?: string;
  /** TLS settings for `wss://`: the CA to trust (e.g. the hub's self-signed certificate). */
  readonly tls?: { readonly ca?: string | Uint8Array; readonly rejectUnauthorized?: boolean };
  /** Send a bearer token over plain `ws://` (it would cross the network readable). @default false */
  readonly allowTokenWithoutTls?: boolean;
  /**
   * A file keeping unacknowledged publishes, so that a restarted sender resends them (same id and
   * incarnation, so receivers drop what they already processed). @default none (kept in memory)
   */
  readonly outbox?: string | { readonly path: string; readonly fsync?: boolean };
  /** Publishes and calls that may wait for their acknowledgement or reply at once. @default 1000 */
  readonly maxInFlight?: number;
  /** What `publish`/`call` do when `maxInFlight` are waiting: wait for room, or throw {@link QueueFullError}. @default 'wait' */
  readonly queueFull?: 'wait' | 'reject';
  /** Ping interval; a hub that has not answered the previous ping is dropped and reconnected to. @default 10000 */
  readonly heartbeatMs?: number;
  /** Reconnection backoff: the first delay and the cap (each delay is jittered to 50–100 %). @default { initialDelayMs: 100, maxDelayMs: 5000 } */
  readonly reconnect?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** How long `connect()` keeps trying to reach the hub the first time. @default 30000 */
  readonly connectTimeoutMs?: number;
  /** Default `call()` timeout. @default 30000 */
  readonly callTimeoutMs?: number;
  /**
   * Largest frame accepted from the hub (announced to it, so its batches stay under it). Data too large
   * for a frame under this or the hub's limit is refused by `publish`/`call` with `ValidationError`.
   * @default 1048576
   */
  readonly maxFrameBytes?: number;
  /** Where the client logs. @default createLogger({ component: 'messaging-client' }) */
  readonly logger?: Logger;
}

const bytes = z.union([z.string().min(1), z.instanceof(Uint8Array)]);
const ClientOptionsSchema = z.strictObject({
  url: z.string().regex(/^wss?:\/\/[^\s]+$/, 'a ws:// or wss:// URL'),
  auth: z.union([z.strictObject({ secret: bytes }), z.strictObject({ token: z.string().min(1) })]),
  id: ClientIdSchema.optional(),
  tls: z.strictObject({ ca: bytes.optional(), rejectUnauthorized: z.boolean().optional() }).optional(),
  allowTokenWithoutTls: z.boolean().default(false),
  outbox: z.union([z.string().min(1), z.strictObject({ path: z.string().min(1), fsync: z.boolean().optional() })]).optional(),
  maxInFlight: z.number().int().min(1).default(1000),
  queueFull: z.enum(['wait', 'reject']).default('wait'),
  heartbeatMs: z.number().int().min(10).default(10_000),
  reconnect: z
    .strictObject({ initialDelayMs: z.number().min(1).default(100), maxDelayMs: z.number().min(1).default(5000) })
    .default({ initialDelayMs: 100, maxDelayMs: 5000 }),
  connectTimeoutMs: z.number().int().min(1).default(30_000),
  callTimeoutMs: z.number().int().min(1).default(30_000),
  maxFrameBytes: z
    .number()
    .int()
    .min(1024)
    .default(1 << 20),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && 'warn' in v, 'a Logger').optional(),
});

type Opts = z.output<typeof ClientOptionsSchema>;

/** Options of {@link MessageClient.publish}. */
export interface PublishOptions {
  /** Gives up waiting for room in a full queue (the message was then never sent). */
  readonly signal?: AbortSignal;
}

/** Options of {@link MessageClient.call}. */
export interface CallOptions {
  /** Milliseconds to wait for the reply. @default the client's `callTimeoutMs` (30000) */
  readonly timeout?: number;
  /** Cancels the wait; the call rejects with `AbortedError`. */
  readonly signal?: AbortSignal;
}

/** A subscription; {@link Subscription.unsubscribe} ends it. */
export interface Subscription {
  /** The topic subscribed to. */
  readonly topic: string;
  /** Stops delivery to this handler (and tells the hub when it was the last one). */
  unsubscribe(): Promise<void>;
}

interface PendingPub {
  readonly frame: string;
  readonly tp: string;
  resolve?: () => void;
  reject?: (err: Error) => void;
}

interface PendingCall {
  readonly frame: string;
  readonly rpc: Rpc;
  readonly resolve: (v: unknown) => void;
  readonly reject: (err: Error) => void;
}

interface Control {
  readonly frame: string;
  readonly tp: string;
  readonly action: 'subscribe' | 'serve' | 'unsubscribe';
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** A publish or call waiting for room under `maxInFlight`. */
interface Waiter {
  readonly grant: () => void;
  readonly reject: (err: Error) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface SubEntry {
  readonly topic: Topic;
  readonly handlers: Set<MessageHandler<z.ZodType>>;
}

/** Sequence numbers per `ack` frame, well under the protocol's `MAX_ACKS`. */
const ACKS_PER_FRAME = 10_000;

/** The largest frame a hub that does not say accepts (the hub's default `maxFrameBytes`). */
const DEFAULT_HUB_MAX = 1 << 20;

const FATAL: readonly string[] = ['bad-credentials', 'wrong-method', 'tls-required', 'hub-not-authentic'];

/**
 * A messaging client. Make one with {@link MessageClient.connect}.
 *
 * Delivery is at-least-once on the wire and exactly-once for handlers: every publish carries this
 * client's sequence number, stays queued until the hub acknowledges it (after all subscribers did),
 * and is resent after a reconnection; receivers drop sequence numbers they have already processed.
 *
 * Bounds: at most `maxInFlight` publishes and calls wait for an answer; beyond that `publish` and
 * `call` wait for room (or throw {@link QueueFullError} with `queueFull: 'reject'`).
 */
export class MessageClient {
  readonly #o: Opts;
  readonly #log: Logger;
  readonly #secret: Buffer | undefined;
  readonly #token: string | undefined;
  readonly #outbox: Outbox | undefined;
  /** This client's id on the hub. */
  readonly id: string;
  /** This incarnation's origin (`id~epoch`), as receivers see it in {@link MessageMeta.origin}. */
  readonly origin: string;
  readonly #epoch: string;
  readonly #pubs = new Map<number, PendingPub>();
  readonly #calls = new Map<number, PendingCall>();
  readonly #controls = new Map<number, Control>();
  readonly #subs = new Map<string, SubEntry>();
  readonly #serves = new Map<string, { rpc: Rpc; handler: RpcHandler<z.ZodType, z.ZodType> }>();
  readonly #dedup = new Dedup();
  /** `origin|seq` of messages whose (asynchronous) handlers are still running. */
  readonly #running = new PairMap<true>();
  readonly #replies = new BoundedMap<string, string | null>(10_000);
  readonly #waiters = new Fifo<Waiter>();
  /** Acknowledgements of this tick, by origin (sent as one `[origin, seq, seq, …]` entry each). */
  #acks = new Map<string, number[]>();
  #ackCount = 0;
  #ackScheduled = false;
  #seq = 0;
  #callSeq = 0;
  #ws: WebSocket | undefined;
  #established = false;
  #closed = false;
  #failure: Error | undefined;
  #attempt = 0;
  #alive = true;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #nonce = '';
  #onEstablished: ((err?: Error) => void)[] = [];

  private constructor(o: Opts, outbox: Outbox | undefined) {
    this.#o = o;
    this.#log = o.logger ?? createLogger({ component: 'messaging-client' });
    this.#secret = 'secret' in o.auth ? secretBytes(o.auth.secret) : undefined;
    this.#token = 'token' in o.auth ? o.auth.token : undefined;
    this.#outbox = outbox;
    this.id = outbox?.id ?? o.id ?? `c-${randomBytes(9).toString('base64url')}`;
    this.#epoch = outbox?.epoch ?? randomBytes(9).toString('base64url');
    this.origin = `${this.id}~${this.#epoch}`;
    if (outbox) {
      this.#seq = outbox.lastSeq;
      this.#loCursor = outbox.lastSeq + 1;
      for (const e of outbox.entries()) {
        this.#loCursor = Math.min(this.#loCursor, e.s);
        this.#pubs.set(e.s, {
          tp: e.tp,
          frame: JSON.stringify({ t: 'pub', s: e.s, tp: e.tp, d: e.d, ...(e.w ? { w: true } : {}) }),
        });
      }
    }
  }

  /**
   * Connects to a hub and resolves once authenticated (retrying with backoff until
   * `connectTimeoutMs`). Afterwards the client reconnects by itself whenever the connection drops.
   * @throws `ValidationError` for invalid options.
   * @throws {@link HandshakeRefusedError} when the hub refuses the credentials (or the hub cannot prove it knows the secret).
   * @throws `BackendError` when the hub could not be reached in time.
   */
  static async connect(options: MessageClientOptions, init: { signal?: AbortSignal } = {}): Promise<MessageClient> {
    const o = parseWith(ClientOptionsSchema, options, 'message client options');
    if ('token' in o.auth && o.url.startsWith('ws://') && !o.allowTokenWithoutTls) {
      throw new HandshakeRefusedError('tls-required', 'refusing to send a bearer token over plain ws:// (use wss://)');
    }
    const box =
      o.outbox === undefined
        ? undefined
        : await Outbox.open(
            typeof o.outbox === 'string' ? o.outbox : o.outbox.path,
            o.id ?? `c-${randomBytes(9).toString('base64url')}`,
            typeof o.outbox === 'string' ? {} : { fsync: o.outbox.fsync === true },
          );
    if (box && o.id !== undefined && box.id !== o.id) {
      box.close();
      throw new ValidationError('message client options', [
        { path: 'id', message: `the outbox ${String(o.outbox)} belongs to client "${box.id}"` },
      ]);
    }
    const client = new MessageClient(o, box);
    const ready = new Promise<void>((resolve, reject) => {
      client.#onEstablished.push((err) => (err ? reject(err) : resolve()));
    });
    const timer = setTimeout(() => {
      client.#failAll(new BackendError(`Could not reach the hub at ${o.url} within ${o.connectTimeoutMs} ms.`));
    }, o.connectTimeoutMs);
    const onAbort = () => client.#failAll(new AbortedError('Connecting to the hub was aborted.', { cause: init.signal?.reason }));
    init.signal?.addEventListener('abort', onAbort, { once: true });
    if (init.signal?.aborted) onAbort();
    client.#open();
    try {
      await ready;
    } catch (err) {
      await client.close();
      throw err;
    } finally {
      clearTimeout(timer);
      init.signal?.removeEventListener('abort', onAbort);
    }
    client.#heartbeat = setInterval(() => client.#beat(), o.heartbeatMs);
    client.#heartbeat.unref();
    return client;
  }

  /** Whether the client is connected and authenticated right now. */
  get connected(): boolean {
    return this.#established;
  }

  /** Publishes and calls waiting for an acknowledgement or reply. */
  get inFlight(): number {
    return this.#pubs.size + this.#calls.size;
  }

  // ---- publish / subscribe ----

  /**
   * Publishes `data` on `topic`. Resolves when the hub has acknowledged it, which it does once
   * every subscriber has processed it. The message is kept (and resent across reconnections,
   * and restarts with an outbox) until then.
   * @throws `ValidationError` if `data` does not fit the topic's schema (nothing is sent).
   * @throws {@link UnknownTopicError} / {@link ForbiddenError} when the hub refuses the topic.
   * @throws {@link QueueFullError} with `queueFull: 'reject'` when `maxInFlight` are waiting.
   * @throws {@link ConnectionClosedError} if the client is closed before the acknowledgement.
   */
  publish<S extends z.ZodType>(topic: Topic<S>, data: z.input<S>, options: PublishOptions = {}): Promise<void> {
    let d: string;
    try {
      this.#assertOpen();
      const subject = `message for topic "${topic.name}"`;
      parseWith(topic.schema, data, subject);
      d = encodeData(data, subject);
      checkSize(d, this.#sendLimit, subject);
    } catch (err) {
      return Promise.reject(err);
    }
    // One promise per publish, also while it waits for room: a burst of thousands stays cheap.
    return new Promise<void>((resolve, reject) => {
      this.#acquire(() => this.#sendPub(topic, data, d, resolve, reject), reject, options.signal);
    });
  }

  /**
   * The lowest publish number not yet acknowledged, or the next one: everything below it is done,
   * which lets receivers forget those numbers (sent as `lo`). Amortised O(1): the cursor only moves up.
   */
  #lowestUnacked(): number {
    while (this.#loCursor <= this.#seq && !this.#pubs.has(this.#loCursor)) this.#loCursor += 1;
    return this.#loCursor;
  }

  #loCursor = 1;

  /** Numbers, keeps and sends one publish (`d`: its data as JSON); called holding a slot reserved by {@link MessageClient.#acquire}. */
  #sendPub(topic: Topic, data: unknown, d: string, resolve: () => void, reject: (err: Error) => void): void {
    const lo = this.#lowestUnacked();
    const s = ++this.#seq;
    const frame = `{"t":"pub","s":${s},"lo":${lo},"tp":${JSON.stringify(topic.name)},"d":${d}${topic.requireSubscriber ? ',"w":true}' : '}'}`;
    try {
      this.#outbox?.put({ s, tp: topic.name, d: data, w: topic.requireSubscriber });
    } catch (err) {
      this.#unreserve();
      reject(err as Error);
      return;
    }
    this.#reserved -= 1;
    this.#pubs.set(s, { frame, tp: topic.name, resolve, reject });
    if (this.#established) this.#queue(frame);
  }

  /**
   * Subscribes to `topic`. The handler is called once per message with data that passed the
   * topic's schema (messages that do not are logged and dropped). Resolves once the hub confirms.
   * @throws {@link UnknownTopicError} / {@link ForbiddenError} when the hub refuses.
   */
  async subscribe<S extends z.ZodType>(topic: Topic<S>, handler: MessageHandler<S>): Promise<Subscription> {
    this.#assertOpen();
    let entry = this.#subs.get(topic.name);
    const fresh = entry === undefined;
    if (!entry) {
      entry = { topic, handlers: new Set() };
      this.#subs.set(topic.name, entry);
    }
    const h = handler as MessageHandler<z.ZodType>;
    entry.handlers.add(h);
    if (fresh) {
      try {
        await this.#control('sub', topic.name);
      } catch (err) {
        this.#subs.delete(topic.name);
        throw err;
      }
    }
    return {
      topic: topic.name,
      unsubscribe: async () => {
        const e = this.#subs.get(topic.name);
        if (!e?.handlers.delete(h) || e.handlers.size > 0) return;
        this.#subs.delete(topic.name);
        if (!this.#closed) await this.#control('unsub', topic.name);
      },
    };
  }

  // ---- RPC ----

  /**
   * Calls `rpc` with `request` and resolves to its validated reply. The call is resent after a
   * reconnection; the serving side answers a resend from its reply cache, so the handler runs once.
   * @throws `ValidationError` if the request (or the reply) does not fit its schema.
   * @throws {@link ReplyTimeoutError} if no reply comes within the timeout.
   * @throws `AbortedError` when `signal` aborts.
   * @throws {@link RemoteError} when the remote handler threw.
   * @throws {@link UnknownTopicError} / {@link ForbiddenError} when the hub refuses the name.
   */
  async call<Req extends z.ZodType, Rep extends z.ZodType>(
    rpc: Rpc<Req, Rep>,
    request: z.input<Req>,
    options: CallOptions = {},
  ): Promise<z.output<Rep>> {
    this.#assertOpen();
    const subject = `request of "${rpc.name}"`;
    parseWith(rpc.request, request, subject);
    const d = encodeData(request, subject);
    checkSize(d, this.#sendLimit, subject);
    const signal = options.signal;
    if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
    await new Promise<void>((resolve, reject) => this.#acquire(resolve, reject, signal));
    if (signal?.aborted || this.#closed) {
      this.#unreserve();
      this.#assertOpen();
      throw new AbortedError(`The call to "${rpc.name}" was aborted.`, { cause: signal?.reason });
    }
    const c = ++this.#callSeq;
    const timeout = options.timeout ?? this.#o.callTimeoutMs;
    const frame = `{"t":"call","c":${c},"tp":${JSON.stringify(rpc.name)},"d":${d}}`;
    return new Promise<z.output<Rep>>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.#calls.delete(c)) this.#release();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new ReplyTimeoutError(rpc.name, timeout));
      }, timeout);
      const onAbort = () => {
        finish();
        reject(new AbortedError(`The call to "${rpc.name}" was aborted.`, { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#reserved -= 1;
      this.#calls.set(c, {
        frame,
        rpc,
        resolve: (v) => {
          finish();
          resolve(v as z.output<Rep>);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      });
      if (this.#established) this.#ws!.send(frame);
    });
  }

  /**
   * Serves `rpc` from this client: the hub routes calls to it (round-robin among servers). The
   * handler gets a validated request; its reply is checked against the reply schema.
   * @throws {@link UnknownTopicError} / {@link ForbiddenError} when the hub refuses.
   */
  async serve<Req extends z.ZodType, Rep extends z.ZodType>(rpc: Rpc<Req, Rep>, handler: RpcHandler<Req, Rep>): Promise<void> {
    this.#assertOpen();
    this.#serves.set(rpc.name, { rpc, handler: handler as RpcHandler<z.ZodType, z.ZodType> });
    try {
      await this.#control('serve', rpc.name);
    } catch (err) {
      this.#serves.delete(rpc.name);
      throw err;
    }
  }

  /**
   * Closes the connection. Publishes and calls still waiting reject with
   * {@link ConnectionClosedError} (publishes stay in the outbox, if there is one, for the next start).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#failAll(new ConnectionClosedError('message client'));
  }

  // ---- internals ----

  #assertOpen(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw new ConnectionClosedError('message client');
  }

  /**
   * Reserves room under `maxInFlight` for one publish or call and runs `grant` holding it, now or
   * (in order of arrival) once room frees up; `grant` registers its message or calls
   * {@link MessageClient.#unreserve} in the same tick, so a burst cannot all pass the check before
   * any of them is counted. With `queueFull: 'reject'` a full queue rejects with {@link QueueFullError}.
   */
  #acquire(grant: () => void, reject: (err: Error) => void, signal: AbortSignal | undefined): void {
    if (this.#failure || this.#closed) {
      reject(this.#failure ?? new ConnectionClosedError('message client'));
      return;
    }
    if (this.#waiters.size === 0 && this.#hasRoom()) {
      this.#reserved += 1;
      grant();
      return;
    }
    if (this.#o.queueFull === 'reject') {
      reject(new QueueFullError(this.#o.maxInFlight));
      return;
    }
    if (signal?.aborted) {
      reject(new AbortedError('Waiting for room in the send queue was aborted.', { cause: signal.reason }));
      return;
    }
    const waiter: Waiter = { grant, reject, signal, onAbort: undefined };
    if (signal) {
      waiter.onAbort = () => {
        if (this.#waiters.delete(waiter)) {
          reject(new AbortedError('Waiting for room in the send queue was aborted.', { cause: signal.reason }));
        }
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.#waiters.push(waiter);
  }

  #hasRoom(): boolean {
    return this.inFlight + this.#reserved < this.#o.maxInFlight;
  }

  /** Room reserved by {@link MessageClient.#acquire} and not used after all. */
  #unreserve(): void {
    this.#reserved -= 1;
    this.#release();
  }

  #reserved = 0;

  /** Hands freed room to the oldest waiters. */
  #release(): void {
    while (this.#waiters.size > 0 && this.#hasRoom() && !this.#closed) {
      const w = this.#waiters.shift()!;
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      this.#reserved += 1;
      w.grant();
    }
  }

  #control(t: 'sub' | 'unsub' | 'serve', tp: string): Promise<void> {
    const r = ++this.#callSeq;
    const frame = JSON.stringify({ t, r, tp });
    return new Promise<void>((resolve, reject) => {
      const action = t === 'sub' ? 'subscribe' : t === 'serve' ? 'serve' : 'unsubscribe';
      this.#controls.set(r, { frame, tp, action, resolve, reject });
      if (this.#established) this.#ws!.send(frame);
    });
  }

  #open(): void {
    if (this.#closed) return;
    const ws = new WebSocket(this.#o.url, {
      maxPayload: this.#o.maxFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      ...(this.#o.tls?.ca ? { ca: typeof this.#o.tls.ca === 'string' ? this.#o.tls.ca : Buffer.from(this.#o.tls.ca) } : {}),
      ...(this.#o.tls?.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    });
    this.#ws = ws;
    this.#established = false;
    this.#alive = true;
    ws.on('message', (data, isBinary) => this.#onFrame(ws, data, isBinary));
    ws.on('pong', () => {
      this.#alive = true;
    });
    ws.on('error', (err) => this.#log.debug('connection error', { url: this.#o.url, error: err }));
    ws.on('close', (code, reason) => this.#onClose(ws, code, reason.toString()));
  }

  /** Queues a frame for this tick's batch (publishes: many per tick under load, one write for all). */
  #queue(frame: string): void {
    this.#out.push(frame);
    if (this.#outScheduled) return;
    this.#outScheduled = true;
    setImmediate(() => {
      this.#outScheduled = false;
      const out = this.#out;
      this.#out = [];
      // Frames that cannot go out now are resent from #pubs after the next welcome.
      if (this.#established && this.#ws?.readyState === WebSocket.OPEN) sendBatched(this.#ws, out, this.#hubMax);
    });
  }

  #out: string[] = [];
  #outScheduled = false;

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    const was = this.#established;
    this.#established = false;
    if (this.#closed) return;
    if (was) this.#log.info('connection to the hub lost; reconnecting', { url: this.#o.url, code, reason });
    const cap = Math.min(this.#o.reconnect.maxDelayMs, this.#o.reconnect.initialDelayMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    const delay = cap / 2 + (Math.random() * cap) / 2;
    this.#retry = setTimeout(() => this.#open(), delay);
  }

  #beat(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (!this.#alive) {
      this.#log.info('the hub stopped answering pings; reconnecting', { url: this.#o.url });
      ws.terminate();
      return;
    }
    this.#alive = false;
    ws.ping();
  }

  /** Ends the client with `err`: rejects everything waiting and stops reconnecting. */
  #failAll(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!(err instanceof ConnectionClosedError)) this.#failure = err;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#retry);
    this.#flushAcks();
    const ws = this.#ws;
    this.#ws = undefined;
    this.#established = false;
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) ws.close(CloseCode.NORMAL, 'client closed');
      else ws.terminate();
    }
    for (const p of this.#pubs.values()) p.reject?.(err);
    this.#pubs.clear();
    for (const c of [...this.#calls.values()]) c.reject(err);
    for (const c of this.#controls.values()) c.reject(err);
    this.#controls.clear();
    for (const w of this.#waiters.drain()) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(err);
    }
    for (const cb of this.#onEstablished.splice(0)) cb(err);
    this.#outbox?.close();
  }

  #refused(reason: string, msg: string): void {
    const r = (FATAL.includes(reason) ? reason : 'protocol') as RefusalReason;
    const err = new HandshakeRefusedError(r, msg);
    this.#log.error('the hub refused the handshake', { url: this.#o.url, reason, msg });
    if (FATAL.includes(reason)) this.#failAll(err);
  }

  #onFrame(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (ws !== this.#ws) return;
    this.#alive = true;
    let frames: HubFrame[];
    try {
      if (isBinary) throw new Error('binary frame');
      const json: unknown = JSON.parse(data.toString());
      const list: unknown[] = Array.isArray(json) ? json : [json];
      frames = list.map((one) => fastHubFrame(one) ?? HubFrameSchema.parse(one));
    } catch (err) {
      this.#log.warn('closing: the hub sent a malformed frame', { url: this.#o.url, error: err });
      ws.close(CloseCode.PROTOCOL, 'malformed frame');
      return;
    }
    for (const f of frames) {
      if (ws !== this.#ws) return;
      this.#onHubFrame(ws, f);
    }
  }

  #onHubFrame(ws: WebSocket, f: HubFrame): void {
    switch (f.t) {
      case 'challenge': {
        this.#hello(ws, f);
        return;
      }
      case 'welcome': {
        this.#welcome(ws, f);
        return;
      }
      case 'refused': {
        this.#refused(f.reason, f.msg);
        return;
      }
    }
    if (!this.#established) {
      ws.close(CloseCode.PROTOCOL, 'frame before welcome');
      return;
    }
    switch (f.t) {
      case 'msg': {
        this.#deliver(f);
        return;
      }
      case 'puback': {
        this.#onPuback(f.s);
        return;
      }
      case 'pubnack': {
        this.#onPubnack(f);
        return;
      }
      case 'ok':
      case 'err': {
        const c = this.#controls.get(f.r);
        if (!c) return;
        this.#controls.delete(f.r);
        if (f.t === 'ok') c.resolve();
        else c.reject(this.#refusal(f.code, f.msg, c.action, c.tp));
        return;
      }
      case 'reply': {
        this.#onReply(f);
        return;
      }
      case 'req':
        return void this.#onReq(f);
    }
  }

  #hello(ws: WebSocket, f: Extract<HubFrame, { t: 'challenge' }>): void {
    this.#nonce = newNonce();
    const hello: Record<string, unknown> = {
      t: 'hello',
      v: PROTOCOL_VERSION,
      id: this.id,
      epoch: this.#epoch,
      subs: [...this.#subs.keys()],
      serves: [...this.#serves.keys()],
      max: this.#o.maxFrameBytes,
    };
    this.#hubMax = f.max ?? DEFAULT_HUB_MAX;
    if (this.#secret) {
      if (f.method !== 'hmac') {
        this.#refused('wrong-method', 'the hub wants a bearer token; this client has a secret');
        return;
      }
      hello.nonce = this.#nonce;
      hello.mac = clientProof(this.#secret, f.nonce, this.#nonce, this.id);
      this.#hubNonce = f.nonce;
    } else {
      if (f.method !== 'token') {
        this.#refused('wrong-method', 'the hub wants a shared secret; this client has a token');
        return;
      }
      hello.token = this.#token;
    }
    ws.send(JSON.stringify(hello));
  }

  #hubNonce = '';
  /** The largest frame the hub accepts (from its challenge). */
  #hubMax = DEFAULT_HUB_MAX;

  /** The largest frame this client sends: its own `maxFrameBytes` or the hub's, whichever is smaller. */
  get #sendLimit(): number {
    return Math.min(this.#o.maxFrameBytes, this.#hubMax);
  }

  #welcome(ws: WebSocket, f: Extract<HubFrame, { t: 'welcome' }>): void {
    if (this.#secret) {
      const expected = hubProof(this.#secret, this.#hubNonce, this.#nonce, this.id);
      if (f.mac === undefined || !safeEqual(f.mac, expected)) {
        ws.terminate();
        this.#refused('hub-not-authentic', 'the hub could not prove it knows the secret');
        return;
      }
    }
    this.#established = true;
    this.#attempt = 0;
    const refused = new Map(f.refused.map((r) => [r.tp, r]));
    for (const [r, c] of this.#controls) {
      if (c.action === 'unsubscribe') continue;
      this.#controls.delete(r);
      const bad = refused.get(c.tp);
      if (bad) c.reject(this.#refusal(bad.code, bad.msg, c.action, c.tp));
      else c.resolve();
    }
    for (const r of f.refused) {
      this.#log.warn('the hub refused a subscription after reconnecting', { topic: r.tp, msg: r.msg });
      this.#subs.delete(r.tp);
      this.#serves.delete(r.tp);
    }
    // Everything not yet acknowledged goes out again, oldest first; receivers drop duplicates.
    this.#out = [];
    sendBatched(
      ws,
      [
        ...[...this.#pubs.values()].map((p) => p.frame),
        ...[...this.#calls.values()].map((c) => c.frame),
        ...[...this.#controls.values()].map((c) => c.frame),
      ],
      this.#hubMax,
    );
    for (const cb of this.#onEstablished.splice(0)) cb();
  }

  #refusal(code: string, msg: string, action: string, tp: string): Error {
    if (code === ErrorCode.UNKNOWN_TOPIC) return new UnknownTopicError(tp);
    if (code === ErrorCode.FORBIDDEN) return new ForbiddenError(action, tp);
    if (code === ErrorCode.VALIDATION) return new ValidationError(`${action} on "${tp}"`, [{ path: '', message: msg }]);
    return new RemoteError(tp, msg, code);
  }

  #deliver(f: Extract<HubFrame, { t: 'msg' }>): void {
    if (!this.#dedup.addAbove(f.o, f.s, f.lo)) {
      // A resend of a message whose handler is still running is acknowledged when that handler is done.
      if (!this.#running.has(f.o, f.s)) this.#ack(f.o, f.s);
      return;
    }
    const entry = this.#subs.get(f.tp);
    const r = entry?.topic.schema.safeParse(f.d);
    if (!entry || !r) {
      this.#ack(f.o, f.s);
      return;
    }
    if (!r.success) {
      this.#log.warn('dropping a message that does not fit the topic schema', { topic: f.tp, origin: f.o, seq: f.s });
      this.#ack(f.o, f.s);
      return;
    }
    const meta = { topic: f.tp, origin: f.o, seq: f.s };
    const handlers = [...entry.handlers];
    // Synchronous handlers are acknowledged in the same tick; a promise is awaited before the next handler.
    const run = (i: number): void => {
      for (; i < handlers.length; i++) {
        let out: void | Promise<void>;
        try {
          out = handlers[i]!(r.data, meta);
        } catch (err) {
          this.#log.error('a subscriber threw; the message is acknowledged anyway', { topic: f.tp, error: err });
          continue;
        }
        if (out && typeof (out as Promise<void>).then === 'function') {
          const next = i + 1;
          this.#running.set(f.o, f.s, true);
          (out as Promise<void>).then(
            () => run(next),
            (err: unknown) => {
              this.#log.error('a subscriber threw; the message is acknowledged anyway', { topic: f.tp, error: err });
              run(next);
            },
          );
          return;
        }
      }
      if (this.#running.size > 0) this.#running.delete(f.o, f.s);
      this.#ack(f.o, f.s);
    };
    run(0);
  }

  #ack(o: string, s: number): void {
    const list = this.#acks.get(o);
    if (list) list.push(s);
    else this.#acks.set(o, [s]);
    if (++this.#ackCount >= ACKS_PER_FRAME) this.#flushAcks();
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    setImmediate(() => this.#flushAcks());
  }

  #flushAcks(): void {
    this.#ackScheduled = false;
    if (this.#ackCount === 0) return;
    const entries: string[] = [];
    for (const [o, seqs] of this.#acks) entries.push(`[${JSON.stringify(o)},${seqs.join(',')}]`);
    this.#acks.clear();
    this.#ackCount = 0;
    // Acks that cannot be sent are not lost: the hub redelivers, and dedup acknowledges again.
    if (this.#established && this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(`{"t":"ack","a":[${entries.join(',')}]}`);
  }

  #onPuback(seqs: readonly number[]): void {
    const done: number[] = [];
    for (const s of seqs) {
      const p = this.#pubs.get(s);
      if (!p) continue;
      this.#pubs.delete(s);
      done.push(s);
      p.resolve?.();
      this.#release();
    }
    if (done.length) this.#outbox?.ack(done);
  }

  #onPubnack(f: Extract<HubFrame, { t: 'pubnack' }>): void {
    const p = this.#pubs.get(f.s);
    if (!p) return;
    this.#pubs.delete(f.s);
    this.#outbox?.ack([f.s]);
    this.#log.warn('the hub refused a publish', { topic: p.tp, code: f.code, msg: f.msg });
    p.reject?.(this.#refusal(f.code, f.msg, 'publish', p.tp));
    this.#release();
  }

  #onReply(f: Extract<HubFrame, { t: 'reply' }>): void {
    const call = this.#calls.get(f.c);
    if (!call) return;
    if (f.e) {
      call.reject(this.#refusal(f.e.code ?? '', f.e.msg, 'call', call.rpc.name));
      return;
    }
    const r = call.rpc.reply.safeParse(f.d);
    if (r.success) call.resolve(r.data);
    else
      call.reject(new ValidationError(`reply of "${call.rpc.name}"`, [{ path: '', message: errorBody(r.error, 'reply').msg }]));
  }

  async #onReq(f: Extract<HubFrame, { t: 'req' }>): Promise<void> {
    const key = `${f.o}|${f.c}`;
    const cached = this.#replies.get(key);
    if (cached === null) return; // still running; its reply goes out when done
    if (cached !== undefined) return this.#sendIfOpen(cached);
    this.#replies.set(key, null);
    const server = this.#serves.get(f.tp);
    let body: { d: unknown } | { e: { code?: string; msg: string } };
    if (!server) body = { e: { code: ErrorCode.UNKNOWN_TOPIC, msg: `this peer does not serve "${f.tp}"` } };
    else {
      const r = server.rpc.request.safeParse(f.d);
      if (!r.success) body = { e: errorBody(r.error, 'request') };
      else {
        try {
          body = { d: validateReply(server.rpc, await server.handler(r.data, { rpc: f.tp, origin: f.o })) };
        } catch (err) {
          body = { e: replyError(err) };
        }
      }
    }
    const frame = JSON.stringify({ t: 'rep', o: f.o, c: f.c, ...body });
    this.#replies.set(key, frame);
    this.#sendIfOpen(frame);
  }

  #sendIfOpen(frame: string): void {
    if (this.#established && this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(frame);
  }
}
