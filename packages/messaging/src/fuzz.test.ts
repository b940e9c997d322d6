/**
 * fast-check fuzzing of frames against a real hub on 127.0.0.1: 100k bad frames from peers that
 * are authenticated or not. The hub never crashes, closes each offender, keeps serving a good
 * client, and its memory does not grow.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { clientProof } from './auth.js';
import { MessageClient } from './client.js';
import { MessageHub } from './hub.js';
import { recordingLogger, until } from './test-support/helpers.js';
import { defineRpc, defineTopic } from './topics.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const secret = 'fuzz-secret-0123456789abcdef';
const events = defineTopic('events', z.object({ n: z.number() }));
const echo = defineRpc('echo', { request: z.object({ x: z.string() }), reply: z.string() });
const MAX_FRAME = 8192;

const name = fc.oneof(fc.constantFrom('events', 'echo', 'nope', ''), fc.string({ maxLength: 30 }));
const junk = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j) as unknown),
);
const seq = fc.oneof(fc.nat(), fc.integer(), fc.double());

/** Frames that are wrong but well-formed: the hub answers or ignores them and keeps the connection. */
const small = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 16 }),
  fc.constant(null),
  fc.record({ n: fc.oneof(fc.integer(), fc.string({ maxLength: 4 })) }),
);
const key = fc.string({ minLength: 1, maxLength: 12 });
const soft = fc
  .oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('ack'),
        // One [origin, seq, seq, …] entry per sender.
        a: fc.array(
          fc
            .tuple(key, fc.array(fc.integer({ min: 1, max: 1e9 }), { minLength: 1, maxLength: 4 }))
            .map(([k, seqs]) => [k, ...seqs]),
          { minLength: 1, maxLength: 3 },
        ),
      }),
    },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('rep'), o: key, c: fc.nat(), d: small }) },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('pub'),
        s: fc.integer({ min: 1, max: 1e9 }),
        tp: fc.constantFrom('events', 'nope', 'x.y'),
        d: small,
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('call'), c: fc.nat(), tp: fc.constantFrom('echo', 'nope'), d: small }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constantFrom('sub', 'unsub', 'serve'),
        r: fc.nat(),
        tp: fc.constantFrom('events', 'echo', 'nope'),
      }),
    },
  )
  .map((f) => JSON.stringify(f));

/** Frames that get the peer closed. */
const hard = fc.oneof(
  fc.string({ maxLength: 200 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  junk.map((j) => JSON.stringify(j) ?? 'undefined'),
  fc
    .record(
      { t: fc.constantFrom('hello', 'pub', 'ack', 'sub', 'call', 'rep', 'welcome', 'zap'), s: seq, tp: name, d: junk, a: junk },
      { requiredKeys: ['t'] },
    )
    .map((f) => JSON.stringify({ ...f, zz: 1 })), // an unknown field: never a valid frame
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constant('x'.repeat(MAX_FRAME + 1)),
);

const plan = fc.record({
  authenticate: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  soft: fc.array(soft, { minLength: 150, maxLength: 250 }),
  batch: fc.boolean(),
  hard,
});

let hub: MessageHub;
let frames = 0;
let peers = 0;

beforeAll(async () => {
  hub = await MessageHub.listen({
    auth: { secret },
    topics: [events, echo],
    maxFrameBytes: MAX_FRAME,
    sessionTtlMs: 0,
    handshakeTimeoutMs: 2_000,
    logger: recordingLogger(),
  });
});
afterAll(() => hub.close());

/** One hostile peer: optionally authenticates, sends its soft frames (if authenticated) and one hard frame. */
async function attack(p: { authenticate: boolean; soft: string[]; batch: boolean; hard: string | Buffer }): Promise<void> {
  const ws = new WebSocket(hub.url);
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  ws.on('error', () => {});
  const challenge = await new Promise<{ nonce: string }>((resolve) =>
    ws.once('message', (d) => resolve(JSON.parse(d.toString()))),
  );
  if (p.authenticate) {
    const nonce = Buffer.alloc(32, frames % 251).toString('base64url');
    const id = `fuzz-${++peers}`;
    ws.send(
      JSON.stringify({
        t: 'hello',
        v: 1,
        id,
        epoch: 'e',
        nonce,
        subs: [],
        serves: [],
        mac: clientProof(Buffer.from(secret), challenge.nonce, nonce, id),
      }),
    );
    await new Promise((r) => ws.once('message', r));
    // One WebSocket message per frame, or all of them as one batch (a JSON array), as clients do under load.
    if (p.batch) ws.send(`[${p.soft.join(',')}]`);
    else for (const f of p.soft) ws.send(f);
    frames += p.soft.length;
  }
  ws.send(p.hard);
  frames += 1;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the hub did not close a peer after ${String(p.hard).slice(0, 100)}`)), 10_000);
  });
  await Promise.race([closed, late]).finally(() => clearTimeout(timer));
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

// Took 40-90 s on a 2-core machine at load average 20-55 (about 13 s of CPU): room to spare.
describe('fuzzing frames', { timeout: 300_000 }, () => {
  it('100k bad frames: every offender is closed, the hub keeps serving, memory does not grow', async () => {
    // Warm up (JIT, ws buffers, zod caches) before the baseline.
    await fc.assert(fc.asyncProperty(plan, attack), { numRuns: 50 });
    await until(() => hub.stats.connections === 0 && hub.stats.sessions === 0, 20_000, 'the hub to drop every offender');
    const before = heapAfterGc();
    const rejectedBefore = hub.stats.rejected;
    const start = frames;
    let runs = 0;
    while (frames - start < 100_000) {
      // Four hostile peers at a time.
      await Promise.all([1, 2, 3, 4].map(() => fc.assert(fc.asyncProperty(plan, attack), { numRuns: 25 })));
      runs += 100;
    }
    await until(() => hub.stats.connections === 0 && hub.stats.sessions === 0, 20_000, 'the hub to drop every offender');
    expect(hub.stats.rejected - rejectedBefore).toBe(runs); // each hostile peer closed exactly once
    expect(hub.stats.inflight).toBe(0);
    expect(hub.stats.calls).toBe(0);
    const grown = heapAfterGc() - before;
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    // The hub still serves a good client.
    hub.serve(echo, ({ x }) => x);
    const c = await MessageClient.connect({ url: hub.url, auth: { secret }, logger: recordingLogger() });
    expect(await c.call(echo, { x: 'still here' })).toBe('still here');
    await c.close();
    console.log(`fuzz: ${frames - start} bad frames from ${runs} peers; heap grew ${(grown / 1024 / 1024).toFixed(1)} MiB`);
  });
});
