/**
 * `MessageHub`: the server. It authenticates peers, routes publishes to subscribers and calls to
 * whoever serves them, and can publish, subscribe and serve itself.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createLogger, parseWith, ValidationError, type Logger } from '@exaworks/jpsi-core';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { clientProof, hubProof, newNonce, safeEqual, secretBytes } from './auth.js';
import { BoundedMap, Dedup, PairMap } from './dedup.js';
import { ConnectionClosedError, ForbiddenError, UnknownTopicError } from './errors.js';
import {
  type ClientFrame,
  ClientFrameSchema,
  CloseCode,
  fastClientFrame,
  MAX_BATCH,
  PROTOCOL_VERSION,
  sendBatched,
} from './protocol.js';
import type { CallMeta, MessageHandler, MessageMeta, Rpc, RpcHandler, Topic } from './topics.js';
import { encodeData, errorBody, replyError, validateReply } from './wire.js';

/** What a peer may do on a topic; the {@link MessageHubOptions.authorize} hook decides. */
export type HubAction = 'publish' | 'subscribe' | 'call' | 'serve';

/** An authenticated peer, as the authorization hook sees it. */
export interface PeerInfo {
  /** The client id it authenticated with. */
  readonly id: string;
  /** Its remote address. */
  readonly address: string | undefined;
  /** Whether the connection is TLS. */
  readonly tls: boolean;
}

/** How peers prove who they are. */
export type HubAuth =
  /** Shared secret, proven by HMAC challenge-response (never sent). */
  | { readonly secret: string | Uint8Array }
  /** Bearer token sent by the client; by default only accepted over TLS. */
  | { readonly token: string; readonly requireTls?: boolean };

/** Options of {@link MessageHub.listen}. */
export interface MessageHubOptions {
  /** How peers authenticate. Required: there is no unauthenticated mode. */
  readonly auth: HubAuth;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port; 0 picks a free one (read it from {@link MessageHub.url}). @default 0 */
  readonly port?: number;
  /** PEM certificate and key: the hub then speaks `wss://`. */
  readonly tls?: { readonly cert: string | Uint8Array; readonly key: string | Uint8Array };
  /**
   * The topics and RPCs the hub accepts. Data is validated against their schemas at the hub too,
   * and any other name is refused with {@link UnknownTopicError}. Without it any well-formed name is
   * routed and only the receivers validate.
   */
  readonly topics?: readonly (Topic | Rpc)[];
  /** Decides whether a peer may publish, subscribe, call or serve on a name. @default everything allowed */
  readonly authorize?: (peer: PeerInfo, action: HubAction, name: string) => boolean | Promise<boolean>;
  /**
   * Largest frame accepted, in bytes; a larger one closes the connection with 1009. Clients learn it in
   * the handshake and keep under it. A message larger than a subscriber's own limit is not delivered
   * to that subscriber (a `warn` line says so). @default 1048576
   */
  readonly maxFrameBytes?: number;
  /**
   * Frames per second accepted from one connection (every frame of a batch counts); beyond it the hub
   * stops reading that connection until it has earned the excess back. @default 50000
   */
  readonly rateLimit?: number;
  /** Interval of WebSocket pings; a peer that has not answered the previous one is dropped. @default 10000 */
  readonly heartbeatMs?: number;
  /** Time a peer has to finish the handshake. @default 5000 */
  readonly handshakeTimeoutMs?: number;
  /** How long a disconnected peer's undelivered messages and subscriptions are kept for it. @default 60000 */
  readonly sessionTtlMs?: number;
  /**
   * Publishes from one peer that may wait for subscribers' acknowledgements; beyond it the hub stops
   * reading that peer (a batch message already read is finished, so it is exceeded by at most one
   * message of `maxFrameBytes`). @default 10000
   */
  readonly maxUnackedPerPeer?: number;
  /** Where the hub logs (refused peers, closes). @default createLogger({ component: 'messaging-hub' }) */
  readonly logger?: Logger;
}

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'a function');
const pem = z.union([z.string().min(1), z.instanceof(Uint8Array)]);
const HubOptionsSchema = z.strictObject({
  auth: z.union([
    z.strictObject({ secret: z.union([z.string(), z.instanceof(Uint8Array)]) }),
    z.strictObject({ token: z.string().min(16, 'a token of at least 16 characters'), requireTls: z.boolean().optional() }),
  ]),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  tls: z.strictObject({ cert: pem, key: pem }).optional(),
  topics: z.array(z.custom<Topic | Rpc>((v) => typeof v === 'object' && v !== null && 'kind' in v, 'a topic or RPC')).optional(),
  authorize: fn.optional(),
  maxFrameBytes: z
    .number()
    .int()
    .min(1024)
    .default(1 << 20),
  rateLimit: z.number().positive().default(50_000),
  heartbeatMs: z.number().int().min(10).default(10_000),
  handshakeTimeoutMs: z.number().int().min(10).default(5_000),
  sessionTtlMs: z.number().int().min(0).default(60_000),
  maxUnackedPerPeer: z.number().int().min(1).default(10_000),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && 'warn' in v, 'a Logger').optional(),
});

