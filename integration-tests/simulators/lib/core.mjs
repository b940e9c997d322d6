// Scheduler simulator (test-only, never shipped): submission, a FIFO scheduling loop over a fixed
// number of slots, cancel, and the detached runner that really executes each job. The per-scheduler
// fronts (pbs.mjs, lsf.mjs, cobalt.mjs, flux.mjs) only parse their command lines and print formats.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, stateDir, withState } from './store.mjs';

const RUNNER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runner.mjs');

/** Total slots (cores) of the simulated cluster: `EXAWORKS_SIM_SLOTS`, default 4. */
export function totalSlots() {
  const n = Number(process.env.EXAWORKS_SIM_SLOTS ?? 4);
  return Number.isInteger(n) && n > 0 ? n : 4;
}

/** Real seconds in one simulated minute, for schedulers whose walltime is in minutes (LSF, Cobalt). */
export function minuteSeconds() {
  const n = Number(process.env.EXAWORKS_SIM_MINUTE_SECONDS ?? 60);
  return n > 0 ? n : 60;
}

export function simHost() {
  return os.hostname();
}

export function currentUser() {
  return os.userInfo().username;
}

/** Splits a directive line the way a shell would (quotes, backslashes), without expansions. */
export function shellWords(line) {
  const words = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
      has = true;
    } else if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        cur += line[i++];
      }
      has = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else if (c === '#' && !has) {
      break;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) words.push(cur);
  return words;
}

/**
 * The directive words of a script: lines starting with `prefix` in the leading comment block (the
 * block ends at the first line that is neither blank nor a comment, as on the real schedulers).
 */
export function scriptDirectives(text, prefix) {
  const words = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) break;
    if (line.startsWith(prefix)) words.push(...shellWords(line.slice(prefix.length)));
  }
  return words;
}

/** `[[HH:]MM:]SS` to seconds (a bare number is seconds). */
export function clockSeconds(text) {
  const s = String(text).trim();
  if (!/^\d+(:\d+){0,2}$/.test(s)) throw new Error(`invalid time "${text}"`);
  return s
    .split(':')
    .map(Number)
    .reduce((acc, p) => acc * 60 + p, 0);
}

/**
 * Adds a job and runs a scheduling pass. `job` holds what the front parsed: name, queue, account,
 * script (path, spooled now like a real qsub) or command (argv), cwd, env, stdout, stderr,
 * walltime (s), procs, nodes.
 */
export function submit(scheduler, job, makeId) {
  return withState((state) => {
    const seq = state.nextSeq++;
    const id = makeId(seq);
    const record = {
      seq,
      id,
      scheduler,
      owner: currentUser(),
      name: job.name ?? 'job',
      queue: job.queue ?? null,
      account: job.account ?? null,
      script: null,
      command: job.command ?? null,
      cwd: job.cwd,
      submitDir: job.submitDir ?? process.cwd(),
      env: job.env,
      stdout: job.stdout ?? null,
      stderr: job.stderr ?? null,
      walltime: job.walltime ?? null,
      procs: job.procs ?? 1,
      nodes: job.nodes ?? 1,
      slots: Math.min(job.procs ?? 1, totalSlots()),
      hold: job.hold ?? false,
      extra: job.extra ?? {},
      state: 'queued',
      submitTime: Date.now(),
      startTime: null,
      endTime: null,
      exitCode: null,
      signal: null,
      canceled: false,
      timedOut: false,
      runnerPid: null,
      pid: null,
      ready: false,
    };
    if (job.script) {
      record.script = path.join(stateDir(), `${seq}.script`);
      copyFileSync(job.script, record.script);
      chmodSync(record.script, 0o700);
    }
    // Output paths that name the job id are only known now.
    job.finalize?.(record);
    state.jobs[seq] = record;
    schedule(state);
    return record;
  });
}

