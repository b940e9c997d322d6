// Scheduler simulator (test-only): the IBM Spectrum LSF front — bsub, bjobs, bkill.
// Formats follow LSF 10.1: "Job <id> is submitted to … queue <q>.", `bjobs -o "fields" [-noheader]
// [-json] [-a]`, "-" for an empty field (EXIT_CODE of a DONE job), TERM_RUNLIMIT / TERM_OWNER reasons,
// `-W [hh:]mm` walltime, output paths with %J, the submit environment and directory kept.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cancel, inHistory, jobs, minuteSeconds, scriptDirectives, shellStatus, simHost, submit } from './core.mjs';
import { ctime, fail, parseOptions, print, resolvePath, runCommand } from './common.mjs';
import { injectedQueryFailure, readState } from './store.mjs';

const QUEUES = () => (process.env.EXAWORKS_SIM_QUEUES ?? 'normal').split(',');
const BSUB = {
  '-J': true,
  '-o': true,
  '-oo': true,
  '-e': true,
  '-eo': true,
  '-W': true,
  '-n': true,
  '-R': true,
  '-nnodes': true,
  '-q': true,
  '-P': true,
  '-G': true,
  '-cwd': true,
  '-x': false,
  '-env': true,
  '-H': false,
  '-alloc_flags': true,
  '-B': false,
  '-N': false,
  '-u': true,
};

export const nodeFileLines = (job) => job.procs;
export const jobEnvironment = (job, { nodeFile }) => ({
  ...job.env,
  LSB_JOBID: String(job.seq),
  LSB_JOBNAME: job.name,
  LSB_QUEUE: job.queue,
  LSB_HOSTS: Array.from({ length: job.procs }, () => simHost()).join(' '),
  LSB_MCPU_HOSTS: `${simHost()} ${job.procs}`,
  LSB_DJOB_HOSTFILE: nodeFile,
  LSB_DJOB_NUMPROC: String(job.procs),
  LSB_SUBCWD: job.submitDir,
  LS_SUBCWD: job.submitDir,
});

/** `[hh:]mm` in (simulated) minutes. */
function runLimit(text) {
  if (!/^\d+(:\d+)?$/.test(text)) throw fail(`${text}: Bad RUNLIMIT specification. Job not submitted.`, 255);
  const [a, b] = text.split(':').map(Number);
  return (b === undefined ? a : a * 60 + b) * minuteSeconds();
}

async function bsub(args) {
  const first = parseOptions(args, BSUB);
  let text;
  let scriptPath;
  if (first.operands.length === 0) text = readFileSync(0, 'utf8');
  else {
    scriptPath = first.operands[0];
    try {
      text = readFileSync(scriptPath, 'utf8');
    } catch {
      text = undefined;
    }
  }
  const opts = text ? [...parseOptions(scriptDirectives(text, '#BSUB'), BSUB).opts, ...first.opts] : first.opts;
  const job = { queue: QUEUES()[0], cwd: process.cwd(), env: { ...process.env }, extra: {} };
  let out;
  let err;
  let explicitQueue = false;
  for (const [k, v] of opts) {
    if (k === '-J') job.name = v;
    else if (k === '-o' || k === '-oo') out = v;
    else if (k === '-e' || k === '-eo') err = v;
    else if (k === '-W') job.walltime = runLimit(v);
    else if (k === '-n') job.procs = Number(v);
    else if (k === '-nnodes') job.nodes = Number(v);
    else if (k === '-q') {
      job.queue = v;
      explicitQueue = true;
    } else if (k === '-P') job.extra.project = v;
    else if (k === '-cwd') job.cwd = v;
    else if (k === '-H') job.hold = true;
  }
  if (!QUEUES().includes(job.queue)) throw fail(`${job.queue}: No such queue. Job not submitted.`, 255);
  if (!Number.isInteger(job.procs ?? 1) || (job.procs ?? 1) < 1)
    throw fail('Bad argument for option -n. Job not submitted.', 255);
  if (scriptPath && text !== undefined) job.script = scriptPath;
  else if (scriptPath) job.command = first.operands;
  else {
    const tmp = path.join(process.env.EXAWORKS_SIM_STATE_DIR ?? '/tmp', `stdin-${process.pid}.sh`);
    writeFileSync(tmp, text);
    job.script = tmp;
  }
  job.name ??= scriptPath ? path.basename(scriptPath) : 'NONAME';
  const expand = (p, rec) => resolvePath(p.replaceAll('%J', String(rec.seq)).replaceAll('%I', '0'), job.cwd);
  job.finalize = (rec) => {
    rec.stdout = out ? expand(out, rec) : null;
    // Without -e, stderr goes to the -o file.
    rec.stderr = err ? expand(err, rec) : rec.stdout;
  };
  const rec = submit('lsf', job, (seq) => String(seq));
  print(`Job <${rec.id}> is submitted to ${explicitQueue ? '' : 'default '}queue <${rec.queue}>.`);
}

function stat(job) {
  if (job.state === 'queued') return job.hold ? 'PSUSP' : 'PEND';
  if (job.state === 'running') return 'RUN';
  return shellStatus(job) === 0 && !job.canceled && !job.timedOut ? 'DONE' : 'EXIT';
}

