/**
 * Linux process identity from /proc: a pid alone can be reused, a pid plus its start time cannot.
 * @module
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import os from 'node:os';

const statBuffer = Buffer.allocUnsafe(4096);

/** What identifies a process across pid reuse. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
  readonly startTime: string;
}

/**
 * The start time of a live (non-zombie) process, or undefined if there is none with this pid.
 * A zombie counts as gone (its program has ended, only its exit status is left to collect)
 * unless `zombies` is set.
 */
export function processStartTime(pid: number, options: { zombies?: boolean } = {}): string | undefined {
  let stat: string;
  try {
    // open + one read into a reused buffer: cheaper than readFileSync (no fstat, no allocation),
    // and this runs once per started job. The stat line is far shorter than the buffer.
    const fd = openSync(`/proc/${pid}/stat`, 'r');
    try {
      stat = statBuffer.toString('latin1', 0, readSync(fd, statBuffer, 0, statBuffer.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (!options.zombies && (fields[0] === 'Z' || fields[0] === 'X')) return undefined;
  return fields[19];
}

/** True if the process with this identity is still running. */
export function isAlive(identity: ProcessIdentity): boolean {
  return processStartTime(identity.pid) === identity.startTime;
}

/** This process's identity. */
export function selfIdentity(): ProcessIdentity {
  const startTime = processStartTime(process.pid);
  if (startTime === undefined) throw new Error('cannot read /proc/self/stat: the local executor needs Linux /proc');
  return { pid: process.pid, startTime };
}

/** Sends a signal to a whole process group; false if the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while any process of the group is left (zombies included). */
export function groupExists(pgid: number): boolean {
  return signalGroup(pgid, 0);
}

/**
 * Finds a live process whose command line has one of `words` as an argument (the job's name in
 * `sh -c <script> <name>`), for the rare case where its pid was never recorded because the
 * executor died right after starting it.
 */
export function findProcessRunning(...words: string[]): ProcessIdentity | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (!words.some((w) => args.includes(w))) continue;
    const pid = Number(entry);
    const startTime = processStartTime(pid);
    if (startTime !== undefined) return { pid, startTime };
  }
  return undefined;
}

/** Sends a signal to one process; false if it no longer exists. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/** The name of signal number `n` (a shell's exit status 128 + n), if there is one. */
export function signalName(n: number): NodeJS.Signals | undefined {
  return SIGNAL_NAMES.get(n);
}

/**
 * `process.env` as of one moment, to tell whether it changed since: an agent has the environment
 * of its own start, so a changed one needs a new agent (jobs inherit the environment as of their start).
 */
export class EnvSnapshot {
  #keys: string[] = [];
  #values: (string | undefined)[] = [];

  /** Takes the snapshot now. */
  take(): void {
    this.#keys = Object.keys(process.env);
    this.#values = this.#keys.map((k) => process.env[k]);
  }

  /** True if `process.env` differs from the snapshot (a few dozen variables: cheap next to a fork). */
  changed(): boolean {
    const keys = Object.keys(process.env);
    if (keys.length !== this.#keys.length) return true;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== this.#keys[i] || process.env[keys[i]!] !== this.#values[i]) return true;
    }
    return false;
  }
}
