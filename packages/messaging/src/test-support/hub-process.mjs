// A real hub process for the crash tests: `node hub-process.mjs <port>`, secret in XW_HUB_SECRET.
// Prints the hub URL on stdout once it listens; runs until killed.
import { runHub } from '../../dist/index.js';

const port = Number(process.argv[2] ?? 0);
await runHub(
  { host: '127.0.0.1', port, secretEnv: 'XW_HUB_SECRET' },
  { onListening: (url) => process.stdout.write(`${url}\n`), logger: { debug() {}, info() {}, warn() {}, error() {} } },
);