function field(job, name) {
  const s = stat(job);
  switch (name) {
    case 'jobid':
      return job.id;
    case 'stat':
      return s;
    case 'user':
      return job.owner;
    case 'queue':
      return job.queue;
    case 'job_name':
      return job.name;
    case 'from_host':
      return simHost();
    case 'exec_host':
      return job.startTime ? `${job.procs}*${simHost()}` : '';
    case 'nexec_host':
      return job.startTime ? '1' : '';
    case 'slots':
      return String(job.procs);
    case 'exit_code':
      // LSF leaves EXIT_CODE empty for a DONE job.
      return s === 'EXIT' && job.startTime ? String(shellStatus(job)) : '';
    case 'exit_reason':
      if (job.timedOut) return 'TERM_RUNLIMIT: job killed after reaching LSF run time limit';
      if (job.canceled) return 'TERM_OWNER: job killed by owner';
      return '';
    case 'kill_reason':
      return job.canceled ? `Job killed by ${job.owner}` : '';
    case 'suspend_reason':
    case 'pend_reason':
      return job.state === 'queued' ? 'Job slot limit reached' : '';
    case 'submit_time':
      return ctime(job.submitTime).slice(4, 16);
    case 'start_time':
      return job.startTime ? ctime(job.startTime).slice(4, 16) : '';
    case 'finish_time':
      return job.endTime ? ctime(job.endTime).slice(4, 16) : '';
    case 'output_file':
      return job.stdout ?? '';
    case 'error_file':
      return job.stderr ?? '';
    default:
      throw fail(`${name}: Illegal field name. The output format is not valid.`, 255);
  }
}

function parseFormat(text) {
  let delimiter;
  const fields = [];
  for (const word of text.trim().split(/\s+/)) {
    const m = /^delimiter=(['"])(.*)\1$/.exec(word);
    if (m) delimiter = m[2];
    else fields.push({ name: word.split(':')[0].toLowerCase(), width: Number(word.split(':')[1]) || undefined });
  }
  return { fields, delimiter };
}

async function bjobs(args) {
  const failure = injectedQueryFailure();
  if (failure) throw fail(failure, 255);
  const { opts, operands } = parseOptions(
    args,
    {
      '-o': true,
      '-noheader': false,
      '-json': false,
      '-a': false,
      '-d': false,
      '-u': true,
      '-w': false,
      '-l': false,
      '-p': false,
      '-r': false,
    },
    { stopAtOperand: false },
  );
  const has = (k) => opts.some(([n]) => n === k);
  const user = opts.find(([n]) => n === '-u')?.[1];
  const all = jobs('lsf').filter(inHistory);
  const shown = [];
  const errors = [];
  if (operands.length) {
    for (const id of operands) {
      const j = all.find((x) => x.id === id);
      if (j) shown.push(j);
      else errors.push(id);
    }
  } else {
    for (const j of all) {
      if (user && user !== 'all' && j.owner !== user) continue;
      if (j.state === 'finished' && !has('-a') && !has('-d')) continue;
      if (has('-d') && j.state !== 'finished') continue;
      shown.push(j);
    }
  }
  const { fields, delimiter } = parseFormat(
    opts.find(([n]) => n === '-o')?.[1] ?? 'jobid user stat queue from_host exec_host job_name submit_time',
  );
  if (has('-json')) {
    const records = shown.map((j) => Object.fromEntries(fields.map((f) => [f.name.toUpperCase(), field(j, f.name)])));
    for (const id of errors) records.push({ JOBID: id, ERROR: `Job <${id}> is not found` });
    print(JSON.stringify({ COMMAND: 'bjobs', JOBS: records.length, RECORDS: records }, null, 2));
    return 0;
  }
  for (const id of errors) process.stderr.write(`Job <${id}> is not found\n`);
  if (shown.length === 0) {
    if (!errors.length) process.stderr.write(`No ${has('-a') ? '' : 'unfinished '}job found\n`);
    return errors.length ? 255 : 0;
  }
  const cell = (v, f) => {
    const s = v === '' ? '-' : v;
    return delimiter !== undefined ? s : s.padEnd(f.width ?? Math.max(f.name.length, 7));
  };
  const sep = delimiter ?? ' ';
  if (!has('-noheader'))
    print(
      fields
        .map((f) => cell(f.name.toUpperCase(), f))
        .join(sep)
        .trimEnd(),
    );
  for (const j of shown)
    print(
      fields
        .map((f) => cell(field(j, f.name), f))
        .join(sep)
        .trimEnd(),
    );
  return errors.length ? 255 : 0;
}

async function bkill(args) {
  const { operands } = parseOptions(args, { '-s': true, '-r': false }, { stopAtOperand: false });
  const all = readState().jobs;
  let code = 0;
  for (const id of operands) {
    const result = all[id] ? cancel(id) : 'unknown';
    if (result === 'unknown') {
      process.stderr.write(`Job <${id}>: No matching job found\n`);
      code = 255;
    } else if (result === 'finished') {
      process.stderr.write(`Job <${id}>: Job has already finished\n`);
      code = 255;
    } else print(`Job <${id}> is being terminated`);
  }
  return code;
}

export const main = (command, args) => runCommand('lsf', command, args, { bsub, bjobs, bkill });
