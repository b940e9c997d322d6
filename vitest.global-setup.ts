import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Every test's temp files (and the real jobs' files) go under one directory per run, removed at
// the end, so a test run leaves nothing behind in the machine's /tmp.
export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'exaworks-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
