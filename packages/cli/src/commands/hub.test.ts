/**
 * `exaworks hub` end to end: the built binary as a real process, a client authenticating with the
 * secret, SIGTERM, a clean exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTopic, HandshakeRefusedError, MessageClient } from '@exaworks/messaging';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const secret = 'cli-hub-secret-0123456789abcdef';
const silent = { debug() {}, info() {}, warn() {}, error() {} };
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'xw-cli-hub-'));
});
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, 'hub', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  const listening = new Promise<string>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /"msg":"listening","url":"(wss?:\/\/[^"]+)"/.exec(stderr);
      if (m) resolve(m[1]!);
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, listening, exited, stderr: () => stderr };
}

describe('exaworks hub (built binary)', { timeout: 60_000 }, () => {
  it('serves a client that knows the secret from a 0600 file, refuses one that does not, and exits 0 on SIGTERM', async () => {
    const file = path.join(dir, 'secret');
    writeFileSync(file, `${secret}\n`);
    chmodSync(file, 0o600);
    const hub = start(['--port', '0', '--secret-file', file]);
    const url = await hub.listening;
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const topic = defineTopic('hello', z.string());
    const client = await MessageClient.connect({ url, auth: { secret }, logger: silent });
    const got: string[] = [];
    await client.subscribe(topic, (s) => void got.push(s));
    await client.publish(topic, 'through the CLI hub');
    expect(got).toEqual(['through the CLI hub']);
    const bad = await MessageClient.connect({ url, auth: { secret: 'not-the-secret-0123456789' }, logger: silent }).catch(
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(HandshakeRefusedError);
    await client.close();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toEqual({ code: 0, signal: null });
    expect(hub.stderr()).toMatch(/"msg":"stopped"/);
  });

  it('takes the secret from an environment variable', async () => {
    const hub = start(['--secret-env', 'XW_CLI_HUB_SECRET'], { XW_CLI_HUB_SECRET: secret });
    const client = await MessageClient.connect({ url: await hub.listening, auth: { secret }, logger: silent });
    await client.close();
    hub.child.kill('SIGTERM');
    expect((await hub.exited).code).toBe(0);
  });

  it('refuses a secret file others can read, and missing options, with exit code 1 / 2', async () => {
    const file = path.join(dir, 'open-secret');
    writeFileSync(file, secret);
    chmodSync(file, 0o644);
    const open = start(['--secret-file', file]);
    expect((await open.exited).code).toBe(1);
    expect(open.stderr()).toMatch(/chmod 600.*EXAWORKS_INSECURE_SECRET/s);
    const none = start([]);
    expect((await none.exited).code).toBe(2);
    expect(none.stderr()).toMatch(/secretFile: give exactly one of secretFile and secretEnv/);
  });
});