/** The largest frame a peer that does not say accepts (the client's default `maxFrameBytes`). */
const DEFAULT_PEER_MAX = 1 << 20;

const toPem = (v: string | Uint8Array): string | Buffer => (typeof v === 'string' ? v : Buffer.from(v));

/** A publish waiting for its subscribers' acknowledgements. */
interface Inflight {
  readonly origin: string;
  readonly seq: number;
  readonly topic: string;
  readonly frame: string;
  readonly data: unknown;
  readonly from: Session | undefined;
  /** The sender's lowest unacknowledged number when it sent this (forwarded to receivers). */
  readonly lo: number | undefined;
  /** Subscriber sessions that have not acknowledged it (each holds it in its `pending`). */
  remaining: number;
  readonly done: (() => void) | undefined;
  /** The hub's own subscribers are still running. */
  localPending: boolean;
}

/** A routed call waiting for its server's reply. */
interface Route {
  readonly key: string;
  readonly caller: Session;
  readonly c: number;
  readonly tp: string;
  readonly frame: string;
  server: Session | undefined;
}

/** What the hub remembers of a peer by client id, across its reconnections. */
interface Session {
  readonly id: string;
  origin: string;
  conn: Conn | undefined;
  readonly subs: Set<string>;
  readonly serves: Set<string>;
  /** Deliveries sent and not yet acknowledged, by (origin, seq). */
  readonly pending: PairMap<Inflight>;
  /** Routed calls this session serves and has not answered. */
  readonly routes: Map<string, Route>;
  /** Publishes from this session not yet acknowledged by all subscribers. */
  unacked: number;
  expiry: NodeJS.Timeout | undefined;
  /** The largest frame the peer accepts (from its hello). */
  peerMax: number;
}

/** One WebSocket connection. */
interface Conn {
  readonly ws: WebSocket;
  readonly address: string | undefined;
  readonly tls: boolean;
  readonly nonce: string;
  session: Session | undefined;
  alive: boolean;
  closing: boolean;
  tokens: number;
  last: number;
  throttled: boolean;
  handshake: NodeJS.Timeout | undefined;
  /** Counted in `stats.rejected` already. */
  rejected: boolean;
  out: string[];
  pubacks: number[];
  flushing: boolean;
}

interface LocalSub {
  readonly schema: z.ZodType;
  readonly handler: MessageHandler<z.ZodType>;
}

interface LocalServer {
  readonly rpc: Rpc;
  readonly handler: RpcHandler<z.ZodType, z.ZodType>;
}

/** Counters the hub keeps (for monitoring and tests). */
export interface HubStats {
  /** Connections currently open (authenticated or not). */
  readonly connections: number;
  /** Sessions remembered (connected or within their TTL). */
  readonly sessions: number;
  /** Publishes waiting for acknowledgements. */
  readonly inflight: number;
  /** Routed calls waiting for a reply (or for a server). */
  readonly calls: number;
  /** Connections closed for a protocol violation, oversized frame or failed authentication, since start. */
  readonly rejected: number;
}

/**
 * The messaging server. Start one with {@link MessageHub.listen}.
 *
 * Delivery: a publish is acknowledged to its sender once every subscriber it was delivered to
 * has acknowledged it (so a sender that reconnects resends only what may not have arrived). A
 * subscriber that disconnects gets its unacknowledged messages again when it comes back within
 * `sessionTtlMs`.
 *
 * Bounds: a peer may have `maxUnackedPerPeer` publishes waiting; beyond that the hub stops reading
 * its socket (TCP backpressure) until subscribers catch up. So a slow subscriber slows its
 * publishers down instead of growing the hub's memory.
 */
export class MessageHub {
  readonly #server: HttpServer;
  readonly #wss: WebSocketServer;
  readonly #opts: z.output<typeof HubOptionsSchema>;
  readonly #log: Logger;
  readonly #secret: Buffer | undefined;
  readonly #topics: Map<string, Topic | Rpc> | undefined;
  readonly #conns = new Set<Conn>();
  readonly #sessions = new Map<string, Session>();
  readonly #subscribers = new Map<string, Set<Session>>();
  readonly #servers = new Map<string, Session[]>();
  readonly #inflight = new PairMap<Inflight>();
  readonly #done = new Dedup(100_000);
  readonly #waiting = new Map<string, Inflight[]>();
  readonly #waitingCalls = new Map<string, Route[]>();
  readonly #routes = new Map<string, Route>();
  readonly #localSubs = new Map<string, LocalSub[]>();
  readonly #localServers = new Map<string, LocalServer>();
  readonly #localReplies = new BoundedMap<string, string | null>(10_000);
  readonly #origin = `hub~${randomBytes(6).toString('base64url')}`;
  readonly #heartbeat: NodeJS.Timeout;
  #seq = 0;
  /** The hub's own publishes not yet finished, and the cursor of {@link MessageHub.#lowestOwn}. */
  readonly #own = new Set<number>();
  #ownCursor = 1;
  #rejected = 0;
  #closed = false;
  #url = '';

