/** Authentication, TLS and hostile peers, on real sockets on 127.0.0.1. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BackendError, ErrorCode, ValidationError } from '@exaworks/jpsi-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { z } from 'zod';
import { clientProof, loadSecret } from './auth.js';
import { MessageClient } from './client.js';
import { HandshakeRefusedError, InsecureSecretError } from './errors.js';
import { MessageHub } from './hub.js';
import { CloseCode } from './protocol.js';
import { recordingLogger } from './test-support/helpers.js';
import { defineTopic } from './topics.js';

const secret = 'test-secret-0123456789abcdef';
const topic = defineTopic('t', z.number());
const open: { close(): Promise<void> }[] = [];
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'xw-msg-sec-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function startHub(extra: Partial<Parameters<typeof MessageHub.listen>[0]> = {}) {
  const logger = recordingLogger();
  const hub = await MessageHub.listen({ auth: { secret }, logger, handshakeTimeoutMs: 300, ...extra });
  open.push(hub);
  return { hub, logger };
}

/** A raw WebSocket to the hub; resolves with the challenge. */
async function raw(
  url: string,
): Promise<{ ws: WebSocket; challenge: { nonce: string }; closed: Promise<number>; frames: unknown[] }> {
  const ws = new WebSocket(url);
  const frames: unknown[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const challenge = await new Promise<{ nonce: string }>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(d.toString()) as { nonce: string }));
    ws.once('error', reject);
  });
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  return { ws, challenge, closed, frames };
}

async function goodClientWorks(hub: MessageHub, auth: { secret: string } | { token: string } = { secret }, extra = {}) {
  const c = await MessageClient.connect({ url: hub.url, auth, logger: recordingLogger(), ...extra });
  const got: number[] = [];
  await c.subscribe(topic, (n) => void got.push(n));
  await c.publish(topic, 1);
  await c.close();
  expect(got).toEqual([1]);
}

describe('shared-secret handshake', { timeout: 30_000 }, () => {
  it('a wrong secret is refused (bad-credentials), logged, and the hub keeps serving others', async () => {
    const { hub, logger } = await startHub();
    const err = await MessageClient.connect({
      url: hub.url,
      auth: { secret: 'another-secret-0123456789' },
      logger: recordingLogger(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeRefusedError);
    expect((err as HandshakeRefusedError).reason).toBe('bad-credentials');
    expect((err as HandshakeRefusedError).code).toBe(ErrorCode.HANDSHAKE_REFUSED);
    expect(logger.records.some((r) => r.level === 'warn' && r.fields?.code === CloseCode.UNAUTHENTICATED)).toBe(true);
    await goodClientWorks(hub);
  });

  it('a replayed handshake fails: the proof is bound to the hub nonce of its own connection', async () => {
    const { hub } = await startHub();
    const first = await raw(hub.url);
    const nonce = Buffer.alloc(32, 7).toString('base64url');
    const hello = {
      t: 'hello',
      v: 1,
      id: 'replayer',
      epoch: 'e1',
      nonce,
      subs: [],
      serves: [],
      mac: clientProof(Buffer.from(secret), first.challenge.nonce, nonce, 'replayer'),
    };
    first.ws.send(JSON.stringify(hello));
    await new Promise((r) => first.ws.once('message', r));
    expect(first.frames[0]).toMatchObject({ t: 'welcome' });
    first.ws.close();
    const second = await raw(hub.url);
    second.ws.send(JSON.stringify(hello)); // the recorded hello, verbatim
    expect(await second.closed).toBe(CloseCode.UNAUTHENTICATED);
    expect(second.frames[0]).toMatchObject({ t: 'refused', reason: 'bad-credentials' });
  });

  it('frames before the handshake, or no handshake at all, get the peer closed', async () => {
    const { hub, logger } = await startHub();
    const a = await raw(hub.url);
    a.ws.send(JSON.stringify({ t: 'pub', s: 1, tp: 't', d: 1 }));
    expect(await a.closed).toBe(CloseCode.UNAUTHENTICATED);
    const b = await raw(hub.url);
    expect(await b.closed).toBe(CloseCode.HANDSHAKE_TIMEOUT);
    expect(logger.records.filter((r) => r.level === 'warn').length).toBeGreaterThanOrEqual(2);
    await goodClientWorks(hub);
  });

  it('malformed JSON, unknown types, binary and oversized frames close the peer with their codes', async () => {
    const { hub } = await startHub({ maxFrameBytes: 4096 });
    const cases: [string | Buffer, number][] = [
      ['{not json', CloseCode.PROTOCOL],
      [JSON.stringify({ t: 'launch-missiles' }), CloseCode.PROTOCOL],
      [Buffer.from([1, 2, 3]), CloseCode.PROTOCOL],
      ['x'.repeat(10_000), CloseCode.TOO_BIG],
    ];
    for (const [frame, code] of cases) {
      const p = await raw(hub.url);
      p.ws.send(frame);
      expect(await p.closed).toBe(code);
    }
    expect(hub.stats.rejected).toBe(cases.length);
    await goodClientWorks(hub);
  });

  it('a fake hub that does not know the secret is detected by the client (hub-not-authentic)', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    open.push({ close: () => new Promise<void>((r) => wss.close(() => r())) });
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify({ t: 'challenge', v: 1, nonce: Buffer.alloc(32).toString('base64url'), method: 'hmac' }));
      ws.on('message', () => ws.send(JSON.stringify({ t: 'welcome', mac: 'f'.repeat(64), refused: [] })));
    });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const err = await MessageClient.connect({ url: `ws://127.0.0.1:${port}`, auth: { secret }, logger: recordingLogger() }).catch(
      (e: unknown) => e,
    );
    expect((err as HandshakeRefusedError).reason).toBe('hub-not-authentic');
  });
});

