// Benchmark of @exaworks/messaging: `npm run bench -- messaging` (or `npx tsx bench/messaging.ts`).
// Pub/sub messages/s and RPC round trips/s with p50/p99 latency, through a MessageHub with shared-secret
// authentication on, each against raw `ws` doing the same topology in the same run (a relay server for
// pub/sub, an echo server for RPC), everything on 127.0.0.1 in this process. The last line is one JSON object.
// The raw baseline does what a user of bare `ws` would: one JSON message per `send` over the same two
// sockets (publisher → relay → subscriber), the same payload, the subscriber parses every message, the
// same 1000-message window. Throughput runs in BENCH_PUBSUB_ROUNDS (default 7) rounds alternating which
// variant goes first; each round gives a ratio of two adjacent runs and the figure is the median ratio.
// Sizes: BENCH_MESSAGES (default 70000, per variant, split over the rounds) for throughput,
// BENCH_ROUNDS (default 5000) for latency.
import type { AddressInfo } from 'node:net';
import { defineRpc, defineTopic, MessageClient, MessageHub } from '@exaworks/messaging';
import WebSocket, { WebSocketServer } from 'ws';
import { z } from 'zod';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 70_000);
const PUBSUB_ROUNDS = Number(process.env.BENCH_PUBSUB_ROUNDS ?? 7);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5_000);
const secret = 'bench-secret-0123456789abcdef';
const payload = { i: 0, t: 0, body: 'x'.repeat(64) };
const topic = defineTopic('bench', z.object({ i: z.number(), t: z.number(), body: z.string() }));
const echo = defineRpc('echo', { request: z.object({ i: z.number(), body: z.string() }), reply: z.object({ i: z.number() }) });

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function stats(samples: number[]): { p50: number; p99: number } {
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Raw ws: a relay server forwarding every frame from publishers to subscribers, and an echo server. */
async function rawServers(): Promise<{ relayUrl: string; echoUrl: string; close(): Promise<void> }> {
  const relay = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  const subs = new Set<WebSocket>();
  relay.on('connection', (ws, req) => {
    if (req.url === '/sub') subs.add(ws);
    else
      ws.on('message', (d) => {
        for (const s of subs) s.send(d, { binary: false });
      });
  });
  const echoServer = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  echoServer.on('connection', (ws) => ws.on('message', (d) => ws.send(d, { binary: false })));
  await Promise.all([relay, echoServer].map((s) => new Promise((r) => s.once('listening', r))));
  return {
    relayUrl: `ws://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    echoUrl: `ws://127.0.0.1:${(echoServer.address() as AddressInfo).port}`,
    close: async () => {
      for (const s of [relay, echoServer]) {
        for (const c of s.clients) c.terminate();
        await new Promise((r) => s.close(r));
      }
    },
  };
}

/** Raw pub/sub throughput: msgs/s until the subscriber has every message (a window of 1000 in flight, like the client). */
async function rawPubSub(relayUrl: string, n: number): Promise<number> {
  const sub = await open(`${relayUrl}/sub`);
  const pub = await open(`${relayUrl}/pub`);
  let got = 0;
  let sent = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < n && sent - got < 1000) pub.send(JSON.stringify({ ...payload, i: sent++ }));
    };
    sub.on('message', (d) => {
      JSON.parse(d.toString());
      got += 1;
      if (got === n) resolve();
      else if (sent - got < 500) pump();
    });
    pump();
  });
  const rate = n / ((performance.now() - t0) / 1000);
  pub.close();
  sub.close();
  return rate;
}

/** Raw one-way latency: one message at a time, timestamped at send, measured at the subscriber. */
async function rawLatency(relayUrl: string, rounds: number): Promise<number[]> {
  const sub = await open(`${relayUrl}/sub`);
  const pub = await open(`${relayUrl}/pub`);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => {
      sub.once('message', (d) => {
        samples.push(performance.now() - (JSON.parse(d.toString()) as { t: number }).t);
        resolve();
      });
      pub.send(JSON.stringify({ ...payload, i, t: performance.now() }));
    });
  }
  pub.close();
  sub.close();
  return samples;
}

