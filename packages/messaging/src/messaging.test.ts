/** MessageHub and MessageClient on real sockets on 127.0.0.1: pub/sub, RPC and the typed errors. */
import { AbortedError, ErrorCode, ValidationError } from '@exaworks/jpsi-core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MessageClient, type MessageClientOptions } from './client.js';
import {
  ConnectionClosedError,
  ForbiddenError,
  QueueFullError,
  RemoteError,
  ReplyTimeoutError,
  UnknownTopicError,
} from './errors.js';
import { MessageHub, type MessageHubOptions } from './hub.js';
import { recordingLogger, until } from './test-support/helpers.js';
import { defineRpc, defineTopic } from './topics.js';

const secret = 'test-secret-0123456789abcdef';
const events = defineTopic('events', z.object({ n: z.number().int(), text: z.string().optional() }));
const add = defineRpc('math.add', { request: z.object({ a: z.number(), b: z.number() }), reply: z.number() });
const slow = defineRpc('slow', { request: z.object({ ms: z.number() }), reply: z.literal('done') });
const fails = defineRpc('fails', { request: z.object({}), reply: z.null() });

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function hub(options: Partial<MessageHubOptions> = {}): Promise<MessageHub> {
  const h = await MessageHub.listen({ auth: { secret }, logger: recordingLogger(), ...options });
  open.push(h);
  return h;
}

async function client(h: MessageHub, options: Partial<MessageClientOptions> = {}): Promise<MessageClient> {
  const c = await MessageClient.connect({ url: h.url, auth: { secret }, logger: recordingLogger(), ...options });
  open.push(c);
  return c;
}

describe('publish/subscribe', { timeout: 30_000 }, () => {
  it('delivers typed, validated messages to every subscriber; publish resolves after they processed it', async () => {
    const h = await hub({ topics: [events] });
    const [a, b, pub] = [await client(h), await client(h), await client(h)];
    const gotA: number[] = [];
    const gotB: number[] = [];
    await a.subscribe(events, (d) => void gotA.push(d.n));
    await b.subscribe(events, async (d, meta) => {
      expect(meta.origin).toBe(pub.origin);
      await new Promise((r) => setTimeout(r, 1));
      gotB.push(d.n);
    });
    for (let i = 1; i <= 20; i++) await pub.publish(events, { n: i });
    // publish resolved, so both handlers already ran for every message
    expect(gotA).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(gotB).toEqual(gotA);
  });

  it('the hub publishes and subscribes itself', async () => {
    const h = await hub();
    const c = await client(h);
    const atHub: number[] = [];
    h.subscribe(events, (d) => void atHub.push(d.n));
    const atClient: number[] = [];
    await c.subscribe(events, (d) => void atClient.push(d.n));
    await c.publish(events, { n: 7 });
    await h.publish(events, { n: 8 });
    expect(atHub).toEqual([7, 8]); // a local subscriber sees the hub's own publishes too
    expect(atClient).toEqual([7, 8]);
  });

  it('refuses data that does not fit the schema before sending, naming the field', async () => {
    const c = await client(await hub());
    const err = await c.publish(events, { n: 1.5 } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]?.path).toBe('n');
  });

  it('a hub that declares topics refuses others with UnknownTopicError', async () => {
    const h = await hub({ topics: [events] });
    const c = await client(h);
    const other = defineTopic('other', z.string());
    await expect(c.publish(other, 'x')).rejects.toBeInstanceOf(UnknownTopicError);
    const err = await c.subscribe(other, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownTopicError);
    expect((err as UnknownTopicError).code).toBe(ErrorCode.UNKNOWN_TOPIC);
    expect((err as Error).message).toContain('"other"');
  });

  it('the authorization hook decides who may publish and subscribe where', async () => {
    const h = await hub({
      authorize: (peer, action, name) => !(peer.id === 'reader' && action === 'publish') || name === 'open',
    });
    const reader = await client(h, { id: 'reader' });
    await reader.subscribe(events, () => {});
    const err = await reader.publish(events, { n: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).code).toBe(ErrorCode.FORBIDDEN);
  });

  it('drops a message with no subscriber unless the topic requires one; then holds it until someone subscribes', async () => {
    const h = await hub();
    const pub = await client(h);
    await pub.publish(events, { n: 1 }); // nobody listens: acknowledged and dropped
    const held = defineTopic('held', z.number(), { requireSubscriber: true });
    let acked = false;
    const p = pub.publish(held, 42).then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toBe(false);
    const sub = await client(h);
    const got: number[] = [];
    await sub.subscribe(held, (n) => void got.push(n));
    await p;
    expect(got).toEqual([42]);
  });

  it('bounds what waits for acknowledgement: a burst waits for room, or throws QueueFullError when asked to', async () => {
    const h = await hub();
    const held = defineTopic('held.bound', z.number(), { requireSubscriber: true });
    const c = await client(h, { maxInFlight: 5 });
    const all = Array.from({ length: 20 }, (_, i) => c.publish(held, i));
    await new Promise((r) => setTimeout(r, 100));
    expect(c.inFlight).toBe(5); // the other 15 wait for room; nothing is acknowledged while nobody subscribes
    const strict = await client(h, { maxInFlight: 2, queueFull: 'reject' });
    void strict.publish(held, 1);
    void strict.publish(held, 2);
    await expect(strict.publish(held, 3)).rejects.toBeInstanceOf(QueueFullError);
    const got: number[] = [];
    const sub = await client(h);
    await sub.subscribe(held, (n) => void got.push(n));
    await Promise.all(all);
    expect(got.filter((n) => n >= 0).length).toBeGreaterThanOrEqual(20);
    expect(c.inFlight).toBe(0);
  });

  it('unsubscribe stops delivery', async () => {
    const h = await hub();
    const [s, p] = [await client(h), await client(h)];
    const got: number[] = [];
    const sub = await s.subscribe(events, (d) => void got.push(d.n));
    await p.publish(events, { n: 1 });
    await sub.unsubscribe();
    await p.publish(events, { n: 2 });
    expect(got).toEqual([1]);
  });
});

