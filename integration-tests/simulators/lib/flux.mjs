// Scheduler simulator (test-only): the Flux front — `flux batch`, `flux submit`, `flux run`, `flux jobs`, `flux cancel`.
// Formats follow flux-core 0.6x: ids printed in F58 with the `ƒ` prefix (plain `f` when
// FLUX_F58_FORCE_ASCII is set) and accepted as F58, decimal or hex; `# flux:` directives; -t with a
// unit (s/m/h/d) or bare minutes; `flux jobs --format` with {field[:spec]} fields, states
// DEPEND/PRIORITY/SCHED/RUN/CLEANUP/INACTIVE and results COMPLETED/FAILED/CANCELED/TIMEOUT.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cancel, inHistory, jobs, scriptDirectives, shellStatus, signalNumber, submit } from './core.mjs';
import { fail, parseOptions, print, resolvePath, runCommand } from './common.mjs';
import { injectedQueryFailure, readState } from './store.mjs';

const F58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const QUEUES = () => (process.env.EXAWORKS_SIM_QUEUES ?? '').split(',').filter(Boolean);

export function f58(n) {
  let v = BigInt(n);
  let s = '';
  do {
    s = F58[Number(v % 58n)] + s;
    v /= 58n;
  } while (v > 0n);
  return `${process.env.FLUX_F58_FORCE_ASCII ? 'f' : 'ƒ'}${s}`;
}

/** Any of Flux's id encodings to the decimal id, or undefined. */
export function parseId(text) {
  const t = String(text).trim();
  if (/^\d+$/.test(t)) return BigInt(t).toString();
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t).toString();
  const body = t.startsWith('ƒ') || t.startsWith('f') ? t.slice(1) : undefined;
  if (!body || ![...body].every((c) => F58.includes(c))) return undefined;
  return [...body].reduce((acc, c) => acc * 58n + BigInt(F58.indexOf(c)), 0n).toString();
}

const SUBMIT = {
  '-N': true,
  '--nodes': true,
  '-n': true,
  '--ntasks': true,
  '-c': true,
  '--cores-per-task': true,
  '-g': true,
  '--gpus-per-task': true,
  '-t': true,
  '--time-limit': true,
  '--job-name': true,
  '--output': true,
  '--error': true,
  '-q': true,
  '--queue': true,
  '-B': true,
  '--bank': true,
  '--cwd': true,
  '--env': true,
  '-S': true,
  '--setattr': true,
  '--urgency': true,
  '-x': false,
  '--exclusive': false,
  '--quiet': false,
  '-o': true,
  '--setopt': true,
};

export const nodeFileLines = (job) => job.procs;
export const jobEnvironment = (job) => ({
  ...job.env,
  FLUX_JOB_ID: job.id,
  FLUX_JOB_SIZE: String(job.procs),
  FLUX_JOB_NNODES: String(job.nodes),
});

/** Flux Standard Duration, or bare minutes. */
function timeLimit(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw fail(`ERROR: invalid Flux standard duration '${text}'`, 1);
  const mult = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? 'm'];
  return Number(m[1]) * mult;
}