/** Raw request/reply: sequential send/echo round trips. */
async function rawRpc(echoUrl: string, rounds: number): Promise<{ rate: number; samples: number[] }> {
  const ws = await open(echoUrl);
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      ws.once('message', (d) => {
        JSON.parse(d.toString());
        resolve();
      });
      ws.send(JSON.stringify({ c: i, d: { i, body: payload.body } }));
    });
    samples.push(performance.now() - t);
  }
  const rate = rounds / ((performance.now() - t0) / 1000);
  ws.close();
  return { rate, samples };
}

// Default bounds; the per-connection rate limit (a policy, 50000 frames/s by default) is lifted so it
// cannot cap the figure on a fast machine.
const hub = await MessageHub.listen({ auth: { secret }, topics: [topic, echo], rateLimit: 1e9 });
hub.serve(echo, ({ i }) => ({ i }));
const connect = () => MessageClient.connect({ url: hub.url, auth: { secret }, maxInFlight: 1000 });
const raw = await rawServers();

try {
  // Warm-up of both paths (JIT, buffers).
  await rawPubSub(raw.relayUrl, 5000);
  const sub = await connect();
  const pub = await connect();
  const caller = await connect();
  let got = 0;
  let latencies: number[] = [];
  await sub.subscribe(topic, (m) => {
    got += 1;
    latencies.push(performance.now() - m.t);
  });
  const ourPubSub = async (n: number): Promise<number> => {
    got = 0;
    const t0 = performance.now();
    const all: Promise<void>[] = [];
    for (let i = 0; i < n; i++) all.push(pub.publish(topic, { ...payload, i }));
    await Promise.all(all);
    const rate = n / ((performance.now() - t0) / 1000);
    if (got !== n) throw new Error(`the subscriber got ${got} of ${n} messages`);
    return rate;
  };
  await ourPubSub(5000);

  // Interleave the variants (alternating which goes first) so load from elsewhere on the machine hits
  // both alike; each round's ratio compares two runs next to each other in time.
  const rawRates: number[] = [];
  const hubRates: number[] = [];
  const ratios: number[] = [];
  const perRound = Math.round(MESSAGES / PUBSUB_ROUNDS);
  // CPU time per message of each variant (this process runs both ends, so it is all of the work):
  // unlike msgs/s it hardly depends on how busy the machine is.
  const cpu = { raw: 0, hub: 0 };
  const timed = async (which: 'raw' | 'hub', run: () => Promise<number>): Promise<number> => {
    const c0 = process.cpuUsage();
    const rate = await run();
    const c = process.cpuUsage(c0);
    cpu[which] += c.user + c.system;
    return rate;
  };
  for (let k = 0; k < PUBSUB_ROUNDS; k++) {
    let r: number;
    let h: number;
    if (k % 2 === 0) {
      r = await timed('raw', () => rawPubSub(raw.relayUrl, perRound));
      h = await timed('hub', () => ourPubSub(perRound));
    } else {
      h = await timed('hub', () => ourPubSub(perRound));
      r = await timed('raw', () => rawPubSub(raw.relayUrl, perRound));
    }
    rawRates.push(r);
    hubRates.push(h);
    ratios.push(h / r);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rawRate = median(rawRates);
  const hubRate = median(hubRates);
  const ratio = median(ratios);
  const cpuPerMsg = { raw: cpu.raw / (perRound * PUBSUB_ROUNDS), hub: cpu.hub / (perRound * PUBSUB_ROUNDS) };
  console.log(`pub/sub rounds (ours/raw): ${ratios.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    `pub/sub  CPU per message: raw ${cpuPerMsg.raw.toFixed(1)} µs, ours ${cpuPerMsg.hub.toFixed(1)} µs (raw/ours ${(cpuPerMsg.raw / cpuPerMsg.hub).toFixed(2)})`,
  );

  const rawLat = stats(await rawLatency(raw.relayUrl, ROUNDS));
  latencies = [];
  for (let i = 0; i < ROUNDS; i++) await pub.publish(topic, { ...payload, i, t: performance.now() });
  const hubLat = stats(latencies);

  // RPC in five blocks, alternating raw and ours like the pub/sub rounds.
  const rawRpcSamples: number[] = [];
  const rpcSamples: number[] = [];
  let rawRpcMs = 0;
  let rpcMs = 0;
  const block = Math.ceil(ROUNDS / 5);
  const ourRpc = async (): Promise<void> => {
    const r0 = performance.now();
    for (let i = 0; i < block; i++) {
      const t = performance.now();
      await caller.call(echo, { i, body: payload.body });
      rpcSamples.push(performance.now() - t);
    }
    rpcMs += performance.now() - r0;
  };
  const theirRpc = async (): Promise<void> => {
    const r = await rawRpc(raw.echoUrl, block);
    rawRpcSamples.push(...r.samples);
    rawRpcMs += (block / r.rate) * 1000; // without rawRpc's connect
  };
  for (let k = 0; k < 5; k++) {
    if (k % 2 === 0) await theirRpc().then(ourRpc);
    else await ourRpc().then(theirRpc);
  }
  const rawR = { rate: rawRpcSamples.length / (rawRpcMs / 1000) };
  const rawRpcLat = stats(rawRpcSamples);
  const rpcRate = rpcSamples.length / (rpcMs / 1000);
  const rpcLat = stats(rpcSamples);

  console.log(
    `pub/sub  raw ws relay   ${rawRate.toFixed(0).padStart(8)} msgs/s   one-way p50 ${rawLat.p50.toFixed(3)} ms  p99 ${rawLat.p99.toFixed(3)} ms`,
  );
  console.log(
    `pub/sub  MessageHub     ${hubRate.toFixed(0).padStart(8)} msgs/s   one-way p50 ${hubLat.p50.toFixed(3)} ms  p99 ${hubLat.p99.toFixed(3)} ms   ratioToRaw ${ratio.toFixed(2)} (median of ${PUBSUB_ROUNDS} rounds; acked, deduplicated, validated)`,
  );
  console.log(
    `rpc      raw ws echo    ${rawR.rate.toFixed(0).padStart(8)} calls/s  p50 ${rawRpcLat.p50.toFixed(3)} ms  p99 ${rawRpcLat.p99.toFixed(3)} ms`,
  );
  console.log(
    `rpc      MessageClient  ${rpcRate.toFixed(0).padStart(8)} calls/s  p50 ${rpcLat.p50.toFixed(3)} ms  p99 ${rpcLat.p99.toFixed(3)} ms   ratioToRaw ${(rpcRate / rawR.rate).toFixed(2)}`,
  );
  await Promise.all([sub.close(), pub.close(), caller.close()]);
  console.log(
    JSON.stringify({
      bench: 'messaging',
      auth: 'hmac',
      messages: MESSAGES,
      rounds: ROUNDS,
      pubsubRounds: PUBSUB_ROUNDS,
      pubsubMsgsPerSec: Math.round(hubRate),
      rawPubsubMsgsPerSec: Math.round(rawRate),
      pubsubRatioToRaw: round(ratio),
      pubsubRatios: ratios.map((x) => round(x, 2)),
      pubsubCpuUsPerMsg: round(cpuPerMsg.hub, 1),
      rawPubsubCpuUsPerMsg: round(cpuPerMsg.raw, 1),
      pubsubCpuRatioToRaw: round(cpuPerMsg.raw / cpuPerMsg.hub),
      pubsubP50Ms: round(hubLat.p50),
      pubsubP99Ms: round(hubLat.p99),
      rawPubsubP50Ms: round(rawLat.p50),
      rawPubsubP99Ms: round(rawLat.p99),
      rpcPerSec: Math.round(rpcRate),
      rawRpcPerSec: Math.round(rawR.rate),
      rpcRatioToRaw: round(rpcRate / rawR.rate),
      rpcP50Ms: round(rpcLat.p50),
      rpcP99Ms: round(rpcLat.p99),
      rawRpcP50Ms: round(rawRpcLat.p50),
      rawRpcP99Ms: round(rawRpcLat.p99),
    }),
  );
} finally {
  await raw.close();
  await hub.close();
}