describe('request/reply', { timeout: 30_000 }, () => {
  it('calls an RPC served by the hub and one served by another client', async () => {
    const h = await hub({ topics: [add, slow, fails, events] });
    h.serve(add, ({ a, b }) => a + b);
    const server = await client(h);
    let runs = 0;
    await server.serve(slow, async ({ ms }, meta) => {
      runs += 1;
      expect(meta.rpc).toBe('slow');
      await new Promise((r) => setTimeout(r, ms));
      return 'done' as const;
    });
    const caller = await client(h);
    expect(await caller.call(add, { a: 2, b: 3 })).toBe(5);
    const replies = await Promise.all([1, 2, 3].map(() => caller.call(slow, { ms: 5 })));
    expect(replies).toEqual(['done', 'done', 'done']);
    expect(runs).toBe(3);
  });

  it('times out with ReplyTimeoutError, aborts with AbortedError, and reports a remote failure as RemoteError', async () => {
    const h = await hub();
    const server = await client(h);
    await server.serve(slow, async ({ ms }) => {
      await new Promise((r) => setTimeout(r, ms));
      return 'done' as const;
    });
    await server.serve(fails, () => {
      throw new Error('disk on fire');
    });
    const caller = await client(h);
    const t = await caller.call(slow, { ms: 2_000 }, { timeout: 50 }).catch((e: unknown) => e);
    expect(t).toBeInstanceOf(ReplyTimeoutError);
    expect((t as ReplyTimeoutError).code).toBe(ErrorCode.REPLY_TIMEOUT);
    const ac = new AbortController();
    const p = caller.call(slow, { ms: 2_000 }, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    const r = await caller.call(fails, {}).catch((e: unknown) => e);
    expect(r).toBeInstanceOf(RemoteError);
    expect((r as Error).message).toContain('disk on fire');
    expect(caller.inFlight).toBe(0);
  });

  it('an invalid reply is refused on the serving side', async () => {
    const h = await hub();
    h.serve(add, () => 'not a number' as never);
    const caller = await client(h);
    const err = await caller.call(add, { a: 1, b: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toMatch(/invalid reply/);
  });

  it('a closed client refuses work with ConnectionClosedError and rejects what was waiting', async () => {
    const h = await hub();
    const server = await client(h);
    await server.serve(slow, async () => new Promise<'done'>(() => {}));
    const c = await client(h);
    const p = c.call(slow, { ms: 0 });
    await until(() => c.inFlight === 1);
    await c.close();
    await expect(p).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(c.publish(events, { n: 1 })).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});

describe('misuse and limits', { timeout: 30_000 }, () => {
  it('data JSON cannot carry is refused with ValidationError before anything is sent', async () => {
    const h = await hub();
    const anything = defineTopic('anything', z.any());
    const echoAny = defineRpc('echo.any', { request: z.any(), reply: z.any() });
    h.serve(echoAny, (x) => x);
    const c = await client(h);
    for (const bad of [undefined, 10n, () => 1]) {
      const err = await c.publish(anything, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toMatch(/message for topic "anything"[\s\S]*JSON/);
      await expect(c.call(echoAny, bad)).rejects.toBeInstanceOf(ValidationError);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(c.publish(anything, cyclic)).rejects.toBeInstanceOf(ValidationError);
    // Nothing was sent, nothing is waiting, and the connection still works.
    expect(c.inFlight).toBe(0);
    await expect(c.call(echoAny, { ok: 1 })).resolves.toEqual({ ok: 1 });
    expect(h.stats.rejected).toBe(0);
  });

  it("a message larger than the hub's maxFrameBytes is refused up front; small ones are batched under it", async () => {
    const h = await hub({ maxFrameBytes: 4096 });
    const text = defineTopic('text', z.string());
    const sub = await client(h);
    const got: string[] = [];
    await sub.subscribe(text, (t) => void got.push(t));
    const pub = await client(h);
    const err = await pub.publish(text, 'x'.repeat(5000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(/at most 3584 \(maxFrameBytes 4096/);
    // 200 publishes of 500 bytes in one tick: far more than 4096 bytes, sent as several batches under the limit.
    await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publish(text, `${i}:${'y'.repeat(500)}`)));
    expect(got).toHaveLength(200);
    expect(h.stats.rejected).toBe(0);
  });

  it('a message larger than a subscriber accepts is not delivered to it (logged); the rest is', async () => {
    const log = recordingLogger();
    const h = await hub({ logger: log });
    const text = defineTopic('text.big', z.string());
    const small = await client(h, { maxFrameBytes: 2048 });
    const big = await client(h);
    const gotSmall: number[] = [];
    const gotBig: number[] = [];
    await small.subscribe(text, (t) => void gotSmall.push(t.length));
    await big.subscribe(text, (t) => void gotBig.push(t.length));
    const pub = await client(h);
    await pub.publish(text, 'z'.repeat(3000));
    await pub.publish(text, 'z'.repeat(10));
    expect(gotBig).toEqual([3000, 10]);
    expect(gotSmall).toEqual([10]);
    expect(small.connected).toBe(true);
    expect(log.records.some((r) => r.level === 'warn' && /larger than the subscriber accepts/.test(r.msg))).toBe(true);
  });

  it('the rate limit counts every frame of a batch: a burst past it holds back what comes next', async () => {
    const h = await hub({ rateLimit: 200 });
    const c = await client(h);
    // One batch of 600 frames: read and answered, then the hub stops reading for about (600 - 200) / 200 s.
    await Promise.all(Array.from({ length: 600 }, (_, i) => c.publish(events, { n: i })));
    const t0 = performance.now();
    await c.publish(events, { n: 600 });
    expect(performance.now() - t0).toBeGreaterThan(1000);
  });
});

describe('option validation', () => {
  it('names the wrong fields', async () => {
    const err = await MessageHub.listen({ auth: { secret }, port: -1, heartbeatMs: 'x' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path).sort()).toEqual(['heartbeatMs', 'port']);
    const e2 = await MessageClient.connect({ url: 'http://x', auth: { secret } }).catch((e: unknown) => e);
    expect((e2 as ValidationError).issues[0]?.path).toBe('url');
  });
});