function submitJob(args, batch) {
  const first = parseOptions(args, SUBMIT);
  if (!first.operands.length) throw fail(`ERROR: ${batch ? 'batch script' : 'command'} is required`, 1);
  let text = '';
  if (batch) {
    try {
      text = readFileSync(first.operands[0], 'utf8').replace(/^#\s*flux:/gm, '#flux:');
    } catch {
      throw fail(`ERROR: ${first.operands[0]}: No such file or directory`, 1);
    }
  }
  const opts = [...parseOptions(scriptDirectives(text, '#flux:'), SUBMIT).opts, ...first.opts];
  const job = { cwd: process.cwd(), env: { ...process.env }, extra: {}, procs: 1, nodes: 1 };
  let out;
  let err;
  for (const [k, v] of opts) {
    if (k === '-N' || k === '--nodes') job.nodes = Number(v);
    else if (k === '-n' || k === '--ntasks') job.procs = Number(v);
    else if (k === '-t' || k === '--time-limit') job.walltime = timeLimit(v);
    else if (k === '--job-name') job.name = v;
    else if (k === '--output') out = v;
    else if (k === '--error') err = v;
    else if (k === '-q' || k === '--queue') job.queue = v;
    else if (k === '-B' || k === '--bank') job.account = v;
    else if (k === '--cwd') job.cwd = v;
    else if (k === '--urgency' && v === '0') job.hold = true;
  }
  if (job.queue && !QUEUES().includes(job.queue)) throw fail(`ERROR: invalid queue '${job.queue}' specified`, 1);
  if (!batch && job.procs > 1) throw fail('ERROR: the simulator runs `flux submit` with one task only', 1);
  if (batch) job.script = first.operands[0];
  else job.command = first.operands;
  job.name ??= first.operands[0].split('/').pop();
  const expand = (p, rec) =>
    resolvePath(
      p
        .replaceAll('{{id}}', rec.id)
        .replaceAll('{{id.f58}}', rec.id)
        .replaceAll('{{id.dec}}', rec.extra.dec)
        .replaceAll('{{name}}', rec.name),
      job.cwd,
    );
  job.finalize = (rec) => {
    rec.id = f58(rec.extra.dec);
    rec.stdout = out ? expand(out, rec) : batch ? expand('flux-{{id}}.out', rec) : null;
    rec.stderr = err ? expand(err, rec) : rec.stdout;
  };
  const rec = submit('flux', { ...job, extra: job.extra }, (seq) => {
    job.extra.dec = ((BigInt(Date.now()) << 24n) | BigInt(seq)).toString();
    return '';
  });
  print(rec.id);
}

function result(j) {
  if (j.state !== 'finished') return '';
  if (j.timedOut) return 'TIMEOUT';
  if (j.canceled) return 'CANCELED';
  return shellStatus(j) === 0 ? 'COMPLETED' : 'FAILED';
}
const STATE = (j) => (j.state === 'queued' ? (j.hold ? 'PRIORITY' : 'SCHED') : j.state === 'running' ? 'RUN' : 'INACTIVE');
const ABBREV = { COMPLETED: 'CD', FAILED: 'F', CANCELED: 'CA', TIMEOUT: 'TO', SCHED: 'S', PRIORITY: 'P', RUN: 'R', DEPEND: 'D' };
const FIELDS = {
  id: (j) => j.id,
  'id.f58': (j) => j.id,
  'id.dec': (j) => j.extra.dec,
  'id.hex': (j) => `0x${BigInt(j.extra.dec).toString(16)}`,
  state: STATE,
  state_single: (j) => STATE(j)[0],
  result,
  result_abbrev: (j) => ABBREV[result(j)] ?? '',
  status: (j) => result(j) || STATE(j),
  status_abbrev: (j) => ABBREV[result(j) || STATE(j)] ?? '',
  returncode: (j) => (j.state === 'finished' && j.startTime ? String(shellStatus(j)) : ''),
  success: (j) => (j.state === 'finished' ? (result(j) === 'COMPLETED' ? 'True' : 'False') : ''),
  'exception.occurred': (j) => (j.canceled || j.timedOut ? 'True' : j.state === 'finished' ? 'False' : ''),
  'exception.type': (j) => (j.timedOut ? 'timeout' : j.canceled ? 'cancel' : ''),
  'exception.note': (j) => (j.timedOut ? 'resource allocation expired' : ''),
  name: (j) => j.name,
  username: (j) => j.owner,
  queue: (j) => j.queue ?? '',
  ntasks: (j) => String(j.procs),
  nnodes: (j) => (j.startTime ? String(j.nodes) : ''),
  t_submit: (j) => (j.submitTime / 1000).toFixed(6),
  t_run: (j) => (j.startTime ? (j.startTime / 1000).toFixed(6) : '0.0'),
  t_inactive: (j) => (j.endTime ? (j.endTime / 1000).toFixed(6) : '0.0'),
};
const HEADERS = {
  id: 'JOBID',
  'id.f58': 'JOBID',
  'id.dec': 'JOBID',
  'id.hex': 'JOBID',
  state_single: 'ST',
  status_abbrev: 'ST',
  result_abbrev: 'RS',
  returncode: 'RC',
  username: 'USER',
  'exception.type': 'EXCEPTION-TYPE',
  'exception.note': 'EXCEPTION-NOTE',
  'exception.occurred': 'EXCEPTION-OCCURRED',
};

/** Renders a Python-style `{field:spec}` format the way `flux jobs --format` does (alignment, width, precision). */
export function render(format, job, header = false) {
  return format.replace(/\{([a-z0-9_.]+)(?:!\w)?(?::([<>^]?)(\d*)(?:\.(\d+))?h?)?\}/g, (_m, name, align, width, precision) => {
    const fn = FIELDS[name];
    if (!fn) throw fail(`ERROR: Unknown format field: ${name}`, 1);
    let v = header ? (HEADERS[name] ?? name.toUpperCase()) : fn(job);
    if (precision) v = v.slice(0, Number(precision));
    const w = Number(width || 0);
    if (v.length >= w) return v;
    if (align === '>') return v.padStart(w);
    if (align === '^') return v.padStart(Math.floor((w + v.length) / 2)).padEnd(w);
    return v.padEnd(w);
  });
}

function fluxJobs(args) {
  const failure = injectedQueryFailure();
  if (failure) throw fail(`ERROR: ${failure}`, 1);
  const { opts, operands } = parseOptions(
    args,
    {
      '-a': false,
      '-A': false,
      '-u': true,
      '-n': false,
      '--no-header': false,
      '-o': true,
      '--format': true,
      '-f': true,
      '--filter': true,
      '-c': true,
      '--count': true,
    },
    { stopAtOperand: false },
  );
  const has = (...k) => opts.some(([n]) => k.includes(n));
  const format =
    opts.find(([n]) => n === '-o' || n === '--format')?.[1] ??
    '{id.f58:>12} {username:<8.8} {name:<10.10} {status_abbrev:>2.2} {ntasks:>6} {nnodes:>6}';
  const filter = opts
    .find(([n]) => n === '-f' || n === '--filter')?.[1]
    ?.toUpperCase()
    .split(',');
  const all = jobs('flux').filter(inHistory);
  let code = 0;
  let shown;
  if (operands.length) {
    shown = [];
    for (const id of operands) {
      const dec = parseId(id);
      const j = dec && all.find((x) => x.extra.dec === dec);
      if (j) shown.push(j);
      else {
        process.stderr.write(`flux-jobs: ERROR: JOBID ${id} not found\n`);
        code = 1;
      }
    }
  } else {
    shown = all.filter((j) => {
      if (filter)
        return filter.some((f) =>
          [
            STATE(j),
            result(j),
            f === 'PENDING' && j.state === 'queued' ? f : '',
            f === 'RUNNING' && j.state === 'running' ? f : '',
            f === 'ACTIVE' && j.state !== 'finished' ? f : '',
          ].includes(f),
        );
      return has('-a') || j.state !== 'finished';
    });
  }
  if (!has('-n', '--no-header')) print(render(format, undefined, true).trimEnd());
  for (const j of shown) print(render(format, j).trimEnd());
  return code;
}

function fluxCancel(args) {
  const { operands } = parseOptions(
    args,
    { '-m': true, '--message': true, '-q': false, '--quiet': false },
    { stopAtOperand: false },
  );
  const state = readState();
  let code = 0;
  for (const id of operands) {
    const dec = parseId(id);
    const j = dec && Object.values(state.jobs).find((x) => x.extra.dec === dec);
    const res = j ? cancel(String(j.seq)) : 'unknown';
    if (res === 'unknown') {
      process.stderr.write(`flux-cancel: ERROR: ${id}: unknown job id\n`);
      code = 1;
    } else if (res === 'finished') {
      process.stderr.write(`flux-cancel: ERROR: ${id}: job is inactive\n`);
      code = 1;
    }
  }
  return code;
}

/**
 * `flux run`: starts the command as N real tasks (the job's processes, in the enclosing batch job),
 * each with Flux's task variables and the simple-PMI rank variables a PMI client reads
 * (`PMI_RANK`, `PMI_SIZE`); output goes where flux run's goes; the exit status is the highest of
 * the tasks' (128 + N for a task killed by signal N). TERM/INT/HUP are passed on to every task.
 */
function fluxRun(args) {
  const { opts, operands } = parseOptions(args, {
    ...SUBMIT,
    '--label-io': false,
    '-u': false,
    '--unbuffered': false,
  });
  if (!operands.length) throw fail('ERROR: command is required', 1);
  let size = 1;
  let nodes = 1;
  for (const [k, v] of opts) {
    if (k === '-n' || k === '--ntasks') size = Number(v);
    else if (k === '-N' || k === '--nodes') nodes = Number(v);
  }
  if (!Number.isInteger(size) || size < 1) throw fail(`ERROR: invalid value for -n: ${size}`, 1);
  const id = f58(BigInt(Date.now()) << 24n);
  const tasks = [];
  for (let rank = 0; rank < size; rank++) {
    const env = {
      ...process.env,
      FLUX_JOB_ID: id,
      FLUX_JOB_SIZE: String(size),
      FLUX_JOB_NNODES: String(nodes),
      FLUX_TASK_RANK: String(rank),
      FLUX_TASK_LOCAL_ID: String(rank),
      PMI_RANK: String(rank),
      PMI_SIZE: String(size),
    };
    tasks.push(spawn(operands[0], operands.slice(1), { env, stdio: 'inherit' }));
  }
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'])
    process.on(sig, () => {
      for (const t of tasks) t.kill(sig);
    });
  return Promise.all(
    tasks.map(
      (t) =>
        new Promise((resolve) => {
          t.on('error', () => resolve(127));
          t.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 9)));
        }),
    ),
  ).then((codes) => Math.max(...codes));
}

export const main = (args) =>
  runCommand('flux', args[0] ?? '', args.slice(1), {
    batch: (a) => submitJob(a, true),
    submit: (a) => submitJob(a, false),
    run: fluxRun,
    jobs: fluxJobs,
    cancel: fluxCancel,
  });