  private constructor(opts: z.output<typeof HubOptionsSchema>) {
    this.#opts = opts;
    this.#log = opts.logger ?? createLogger({ component: 'messaging-hub' });
    this.#secret = 'secret' in opts.auth ? secretBytes(opts.auth.secret) : undefined;
    this.#topics = opts.topics ? new Map(opts.topics.map((t) => [t.name, t])) : undefined;
    this.#server = opts.tls ? createHttpsServer({ cert: toPem(opts.tls.cert), key: toPem(opts.tls.key) }) : createHttpServer();
    this.#wss = new WebSocketServer({ server: this.#server, maxPayload: opts.maxFrameBytes, perMessageDeflate: false });
    this.#wss.on('connection', (ws, req) => this.#accept(ws, req));
    this.#heartbeat = setInterval(() => this.#beat(), opts.heartbeatMs);
    this.#heartbeat.unref();
  }

  /**
   * Starts a hub and resolves once it listens.
   * @throws `ValidationError` for invalid options (every wrong field named).
   * @throws {@link InsecureSecretError} for a secret shorter than 16 bytes.
   */
  static async listen(options: MessageHubOptions): Promise<MessageHub> {
    const opts = parseWith(HubOptionsSchema, options, 'message hub options');
    if ('token' in opts.auth && opts.auth.requireTls !== false && !opts.tls) {
      throw new ValidationError('message hub options', [
        { path: 'tls', message: 'token authentication needs TLS (give tls, or auth.requireTls: false to allow plain ws://)' },
      ]);
    }
    const hub = new MessageHub(opts);
    await new Promise<void>((resolve, reject) => {
      hub.#server.once('error', reject);
      hub.#server.listen(opts.port, opts.host, () => {
        hub.#server.off('error', reject);
        resolve();
      });
    });
    const a = hub.#server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    hub.#url = `${opts.tls ? 'wss' : 'ws'}://${host}:${a.port}`;
    return hub;
  }

  /** The URL clients connect to, e.g. `ws://127.0.0.1:40123`. */
  get url(): string {
    return this.#url;
  }

  /** The port the hub listens on. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Current counters. */
  get stats(): HubStats {
    return {
      connections: this.#conns.size,
      sessions: this.#sessions.size,
      inflight: this.#inflight.size,
      calls: this.#routes.size,
      rejected: this.#rejected,
    };
  }

  /**
   * Publishes from the hub itself; resolves when every subscriber has acknowledged. Unlike a
   * client's, these are not bounded by the hub: await them (or bound how many wait) so that a slow
   * subscriber cannot make them pile up.
   * @throws `ValidationError` if `data` does not fit the topic's schema or JSON cannot carry it.
   */
  publish<S extends z.ZodType>(topic: Topic<S>, data: z.input<S>): Promise<void> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError('message hub'));
    const subject = `message for topic "${topic.name}"`;
    try {
      parseWith(topic.schema, data, subject);
      encodeData(data, subject);
    } catch (err) {
      return Promise.reject(err);
    }
    const lo = this.#lowestOwn();
    const seq = ++this.#seq;
    this.#own.add(seq);
    return new Promise<void>((resolve) =>
      this.#route(this.#origin, seq, lo, topic.name, data, topic.requireSubscriber, undefined, () => {
        this.#own.delete(seq);
        resolve();
      }),
    );
  }

  /** The hub's own lowest unfinished publish number, or the next one (sent as `lo`, see the client's). */
  #lowestOwn(): number {
    while (this.#ownCursor <= this.#seq && !this.#own.has(this.#ownCursor)) this.#ownCursor += 1;
    return this.#ownCursor;
  }

  /** Subscribes the hub itself to a topic; the handler sees only data that fits the topic's schema. */
  subscribe<S extends z.ZodType>(topic: Topic<S>, handler: MessageHandler<S>): () => void {
    const list = this.#localSubs.get(topic.name) ?? [];
    const sub: LocalSub = { schema: topic.schema, handler: handler as MessageHandler<z.ZodType> };
    list.push(sub);
    this.#localSubs.set(topic.name, list);
    this.#flushWaiting(topic.name);
    return () => {
      const l = this.#localSubs.get(topic.name);
      if (l) l.splice(l.indexOf(sub) >>> 0, 1);
    };
  }

  /** Serves an RPC at the hub itself. Calls are answered here instead of being routed to a client. */
  serve<Req extends z.ZodType, Rep extends z.ZodType>(rpc: Rpc<Req, Rep>, handler: RpcHandler<Req, Rep>): void {
    this.#localServers.set(rpc.name, { rpc, handler: handler as RpcHandler<z.ZodType, z.ZodType> });
    for (const r of this.#waitingCalls.get(rpc.name)?.splice(0) ?? []) this.#dispatchCall(r);
  }

  /** Closes every connection (1001, clients reconnect elsewhere or later) and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const s of this.#sessions.values()) clearTimeout(s.expiry);
    for (const c of this.#conns) {
      clearTimeout(c.handshake);
      c.ws.close(CloseCode.GOING_AWAY, 'hub shutting down');
    }
    const closing = new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    // Peers that do not answer the close handshake are cut off.
    const cut = setTimeout(() => {
      for (const c of this.#conns) c.ws.terminate();
    }, 1000);
    await closing;
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections?.();
    });
    clearTimeout(cut);
  }

  // ---- connections ----

  #accept(ws: WebSocket, req: IncomingMessage): void {
    if (this.#closed) {
      ws.close(CloseCode.GOING_AWAY, 'hub shutting down');
      return;
    }
    const conn: Conn = {
      ws,
      address: req.socket.remoteAddress,
      tls: (req.socket as TLSSocket).encrypted === true,
      nonce: newNonce(),
      session: undefined,
      alive: true,
      closing: false,
      tokens: this.#opts.rateLimit,
      last: performance.now(),
      throttled: false,
      handshake: undefined,
      rejected: false,
      out: [],
      pubacks: [],
      flushing: false,
    };
    this.#conns.add(conn);
    conn.handshake = setTimeout(
      () => this.#reject(conn, CloseCode.HANDSHAKE_TIMEOUT, 'handshake timed out'),
      this.#opts.handshakeTimeoutMs,
    );
    ws.on('message', (data, isBinary) => this.#onFrame(conn, data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err) => {
      // ws reports an oversized frame (and other framing errors) here and closes the socket itself.
      this.#countRejected(conn);
      this.#log.warn('closing a peer: bad WebSocket frame', { peer: this.#peerName(conn), error: err.message });
    });
    ws.on('close', () => this.#onClose(conn));
    ws.send(
      JSON.stringify({
        t: 'challenge',
        v: PROTOCOL_VERSION,
        nonce: conn.nonce,
        method: this.#secret ? 'hmac' : 'token',
        max: this.#opts.maxFrameBytes,
      }),
    );
  }

  #peerName(conn: Conn): string {
    return conn.session ? `${conn.session.id}@${conn.address}` : `${conn.address ?? 'unknown'} (unauthenticated)`;
  }

  /** Closes a misbehaving peer with a documented code and one log line. */
  #reject(conn: Conn, code: number, why: string): void {
    if (conn.closing) return;
    conn.closing = true;
    this.#countRejected(conn);
    clearTimeout(conn.handshake);
    this.#log.warn('closing a peer', { peer: this.#peerName(conn), code, reason: why });
    conn.ws.close(code, why.slice(0, 120));
    // Do not wait for a misbehaving peer's close handshake.
    setTimeout(() => conn.ws.terminate(), 1000).unref();
  }

  #countRejected(conn: Conn): void {
    if (conn.rejected) return;
    conn.rejected = true;
    this.#rejected += 1;
  }

  #onClose(conn: Conn): void {
    this.#conns.delete(conn);
    clearTimeout(conn.handshake);
    const s = conn.session;
    if (!s || s.conn !== conn) return;
    s.conn = undefined;
    if (this.#closed) return;
    s.expiry = setTimeout(() => this.#expire(s), this.#opts.sessionTtlMs);
    s.expiry.unref();
  }

  #beat(): void {
    for (const c of this.#conns) {
      if (!c.alive) {
        this.#log.info('dropping a peer that stopped answering pings', { peer: this.#peerName(c) });
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /** Counts `frames` against the connection's rate limit; past it, stops reading for as long as it takes to earn them back. */
  #throttle(conn: Conn, frames: number): void {
    const now = performance.now();
    conn.tokens = Math.min(this.#opts.rateLimit, conn.tokens + ((now - conn.last) * this.#opts.rateLimit) / 1000);
    conn.last = now;
    conn.tokens -= frames;
    if (conn.tokens < 0 && !conn.throttled) {
      conn.throttled = true;
      conn.ws.pause();
      setTimeout(
        () => {
          conn.throttled = false;
          if (!this.#blocked(conn)) conn.ws.resume();
        },
        Math.ceil((-conn.tokens * 1000) / this.#opts.rateLimit),
      ).unref();
    }
  }

  #blocked(conn: Conn): boolean {
    return conn.throttled || (conn.session !== undefined && conn.session.unacked >= this.#opts.maxUnackedPerPeer);
  }

  #onFrame(conn: Conn, data: RawData, isBinary: boolean): void {
    if (conn.closing) return;
    conn.alive = true;
    this.#throttle(conn, 1);
    if (isBinary) {
      this.#reject(conn, CloseCode.PROTOCOL, 'binary frames are not part of the protocol');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      this.#reject(conn, CloseCode.PROTOCOL, 'malformed JSON');
      return;
    }
    // A WebSocket message is one frame or a batch (a JSON array) of frames, processed in order.
    if (!Array.isArray(json)) {
      this.#onJson(conn, json);
      return;
    }
    if (json.length === 0 || json.length > MAX_BATCH) {
      this.#reject(conn, CloseCode.PROTOCOL, 'empty or oversized batch');
      return;
    }
    // Each frame of a batch counts against the rate limit (the message itself was counted above).
    if (json.length > 1) this.#throttle(conn, json.length - 1);
    for (const one of json) {
      if (conn.closing) return;
      if (Array.isArray(one)) {
        this.#reject(conn, CloseCode.PROTOCOL, 'nested batch');
        return;
      }
      this.#onJson(conn, one);
    }
  }

  #onJson(conn: Conn, json: unknown): void {
    const fast = fastClientFrame(json);
    const parsed = fast ? { success: true as const, data: fast } : ClientFrameSchema.safeParse(json);
    if (!parsed.success) {
      const t = typeof json === 'object' && json !== null ? (json as { t?: unknown }).t : undefined;
      const known = ['hello', 'pub', 'ack', 'sub', 'unsub', 'serve', 'call', 'rep'].includes(String(t));
      this.#reject(conn, CloseCode.PROTOCOL, known ? `invalid "${String(t)}" frame` : 'unknown message type');
      return;
    }
    const f = parsed.data;
    if (!conn.session) {
      if (f.t !== 'hello') {
        this.#reject(conn, CloseCode.UNAUTHENTICATED, 'not authenticated');
        return;
      }
      this.#hello(conn, f);
      return;
    }
    if (f.t === 'hello') {
      this.#reject(conn, CloseCode.PROTOCOL, 'second hello');
      return;
    }
    this.#dispatch(conn, conn.session, f);
  }

  #refuse(conn: Conn, reason: string, msg: string): void {
    conn.ws.send(JSON.stringify({ t: 'refused', reason, msg }));
    this.#reject(conn, CloseCode.UNAUTHENTICATED, `handshake refused: ${reason}`);
  }

  #hello(conn: Conn, f: Extract<ClientFrame, { t: 'hello' }>): void {
    const auth = this.#opts.auth;
    let welcome: { t: 'welcome'; mac?: string; refused: { tp: string; code: string; msg: string }[] };
    if (this.#secret) {
      if (f.mac === undefined || f.nonce === undefined) {
        this.#refuse(conn, 'wrong-method', 'this hub authenticates with a shared secret');
        return;
      }
      if (!safeEqual(f.mac, clientProof(this.#secret, conn.nonce, f.nonce, f.id))) {
        this.#refuse(conn, 'bad-credentials', 'the proof does not match: wrong secret');
        return;
      }
      welcome = { t: 'welcome', mac: hubProof(this.#secret, conn.nonce, f.nonce, f.id), refused: [] };
    } else {
      const a = auth as { token: string; requireTls?: boolean };
      if (f.token === undefined) {
        this.#refuse(conn, 'wrong-method', 'this hub authenticates with a bearer token');
        return;
      }
      if (a.requireTls !== false && !conn.tls) {
        this.#refuse(conn, 'tls-required', 'a token is only accepted over wss://');
        return;
      }
      if (!safeEqual(f.token, a.token)) {
        this.#refuse(conn, 'bad-credentials', 'wrong token');
        return;
      }
      welcome = { t: 'welcome', refused: [] };
    }
    clearTimeout(conn.handshake);
    let s = this.#sessions.get(f.id);
    const origin = `${f.id}~${f.epoch}`;
    if (s) {
      clearTimeout(s.expiry);
      s.expiry = undefined;
      if (s.conn && s.conn !== conn) {
        this.#log.info('a newer connection replaces this one', { peer: this.#peerName(s.conn) });
        s.conn.closing = true;
        s.conn.ws.close(CloseCode.REPLACED, 'replaced by a newer connection with the same id');
      }
      s.origin = origin;
    } else {
      s = {
        id: f.id,
        origin,
        conn: undefined,
        subs: new Set(),
        serves: new Set(),
        pending: new PairMap(),
        routes: new Map(),
        unacked: 0,
        expiry: undefined,
        peerMax: DEFAULT_PEER_MAX,
      };
      this.#sessions.set(f.id, s);
    }
    s.conn = conn;
    s.peerMax = f.max ?? DEFAULT_PEER_MAX;
    conn.session = s;
    const peer = this.#peer(conn);
    void this.#restore(conn, s, f, welcome, peer);
  }

  async #restore(
    conn: Conn,
    s: Session,
    f: Extract<ClientFrame, { t: 'hello' }>,
    welcome: { t: 'welcome'; mac?: string; refused: { tp: string; code: string; msg: string }[] },
    peer: PeerInfo,
  ): Promise<void> {
    const checks = [
      ...f.subs.map(async (tp) => [tp, 'subscribe', await this.#check(peer, 'subscribe', tp, 'topic')] as const),
      ...f.serves.map(async (tp) => [tp, 'serve', await this.#check(peer, 'serve', tp, 'rpc')] as const),
    ];
    const results = await Promise.all(checks);
    if (s.conn !== conn) return;
    for (const [tp, action, err] of results) {
      if (err) welcome.refused.push({ tp, code: err.code, msg: err.message });
      else if (action === 'subscribe') this.#addSub(s, tp, false);
      else this.#addServe(s, tp, false);
    }
    this.#send(conn, JSON.stringify(welcome));
    this.#log.debug('peer authenticated', { peer: this.#peerName(conn) });
    // Everything this session has not acknowledged goes out again, oldest first.
    for (const inf of s.pending.values()) this.#send(conn, inf.frame);
    for (const r of s.routes.values()) this.#send(conn, r.frame);
    for (const tp of s.subs) this.#flushWaiting(tp);
    for (const tp of s.serves) this.#flushWaitingCalls(tp);
  }

  #peer(conn: Conn): PeerInfo {
    return { id: conn.session?.id ?? '', address: conn.address, tls: conn.tls };
  }

  /** Checks a name against the declared topics and the authorization hook; returns the error to report, if any. */
  async #check(
    peer: PeerInfo,
    action: HubAction,
    name: string,
    kind: 'topic' | 'rpc',
  ): Promise<UnknownTopicError | ForbiddenError | undefined> {
    if (this.#topics && this.#topics.get(name)?.kind !== kind) return new UnknownTopicError(name);
    if (this.#opts.authorize) {
      let ok = false;
      try {
        ok = (await (this.#opts.authorize as NonNullable<MessageHubOptions['authorize']>)(peer, action, name)) === true;
      } catch (err) {
        this.#log.error('the authorize hook threw; refusing', { peer: peer.id, action, name, error: err });
      }
      if (!ok) return new ForbiddenError(action, name);
    }
    return undefined;
  }

  // ---- sending, batched per tick ----

  #send(conn: Conn, frame: string): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.out.push(frame);
    this.#scheduleFlush(conn);
  }

  #scheduleFlush(conn: Conn): void {
    if (conn.flushing) return;
    conn.flushing = true;
    setImmediate(() => this.#flush(conn));
  }

  #flush(conn: Conn): void {
    conn.flushing = false;
    if (conn.ws.readyState !== WebSocket.OPEN) {
      conn.out.length = 0;
      conn.pubacks.length = 0;
      return;
    }
    if (conn.pubacks.length) {
      conn.out.push(JSON.stringify({ t: 'puback', s: conn.pubacks }));
      conn.pubacks = [];
    }
    const out = conn.out;
    conn.out = [];
    sendBatched(conn.ws, out, conn.session?.peerMax);
  }

  #puback(s: Session, seq: number): void {
    const conn = s.conn;
    if (!conn || conn.ws.readyState !== WebSocket.OPEN) return;
    conn.pubacks.push(seq);
    this.#scheduleFlush(conn);
  }

  // ---- frames of an authenticated peer ----

  #dispatch(conn: Conn, s: Session, f: Exclude<ClientFrame, { t: 'hello' }>): void {
    switch (f.t) {
      case 'pub':
        this.#onPub(conn, s, f);
        return;
      case 'ack':
        for (const e of f.a) for (let i = 1; i < e.length; i++) this.#onAck(s, e[0], e[i] as number);
        return;
      case 'sub':
      case 'serve':
        return void this.#onSubscribe(conn, s, f.t, f.r, f.tp);
      case 'unsub':
        this.#removeSub(s, f.tp);
        this.#send(conn, JSON.stringify({ t: 'ok', r: f.r }));
        return;
      case 'call':
        return void this.#onCall(conn, s, f);
      case 'rep': {
        this.#onRep(s, f);
        return;
      }
    }
  }

  #onPub(conn: Conn, s: Session, f: Extract<ClientFrame, { t: 'pub' }>): void {
    // Everything below the sender's lowest unacknowledged number is done: forget those numbers.
    if (f.lo !== undefined) this.#done.advance(s.origin, Math.min(f.lo, f.s));
    if (this.#seenPub(s, f.s)) return;
    if (this.#topics && this.#topics.get(f.tp)?.kind !== 'topic') {
      const err = new UnknownTopicError(f.tp);
      this.#send(conn, JSON.stringify({ t: 'pubnack', s: f.s, code: err.code, msg: err.message }));
      return;
    }
    if (this.#opts.authorize) void this.#authorizePub(conn, s, f);
    else this.#acceptPub(conn, s, f);
  }

  /** A resend of a publish already done (acknowledged again) or still on its way (acknowledged when done). */
  #seenPub(s: Session, seq: number): boolean {
    if (this.#done.has(s.origin, seq)) {
      this.#puback(s, seq);
      return true;
    }
    return this.#inflight.has(s.origin, seq);
  }

  async #authorizePub(conn: Conn, s: Session, f: Extract<ClientFrame, { t: 'pub' }>): Promise<void> {
    const err = await this.#check(this.#peer(conn), 'publish', f.tp, 'topic');
    if (err) this.#send(conn, JSON.stringify({ t: 'pubnack', s: f.s, code: err.code, msg: err.message }));
    else if (!this.#seenPub(s, f.s)) this.#acceptPub(conn, s, f);
  }

  #acceptPub(conn: Conn, s: Session, f: Extract<ClientFrame, { t: 'pub' }>): void {
    const def = this.#topics?.get(f.tp) as Topic | undefined;
    if (def) {
      // Checked, and forwarded as sent: subscribers validate the same input (a transform's output might not fit it).
      const r = def.schema.safeParse(f.d);
      if (!r.success) {
        const e = errorBody(r.error, 'message');
        this.#send(conn, JSON.stringify({ t: 'pubnack', s: f.s, code: e.code, msg: `topic "${f.tp}": ${e.msg}` }));
        return;
      }
    }
    if (s.conn !== conn) return;
    s.unacked += 1;
    if (s.unacked >= this.#opts.maxUnackedPerPeer) conn.ws.pause();
    const lo = f.lo === undefined ? undefined : Math.min(f.lo, f.s);
    this.#route(s.origin, f.s, lo, f.tp, f.d, f.w === true || def?.requireSubscriber === true, s, undefined);
  }

  /** Delivers one publish to every subscriber (sessions and the hub's own handlers). */
  #route(
    origin: string,
    seq: number,
    lo: number | undefined,
    tp: string,
    d: unknown,
    hold: boolean,
    from: Session | undefined,
    done: (() => void) | undefined,
  ): void {
    const frame = JSON.stringify({ t: 'msg', o: origin, s: seq, tp, d, lo });
    const subs = this.#subscribers.get(tp);
    const local = this.#localSubs.get(tp);
    const inf: Inflight = {
      origin,
      seq,
      topic: tp,
      frame,
      data: d,
      from,
      lo,
      remaining: 0,
      done,
      localPending: false,
    };
    this.#inflight.set(origin, seq, inf);
    if (!subs?.size && !local?.length) {
      if (hold) {
        const w = this.#waiting.get(tp) ?? [];
        w.push(inf);
        this.#waiting.set(tp, w);
        return;
      }
      this.#complete(inf);
      return;
    }
    if (subs) {
      for (const sub of subs) {
        if (frame.length * 3 + 2 > sub.peerMax && Buffer.byteLength(frame) + 2 > sub.peerMax) {
          // It would be refused (1009) on every redelivery: not delivered to this one, and said so.
          this.#log.warn('not delivering a message larger than the subscriber accepts (its maxFrameBytes)', {
            peer: sub.id,
            topic: tp,
            origin,
            seq,
            limit: sub.peerMax,
          });
          continue;
        }
        inf.remaining += 1;
        sub.pending.set(origin, seq, inf);
        if (sub.conn) this.#send(sub.conn, frame);
      }
    }
    if (inf.remaining === 0 && !local?.length) {
      this.#complete(inf);
      return;
    }
    if (local?.length) {
      inf.localPending = true;
      void this.#runLocal(local, d, { topic: tp, origin, seq }, inf);
    }
  }

  async #runLocal(local: readonly LocalSub[], d: unknown, meta: MessageMeta, inf: Inflight): Promise<void> {
    for (const sub of local) {
      const r = sub.schema.safeParse(d);
      if (!r.success) {
        this.#log.warn('dropping a message that does not fit the topic schema', { topic: meta.topic, origin: meta.origin });
        continue;
      }
      try {
        await sub.handler(r.data, meta);
      } catch (err) {
        this.#log.error('a hub subscriber threw', { topic: meta.topic, error: err });
      }
    }
    inf.localPending = false;
    this.#tryComplete(inf);
  }

  #onAck(s: Session, origin: string, seq: number): void {
    const inf = s.pending.get(origin, seq);
    if (!inf) return;
    s.pending.delete(origin, seq);
    inf.remaining -= 1;
    this.#tryComplete(inf);
  }

  #tryComplete(inf: Inflight): void {
    if (inf.remaining === 0 && !inf.localPending) this.#complete(inf);
  }

  #complete(inf: Inflight): void {
    if (!this.#inflight.delete(inf.origin, inf.seq)) return;
    this.#done.add(inf.origin, inf.seq);
    inf.done?.();
    const from = inf.from;
    if (from) {
      from.unacked -= 1;
      this.#puback(from, inf.seq);
      const c = from.conn;
      if (c && from.unacked === this.#opts.maxUnackedPerPeer - 1 && !c.throttled) c.ws.resume();
    }
  }

  #flushWaiting(tp: string): void {
    const w = this.#waiting.get(tp);
    if (!w?.length) return;
    this.#waiting.delete(tp);
    for (const inf of w) {
      this.#inflight.delete(inf.origin, inf.seq);
      this.#route(inf.origin, inf.seq, inf.lo, tp, inf.data, true, inf.from, inf.done);
    }
  }

  async #onSubscribe(conn: Conn, s: Session, t: 'sub' | 'serve', r: number, tp: string): Promise<void> {
    const err = await this.#check(this.#peer(conn), t === 'sub' ? 'subscribe' : 'serve', tp, t === 'sub' ? 'topic' : 'rpc');
    if (err) return this.#send(conn, JSON.stringify({ t: 'err', r, code: err.code, msg: err.message }));
    if (t === 'sub') this.#addSub(s, tp, true);
    else this.#addServe(s, tp, true);
    this.#send(conn, JSON.stringify({ t: 'ok', r }));
  }

  #addSub(s: Session, tp: string, flush: boolean): void {
    s.subs.add(tp);
    const set = this.#subscribers.get(tp) ?? new Set();
    set.add(s);
    this.#subscribers.set(tp, set);
    if (flush) this.#flushWaiting(tp);
  }

  #removeSub(s: Session, tp: string): void {
    s.subs.delete(tp);
    this.#subscribers.get(tp)?.delete(s);
  }

  #addServe(s: Session, tp: string, flush: boolean): void {
    if (s.serves.has(tp)) return;
    s.serves.add(tp);
    const list = this.#servers.get(tp) ?? [];
    list.push(s);
    this.#servers.set(tp, list);
    if (flush) this.#flushWaitingCalls(tp);
  }

  /** Forgets a session whose peer did not come back within its TTL. */
  #expire(s: Session): void {
    if (s.conn) return;
    this.#sessions.delete(s.id);
    for (const tp of s.subs) this.#subscribers.get(tp)?.delete(s);
    for (const tp of s.serves) {
      const list = this.#servers.get(tp)?.filter((x) => x !== s) ?? [];
      this.#servers.set(tp, list);
    }
    this.#log.info('forgetting a peer that did not come back', { peer: s.id, undelivered: s.pending.size });
    for (const inf of [...s.pending.values()]) this.#onAck(s, inf.origin, inf.seq);
    // Calls it made are dropped (nobody is left to read the reply); calls it served go to another server.
    for (const r of [...this.#routes.values()]) {
      if (r.caller !== s) continue;
      this.#routes.delete(r.key);
      r.server?.routes.delete(r.key);
    }
    for (const [tp, list] of this.#waitingCalls) {
      const keep = list.filter((r) => r.caller !== s);
      if (keep.length) this.#waitingCalls.set(tp, keep);
      else this.#waitingCalls.delete(tp);
    }
    for (const r of s.routes.values()) {
      r.server = undefined;
      if (this.#routes.get(r.key) === r) this.#dispatchCall(r);
    }
    s.routes.clear();
  }

  // ---- RPC ----

  async #onCall(conn: Conn, s: Session, f: Extract<ClientFrame, { t: 'call' }>): Promise<void> {
    const key = `${s.origin}|${f.c}`;
    if (this.#routes.has(key)) return; // a resend of a call still being served
    const cached = this.#localReplies.get(key);
    if (cached) return this.#send(conn, cached);
    if (cached === null) return;
    const err = await this.#check(this.#peer(conn), 'call', f.tp, 'rpc');
    if (err) return this.#send(conn, JSON.stringify({ t: 'reply', c: f.c, e: { code: err.code, msg: err.message } }));
    const local = this.#localServers.get(f.tp);
    if (local) return this.#serveLocal(s, key, f, local);
    const def = this.#topics?.get(f.tp) as Rpc | undefined;
    if (def) {
      const r = def.request.safeParse(f.d);
      if (!r.success) return this.#send(conn, JSON.stringify({ t: 'reply', c: f.c, e: errorBody(r.error, 'request') }));
    }
    const route: Route = {
      key,
      caller: s,
      c: f.c,
      tp: f.tp,
      frame: JSON.stringify({ t: 'req', o: s.origin, c: f.c, tp: f.tp, d: f.d }),
      server: undefined,
    };
    this.#routes.set(key, route);
    this.#dispatchCall(route);
  }

  async #serveLocal(s: Session, key: string, f: Extract<ClientFrame, { t: 'call' }>, local: LocalServer): Promise<void> {
    this.#localReplies.set(key, null);
    let frame: string;
    const r = local.rpc.request.safeParse(f.d);
    if (!r.success) frame = JSON.stringify({ t: 'reply', c: f.c, e: errorBody(r.error, 'request') });
    else {
      try {
        const meta: CallMeta = { rpc: f.tp, origin: s.origin };
        const reply = validateReply(local.rpc, await local.handler(r.data, meta));
        frame = JSON.stringify({ t: 'reply', c: f.c, d: reply });
      } catch (err) {
        frame = JSON.stringify({ t: 'reply', c: f.c, e: replyError(err) });
      }
    }
    this.#localReplies.set(key, frame);
    if (s.conn) this.#send(s.conn, frame);
  }

  #dispatchCall(r: Route): void {
    const list = this.#servers.get(r.tp)?.filter((x) => x.conn !== undefined) ?? [];
    if (list.length === 0) {
      // Nobody serves it right now: hold the call until someone does (the caller's timeout bounds the wait).
      const w = this.#waitingCalls.get(r.tp) ?? [];
      w.push(r);
      this.#waitingCalls.set(r.tp, w);
      return;
    }
    const server = list[r.c % list.length]!;
    r.server = server;
    server.routes.set(r.key, r);
    this.#send(server.conn!, r.frame);
  }

  #flushWaitingCalls(tp: string): void {
    const w = this.#waitingCalls.get(tp);
    if (!w?.length) return;
    this.#waitingCalls.delete(tp);
    for (const r of w) if (this.#routes.get(r.key) === r) this.#dispatchCall(r);
  }

  #onRep(s: Session, f: Extract<ClientFrame, { t: 'rep' }>): void {
    const key = `${f.o}|${f.c}`;
    const r = this.#routes.get(key);
    if (!r || r.server !== s) return;
    this.#routes.delete(key);
    s.routes.delete(key);
    const frame = JSON.stringify({ t: 'reply', c: f.c, ...(f.e ? { e: f.e } : { d: f.d }) });
    // A caller that is away resends its call when it is back; the server's reply cache answers it.
    if (r.caller.conn && r.caller.origin === f.o) this.#send(r.caller.conn, frame);
  }
}
