// Scheduler simulator (test-only): the per-job runner, started detached by a scheduling pass.
// It runs the job's script in its own process group with the scheduler's environment, enforces the
// walltime, obeys cancel (SIGUSR1 from the cancel command), and records how the job ended.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { killGroup, nodeFileText, readScript, schedule } from './core.mjs';
import { stateDir, withState } from './store.mjs';

const seq = process.argv[2];
const GRACE_MS = Number(process.env.EXAWORKS_SIM_KILL_GRACE_MS ?? 2000);
let child;
let stopping = false;

function stop(reason) {
  if (stopping || !child?.pid) return;
  stopping = true;
  if (reason === 'walltime') {
    withState((s) => {
      s.jobs[seq].timedOut = true;
    });
  }
  killGroup(child.pid, 'SIGTERM');
  setTimeout(() => killGroup(child.pid, 'SIGKILL'), GRACE_MS).unref();
}
process.on('SIGUSR1', () => stop('cancel'));

const front = await import(`./${withState((s) => s.jobs[seq].scheduler)}.mjs`);
const job = withState((state) => {
  const j = state.jobs[seq];
  if (j.canceled) {
    j.state = 'finished';
    j.endTime = Date.now();
    schedule(state);
    return undefined;
  }
  const nodeFile = path.join(stateDir(), `${seq}.nodes`);
  writeFileSync(nodeFile, nodeFileText(front.nodeFileLines(j)));
  const env = front.jobEnvironment(j, { nodeFile });
  const out = j.stdout ? openSync(j.stdout, 'a') : 'ignore';
  const err = j.stderr ? (j.stderr === j.stdout ? out : openSync(j.stderr, 'a')) : 'ignore';
  // A script without `#!` runs under sh, as the schedulers' default shell does.
  const argv = j.script ? (readScript(j).startsWith('#!') ? [j.script] : ['/bin/sh', j.script]) : j.command;
  child = spawn(argv[0], argv.slice(1), { cwd: j.cwd, env, detached: true, stdio: ['ignore', out, err] });
  for (const fd of new Set([out, err])) if (typeof fd === 'number') closeSync(fd);
  j.pid = child.pid ?? null;
  j.ready = true;
  return j;
});

if (job) {
  const ended = new Promise((resolve) => {
    child.on('error', (e) => resolve({ code: 127, signal: null, error: e.message }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let timer;
  if (job.walltime) timer = setTimeout(() => stop('walltime'), job.walltime * 1000);
  const { code, signal } = await ended;
  clearTimeout(timer);
  // Real schedulers reap the whole job: stragglers in its process group go too.
  if (child.pid) killGroup(child.pid, 'SIGKILL');
  withState((state) => {
    const j = state.jobs[seq];
    j.state = 'finished';
    j.endTime = Date.now();
    j.exitCode = code;
    j.signal = signal;
    front.finished?.(j);
    schedule(state);
  });
}
process.exit(0);