/** Starts queued jobs in FIFO order while their slots fit (the first that does not fit blocks the rest). */
export function schedule(state) {
  repair(state);
  // A cluster being shut down (simulator close()) starts nothing more: its kills free slots.
  if (existsSync(path.join(stateDir(), 'closed'))) return;
  const jobs = Object.values(state.jobs).sort((a, b) => a.seq - b.seq);
  let free = totalSlots() - jobs.filter((j) => j.state === 'running').reduce((n, j) => n + j.slots, 0);
  for (const job of jobs) {
    if (job.state !== 'queued' || job.hold) continue;
    if (job.slots > free) break;
    free -= job.slots;
    job.state = 'running';
    job.startTime = Date.now();
    const child = spawn(process.execPath, [RUNNER, String(job.seq)], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, EXAWORKS_SIM_STATE_DIR: stateDir() },
    });
    child.unref();
    job.runnerPid = child.pid ?? null;
  }
}

/** A runner killed from outside (SIGKILL) must not hold its slots forever: end its job as lost. */
function repair(state) {
  for (const job of Object.values(state.jobs)) {
    if (job.state === 'running' && job.runnerPid && !alive(job.runnerPid)) {
      if (job.pid) killGroup(job.pid, 'SIGKILL');
      job.state = 'finished';
      job.endTime = Date.now();
      job.signal = job.signal ?? 'SIGKILL';
    }
  }
}

/** Pids in session `sid` (a job's runner starts it with setsid, so its whole tree shares the session unless a process leaves it). */
function sessionPids(sid) {
  const pids = [];
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) === sid) pids.push(Number(e));
    } catch {}
  }
  return pids;
}

/**
 * Signals every process of a job, like a scheduler's cgroup would: its process group and every
 * process still in its session (MPI launchers put ranks in process groups of their own).
 */
export function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {}
  for (const p of sessionPids(pid)) {
    try {
      process.kill(p, signal);
    } catch {}
  }
}

/**
 * Cancels a job: a queued one ends at once without running; a running one is signalled through its
 * runner (SIGTERM to the job's process group, SIGKILL after a grace period).
 * Returns 'queued', 'running', 'finished' or 'unknown'.
 */
export function cancel(seq) {
  return withState((state) => {
    const job = state.jobs[seq];
    if (!job) return 'unknown';
    if (job.state === 'finished') return 'finished';
    job.canceled = true;
    if (job.state === 'queued') {
      job.state = 'finished';
      job.endTime = Date.now();
      schedule(state);
      return 'queued';
    }
    // A runner not yet ready reads `canceled` itself under the lock before it starts the job.
    if (job.ready && job.runnerPid) {
      try {
        process.kill(job.runnerPid, 'SIGUSR1');
      } catch {}
    }
    return 'running';
  });
}

/** Every job of one scheduler, after a repair pass (a query is also when dead runners are noticed). */
export function jobs(scheduler) {
  return withState((state) => {
    schedule(state);
    return Object.values(state.jobs)
      .filter((j) => j.scheduler === scheduler)
      .sort((a, b) => a.seq - b.seq);
  });
}

/** Finished jobs older than `EXAWORKS_SIM_HISTORY_SECONDS` are forgotten by the query commands. */
export function inHistory(job) {
  const keep = Number(process.env.EXAWORKS_SIM_HISTORY_SECONDS ?? Number.POSITIVE_INFINITY);
  return job.state !== 'finished' || Date.now() - job.endTime <= keep * 1000;
}

export function readScript(job) {
  return job.script ? readFileSync(job.script, 'utf8') : '';
}

/** Writes the lines of a one-host-per-slot (or per-node) file for the job's environment. */
export function nodeFileText(count) {
  return `${Array.from({ length: count }, () => simHost()).join('\n')}\n`;
}

/** The exit status of a finished job as a shell would report it (128 + signal number). */
export function shellStatus(job) {
  if (job.exitCode !== null && job.exitCode !== undefined) return job.exitCode;
  if (job.signal) return 128 + (os.constants.signals[job.signal] ?? 9);
  return job.canceled ? 143 : 0;
}

export function signalNumber(name) {
  return os.constants.signals[name] ?? 9;
}