describe('secrets come from a private file or the environment', () => {
  it('refuses a group/world-readable file, a missing or short secret; accepts 0600 and env', () => {
    const f = path.join(dir, 'secret');
    writeFileSync(f, `${secret}\n`, { mode: 0o644 });
    chmodSync(f, 0o644);
    expect(() => loadSecret({ file: f })).toThrow(InsecureSecretError);
    expect(() => loadSecret({ file: f })).toThrow(/chmod 600/);
    chmodSync(f, 0o600);
    expect(loadSecret({ file: f }).toString()).toBe(secret);
    process.env.XW_TEST_SECRET = secret;
    expect(loadSecret({ env: 'XW_TEST_SECRET' }).toString()).toBe(secret);
    process.env.XW_TEST_SECRET = 'short';
    expect(() => loadSecret({ env: 'XW_TEST_SECRET' })).toThrow(/only 5 bytes/);
    expect(() => loadSecret({ env: 'XW_UNSET_SECRET_VAR' })).toThrow(/no secret/);
    expect(() => loadSecret({ file: path.join(dir, 'missing') })).toThrow(InsecureSecretError);
    expect(() => loadSecret({ env: 'not valid' })).toThrow(ValidationError);
  });
});

describe('TLS and bearer tokens', { timeout: 60_000 }, () => {
  let cert: string;
  let key: string;
  beforeAll(() => {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(certFile, 'utf8');
    key = readFileSync(keyFile, 'utf8');
  });

  it('wss:// with a generated certificate: trusted with its CA, refused without', async () => {
    const { hub } = await startHub({ tls: { cert, key } });
    expect(hub.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    await goodClientWorks(hub, { secret }, { tls: { ca: cert } });
    const err = await MessageClient.connect({
      url: hub.url,
      auth: { secret },
      logger: recordingLogger(),
      connectTimeoutMs: 1_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError); // the self-signed certificate is not trusted: never connects
  });

  it('a bearer token works over wss://, is refused over plain ws://, and a hub will not take tokens without TLS', async () => {
    const token = 'bearer-token-0123456789abcdef';
    const { hub } = await startHub({ auth: { token }, tls: { cert, key } });
    await goodClientWorks(hub, { token }, { tls: { ca: cert } });
    const wrong = await MessageClient.connect({
      url: hub.url,
      auth: { token: 'wrong-token-0123456789' },
      tls: { ca: cert },
      logger: recordingLogger(),
    }).catch((e: unknown) => e);
    expect((wrong as HandshakeRefusedError).reason).toBe('bad-credentials');
    const plain = await MessageClient.connect({ url: hub.url.replace('wss:', 'ws:'), auth: { token } }).catch((e: unknown) => e);
    expect((plain as HandshakeRefusedError).reason).toBe('tls-required');
    const noTls = await MessageHub.listen({ auth: { token } }).catch((e: unknown) => e);
    expect((noTls as ValidationError).issues[0]?.path).toBe('tls');
    // With the explicit opt-out on both sides, a plain-ws token hub works (e.g. behind a TLS-terminating proxy).
    const { hub: plainHub } = await startHub({ auth: { token, requireTls: false } });
    await goodClientWorks(plainHub, { token }, { allowTokenWithoutTls: true });
    // A secret client at a token hub (and vice versa) is told the method is wrong.
    const method = await MessageClient.connect({ url: plainHub.url, auth: { secret }, logger: recordingLogger() }).catch(
      (e: unknown) => e,
    );
    expect((method as HandshakeRefusedError).reason).toBe('wrong-method');
  });
});
