/** Shared test helpers: a logger that records, polling, and a TCP proxy that can cut connections. */
import net from 'node:net';
import type { LogFields, Logger } from '@exaworks/jpsi-core';

/** A logger that keeps its records for assertions. */
export function recordingLogger(): Logger & { records: { level: string; msg: string; fields?: LogFields }[] } {
  const records: { level: string; msg: string; fields?: LogFields }[] = [];
  const rec = (level: string) => (msg: string, fields?: LogFields) =>
    void records.push({ level, msg, ...(fields ? { fields } : {}) });
  return { records, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

/** Polls `cond` every 10 ms until it is true, or throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TCP proxy on 127.0.0.1 in front of `port`; `cutAll()` destroys every proxied connection at once. */
export async function startProxy(
  targetPort: number,
): Promise<{ port: number; cutAll(): number; freeze(): void; close(): Promise<void> }> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [inbound, outbound];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cutAll() {
      const n = pairs.size;
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      return n;
    },
    /** Stops forwarding on every current connection without closing it: a half-open connection. */
    freeze() {
      for (const [a, b] of pairs) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
