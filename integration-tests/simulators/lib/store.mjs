// Scheduler simulator (test-only, never shipped): the shared job store.
// One JSON file per simulated cluster, in the directory named by EXAWORKS_SIM_STATE_DIR, changed only
// under a directory lock and replaced by an atomic rename, so concurrent qsub/qstat/runner processes
// never see a torn or lost update.
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const LOCK_TIMEOUT_MS = 30_000;
const STALE_LOCK_MS = 10_000;

/** The simulator's state directory; every command fails clearly without one. */
export function stateDir() {
  const dir = process.env.EXAWORKS_SIM_STATE_DIR;
  if (!dir) {
    process.stderr.write('scheduler simulator: EXAWORKS_SIM_STATE_DIR is not set (one directory per test run)\n');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Runs `fn(state)` with the cluster locked; what `fn` leaves in `state` is saved atomically. */
export function withState(fn) {
  const dir = stateDir();
  const lock = path.join(dir, 'lock');
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'owner'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      // A holder that died (SIGKILL) must not wedge the cluster: break its lock.
      let owner = 0;
      try {
        owner = Number(readFileSync(path.join(lock, 'owner'), 'utf8'));
      } catch {
        try {
          if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) owner = -1;
        } catch {}
      }
      if (owner === -1 || (owner > 0 && !alive(owner))) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`scheduler simulator: lock ${lock} held too long by pid ${owner}`);
      sleepSync(3);
    }
  }
  try {
    const file = path.join(dir, 'jobs.json');
    let state;
    try {
      state = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      state = { nextSeq: 1, jobs: {} };
    }
    const result = fn(state);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, file);
    return result;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Reads the cluster without locking (the file is only ever replaced whole). */
export function readState() {
  try {
    return JSON.parse(readFileSync(path.join(stateDir(), 'jobs.json'), 'utf8'));
  } catch {
    return { nextSeq: 1, jobs: {} };
  }
}

/** Appends one line per command invocation: tests count queries per poll from it. */
export function logInvocation(scheduler, command, args) {
  const line = `${JSON.stringify({ t: Date.now(), scheduler, command, args, pid: process.pid })}\n`;
  appendFileSync(path.join(stateDir(), 'invocations.log'), line);
}

/** When `<state>/fail-queries` exists, query commands fail with its text (a broken scheduler). */
export function injectedQueryFailure() {
  try {
    return readFileSync(path.join(stateDir(), 'fail-queries'), 'utf8') || 'simulated failure';
  } catch {
    return undefined;
  }
}
