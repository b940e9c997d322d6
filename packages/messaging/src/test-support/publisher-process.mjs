// A publisher with a durable outbox, for the restart test: `node publisher-process.mjs <url> <outbox> <count>`.
// count > 0: publishes messages 0..count-1 on topic "load", prints "queued" once all are in the outbox, then
// "drained" when every one is acknowledged. count = 0: only resends what the outbox holds, then prints "drained".
import { defineTopic, MessageClient } from '../../dist/index.js';
import { z } from 'zod';

const [url, outbox, countText] = process.argv.slice(2);
const count = Number(countText);
const load = defineTopic('load', z.object({ i: z.number(), body: z.string() }), { requireSubscriber: true });
const client = await MessageClient.connect({
  url,
  auth: { secret: process.env.XW_HUB_SECRET },
  outbox,
  maxInFlight: count + 10,
  reconnect: { initialDelayMs: 20, maxDelayMs: 300 },
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});
const all = [];
for (let i = 0; i < count; i++) all.push(client.publish(load, { i, body: `m${i}`.repeat(20) }));
await new Promise((r) => setImmediate(r));
process.stdout.write('queued\n');
await Promise.all(all);
while (client.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
process.stdout.write('drained\n');
await client.close();
