// Scheduler simulator (test-only): small helpers the fronts share.
import path from 'node:path';
import { logInvocation } from './store.mjs';

/** Runs a front's command with the invocation logged and errors printed like a CLI tool's. */
export async function runCommand(scheduler, command, args, handlers) {
  logInvocation(scheduler, command, args);
  const handler = handlers[command];
  if (!handler) {
    process.stderr.write(`${command}: not provided by the ${scheduler} scheduler simulator\n`);
    process.exit(2);
  }
  try {
    const code = (await handler(args)) ?? 0;
    process.exitCode = code;
  } catch (e) {
    process.stderr.write(`${command}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e?.exitCode ?? 1;
  }
}

/** An error that becomes the command's stderr line and exit code. */
export function fail(message, exitCode = 1) {
  const e = new Error(message);
  e.exitCode = exitCode;
  return e;
}

/**
 * Parses `-x value` / `-flag` / `--long=value` / `--long value` options. `spec` maps an option name
 * to true (takes a value) or false (a flag). Stops at the first operand (or `--`).
 */
export function parseOptions(words, spec, { stopAtOperand = true } = {}) {
  const opts = [];
  const operands = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--') {
      operands.push(...words.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w === '-') {
      if (stopAtOperand) {
        operands.push(...words.slice(i));
        break;
      }
      operands.push(w);
      continue;
    }
    let name = w;
    let value;
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    if (eq > 0) {
      name = w.slice(0, eq);
      value = w.slice(eq + 1);
    }
    if (!(name in spec)) {
      // `-lwalltime=…` style: a short option glued to its value.
      const short = w.slice(0, 2);
      if (!w.startsWith('--') && spec[short] === true) {
        opts.push([short, w.slice(2).replace(/^=/, '')]);
        continue;
      }
      throw fail(`invalid option -- '${w}'`, 2);
    }
    if (spec[name]) {
      if (value === undefined) {
        value = words[++i];
        if (value === undefined) throw fail(`option requires an argument -- '${name}'`, 2);
      }
      opts.push([name, value.replace(/^=/, '')]);
    } else opts.push([name, true]);
  }
  return { opts, operands };
}

/** Resolves a user-given output path against the submit directory. */
export function resolvePath(p, base) {
  return path.resolve(base, p);
}

/** ctime-style time as PBS prints it: `Tue Dec  1 20:57:18 2026`. */
export function ctime(ms) {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const pad = (n) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${d.getFullYear()}`;
}

export function hms(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

export function print(text) {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
