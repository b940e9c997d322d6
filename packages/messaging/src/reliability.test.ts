/**
 * Reliability on real sockets and real processes: SIGKILL the hub process mid-stream and restart
 * it, cut client connections at random under load, freeze a connection (half-open), SIGKILL a
 * publisher with a durable outbox and restart it. Every message is counted and checksummed:
 * nothing lost, nothing processed twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MessageClient, type MessageClientOptions } from './client.js';
import { MessageHub } from './hub.js';
import { recordingLogger, startProxy, until } from './test-support/helpers.js';
import { defineTopic } from './topics.js';

const secret = 'reliability-secret-0123456789';
const load = defineTopic('load', z.object({ i: z.number(), body: z.string() }), { requireSubscriber: true });
const HUB = fileURLToPath(new URL('./test-support/hub-process.mjs', import.meta.url));
const PUBLISHER = fileURLToPath(new URL('./test-support/publisher-process.mjs', import.meta.url));
const fast: Partial<MessageClientOptions> = { reconnect: { initialDelayMs: 20, maxDelayMs: 300 }, logger: recordingLogger() };

const open: { close(): Promise<void> }[] = [];
const children = new Set<ChildProcess>();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'xw-msg-rel-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const x of open.splice(0).reverse()) await x.close();
});

/** Spawns a node script and resolves with the child once its stdout printed a line matching `ready`. */
async function spawnUntil(
  script: string,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; line: string; out: string[] }> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, XW_HUB_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const out: string[] = [];
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        out.push(l);
        if (ready.test(l)) resolve(l);
      }
    });
    child.on('exit', (code) => reject(new Error(`${path.basename(script)} exited with ${code} before printing ${ready}`)));
  });
  return { child, line, out };
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Counts every message and sums a hash of each, to catch losses, duplicates and corruption. */
class Tally {
  readonly counts = new Map<number, number>();
  sum = 0n;
  add(m: { i: number; body: string }): void {
    this.counts.set(m.i, (this.counts.get(m.i) ?? 0) + 1);
    this.sum += BigInt(`0x${createHash('sha256').update(`${m.i}:${m.body}`).digest('hex').slice(0, 12)}`);
  }
  static expected(n: number, body: (i: number) => string): bigint {
    const t = new Tally();
    for (let i = 0; i < n; i++) t.add({ i, body: body(i) });
    return t.sum;
  }
  assertExactlyOnce(n: number, body: (i: number) => string): void {
    const twice = [...this.counts].filter(([, c]) => c > 1).map(([i]) => i);
    const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !this.counts.has(i));
    expect({ twice: twice.slice(0, 10), missing: missing.slice(0, 10), size: this.counts.size }).toEqual({
      twice: [],
      missing: [],
      size: n,
    });
    expect(this.sum).toBe(Tally.expected(n, body));
  }
}

describe('the hub process is SIGKILLed mid-stream and restarted', { timeout: 90_000 }, () => {
  it('nothing is lost and nothing is processed twice', async () => {
    let hub = await spawnUntil(HUB, ['0'], /^wss?:\/\//);
    const url = hub.line.trim();
    const port = url.split(':').pop()!;
    const sub = await MessageClient.connect({ url, auth: { secret }, ...fast });
    const pub = await MessageClient.connect({ url, auth: { secret }, maxInFlight: 200, ...fast });
    open.push(sub, pub);
    const tally = new Tally();
    const N = 3000;
    // The subscriber stalls once it has passed each kill point, so the kill always lands mid-stream.
    const killAt = [N / 3, (2 * N) / 3];
    let stall: Promise<void> | undefined;
    let release = () => {};
    await sub.subscribe(load, async (m) => {
      tally.add(m);
      if (!stall && tally.counts.size >= killAt[0]!) stall = new Promise<void>((r) => (release = r));
      if (stall) await stall;
    });
    const body = (i: number) => `payload-${i}-${'x'.repeat(i % 50)}`;
    const sending = (async () => {
      const all: Promise<void>[] = [];
      for (let i = 0; i < N; i++) all.push(pub.publish(load, { i, body: body(i) }));
      await Promise.all(all);
    })();
    while (killAt.length) {
      await until(() => stall !== undefined, 60_000, `${killAt[0]} messages`);
      expect(tally.counts.size).toBeLessThan(N);
      await killHard(hub.child);
      hub = await spawnUntil(HUB, [port], /^wss?:\/\//);
      killAt.shift();
      stall = undefined;
      release();
    }
    await sending;
    tally.assertExactlyOnce(N, body);
    expect(pub.inFlight).toBe(0);
  });
});

describe('client connections are cut at random under load', { timeout: 90_000 }, () => {
  it('three publishers, two subscribers, connections destroyed every few ms: each subscriber gets each message once', async () => {
    const hub = await MessageHub.listen({ auth: { secret }, logger: recordingLogger() });
    open.push(hub);
    const proxy = await startProxy(hub.port);
    open.push(proxy);
    const url = `ws://127.0.0.1:${proxy.port}`;
    const subs = [
      await MessageClient.connect({ url, auth: { secret }, ...fast }),
      await MessageClient.connect({ url, auth: { secret }, ...fast }),
    ];
    const pubs = await Promise.all(
      [0, 1, 2].map(() => MessageClient.connect({ url, auth: { secret }, maxInFlight: 100, ...fast })),
    );
    open.push(...subs, ...pubs);
    const tallies = subs.map(() => new Tally());
    await Promise.all(subs.map((s, k) => s.subscribe(load, (m) => tallies[k]!.add(m))));
    const PER = 600;
    const body = (i: number) => `b${i}`;
    let cuts = 0;
    const chaos = setInterval(() => {
      if (Math.random() < 0.5) cuts += proxy.cutAll();
    }, 15);
    try {
      await Promise.all(
        pubs.map(async (p, k) => {
          const all: Promise<void>[] = [];
          for (let j = 0; j < PER; j++) {
            const i = k * PER + j;
            all.push(p.publish(load, { i, body: body(i) }));
          }
          await Promise.all(all);
        }),
      );
    } finally {
      clearInterval(chaos);
    }
    expect(cuts).toBeGreaterThan(3);
    for (const t of tallies) t.assertExactlyOnce(3 * PER, body);
    expect(hub.stats.inflight).toBe(0);
  });
});

describe('heartbeats', { timeout: 30_000 }, () => {
  it('a half-open connection (frozen, never closed) is detected and the client reconnects', async () => {
    // The hub's own pings are slow here: were it first to drop the frozen connection, the proxy would
    // close the client's side too and the client would see a close instead of a ping timeout.
    const hub = await MessageHub.listen({ auth: { secret }, logger: recordingLogger(), heartbeatMs: 60_000 });
    open.push(hub);
    const proxy = await startProxy(hub.port);
    open.push(proxy);
    const logger = recordingLogger();
    const c = await MessageClient.connect({
      url: `ws://127.0.0.1:${proxy.port}`,
      auth: { secret },
      heartbeatMs: 100,
      ...fast,
      logger,
    });
    open.push(c);
    const got: number[] = [];
    await c.subscribe(load, (m) => void got.push(m.i));
    proxy.freeze();
    await until(() => logger.records.some((r) => r.msg.includes('stopped answering pings')), 10_000, 'the ping timeout');
    await until(() => c.connected, 10_000, 'the reconnection');
    await c.publish(load, { i: 1, body: '' });
    expect(got).toEqual([1]);
  });

  it('the hub drops a peer whose connection froze (it stopped answering pings)', async () => {
    const hubLog = recordingLogger();
    const hub = await MessageHub.listen({ auth: { secret }, logger: hubLog, heartbeatMs: 100 });
    open.push(hub);
    const proxy = await startProxy(hub.port);
    open.push(proxy);
    const c = await MessageClient.connect({
      url: `ws://127.0.0.1:${proxy.port}`,
      auth: { secret },
      heartbeatMs: 60_000,
      ...fast,
      logger: recordingLogger(),
    });
    open.push(c);
    expect(hub.stats.connections).toBe(1);
    proxy.freeze();
    await until(() => hubLog.records.some((r) => r.msg.includes('stopped answering pings')), 10_000, 'the hub ping timeout');
  });
});

describe('a publisher with a durable outbox is SIGKILLed and restarted', { timeout: 90_000 }, () => {
  it('the restarted publisher resends what was not acknowledged; the subscriber processes each message once', async () => {
    // The hub stops reading a peer with 300 unacknowledged publishes, so most of the stream is
    // still only in the publisher (and its outbox) when it is killed.
    const hub = await MessageHub.listen({ auth: { secret }, logger: recordingLogger(), maxUnackedPerPeer: 300 });
    open.push(hub);
    const outbox = path.join(dir, 'publisher.outbox');
    // Several batches' worth (a batch message carries up to 256 KiB of frames), so most stay unread.
    const N = 6000;
    const body = (i: number) => `m${i}`.repeat(20);
    const tally = new Tally();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let seen = 0;
    const sub = await MessageClient.connect({ url: hub.url, auth: { secret }, ...fast });
    open.push(sub);
    await sub.subscribe(load, async (m) => {
      seen += 1;
      if (seen > 200) await gate; // a subscriber that stalls: nothing more gets acknowledged
      tally.add(m);
    });
    const first = await spawnUntil(PUBLISHER, [hub.url, outbox, String(N)], /^queued$/);
    await until(() => seen >= 300, 60_000, 'the subscriber to stall');
    expect(hub.stats.inflight).toBeLessThan(N / 2); // the rest never reached the hub
    await killHard(first.child);
    release();
    expect(seen).toBeLessThan(N);
    const second = await spawnUntil(PUBLISHER, [hub.url, outbox, '0'], /^drained$/);
    await new Promise((r) => second.child.once('exit', r));
    await until(() => tally.counts.size >= N, 30_000, 'all messages');
    tally.assertExactlyOnce(N, body);
  });
});
