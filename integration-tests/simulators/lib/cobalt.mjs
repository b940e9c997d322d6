// Scheduler simulator (test-only): the Cobalt front (ALCF) — qsub, qstat, qdel.
// Formats follow Cobalt 1.0: qsub prints the bare numeric id and refuses a script that is not
// executable; `qstat -l --header=Jobid:State` long format; finished jobs vanish from qstat (the
// `.cobaltlog` keeps the exit code); `$jobid` in -o/-e/--debuglog paths; -t in minutes or HH:MM:SS.
import { accessSync, appendFileSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { cancel, clockSeconds, jobs, minuteSeconds, scriptDirectives, shellStatus, simHost, submit } from './core.mjs';
import { ctime, fail, hms, parseOptions, print, resolvePath, runCommand } from './common.mjs';
import { injectedQueryFailure, readState } from './store.mjs';

const QUEUES = () => (process.env.EXAWORKS_SIM_QUEUES ?? 'default').split(',');
const FIRST_ID = 100000;
const QSUB = {
  '-t': true,
  '-n': true,
  '--proccount': true,
  '-q': true,
  '-A': true,
  '--project': true,
  '-o': true,
  '--output': true,
  '-e': true,
  '--error': true,
  '--debuglog': true,
  '-O': true,
  '--outputprefix': true,
  '--cwd': true,
  '--jobname': true,
  '--env': true,
  '-h': false,
  '--mode': true,
  '--attrs': true,
  '-M': true,
};

export const nodeFileLines = (job) => job.nodes;
export const jobEnvironment = (job, { nodeFile }) => ({
  ...job.env,
  ...job.extra.variables,
  COBALT_JOBID: job.id,
  COBALT_NODEFILE: nodeFile,
  COBALT_JOBSIZE: String(job.nodes),
  COBALT_PARTNAME: simHost(),
  COBALT_PARTSIZE: String(job.nodes),
  COBALT_PROCCOUNT: String(job.procs),
});

export function finished(job) {
  if (!job.extra.log) return;
  const why = job.timedOut
    ? 'maximum execution time exceeded; initiating job termination'
    : job.canceled
      ? 'job deleted by user; initiating job termination'
      : `task completed normally with an exit code of ${shellStatus(job)}; initiating job cleanup and removal`;
  appendFileSync(job.extra.log, `${ctime(job.endTime)} +0000 (UTC) Info: ${why}\n`);
}

/** Minutes, or HH:MM:SS. */
function walltime(text) {
  if (/^\d+$/.test(text)) return Number(text) * minuteSeconds();
  try {
    return clockSeconds(text);
  } catch {
    throw fail(`error: specified walltime is invalid: ${text}`, 1);
  }
}

async function qsub(args) {
  const first = parseOptions(args, QSUB);
  const scriptPath = first.operands[0];
  if (!scriptPath) throw fail('error: No executable or script specified', 1);
  try {
    accessSync(scriptPath, constants.X_OK);
  } catch {
    throw fail(`error: command ${path.resolve(scriptPath)} not found, or is not a file, or is not executable`, 1);
  }
  const text = readFileSync(scriptPath, 'utf8');
  const opts = [...parseOptions(scriptDirectives(text, '#COBALT'), QSUB).opts, ...first.opts];
  const job = { queue: QUEUES()[0], cwd: process.cwd(), env: { ...process.env }, extra: { variables: {} }, nodes: 1 };
  let out;
  let err;
  let log;
  let prefix;
  for (const [k, v] of opts) {
    if (k === '-t') job.walltime = walltime(v);
    else if (k === '-n') job.nodes = Number(v);
    else if (k === '--proccount') job.procs = Number(v);
    else if (k === '-q') job.queue = v;
    else if (k === '-A' || k === '--project') job.account = v;
    else if (k === '-o' || k === '--output') out = v;
    else if (k === '-e' || k === '--error') err = v;
    else if (k === '--debuglog') log = v;
    else if (k === '-O' || k === '--outputprefix') prefix = v;
    else if (k === '--cwd') job.cwd = v;
    else if (k === '--jobname') job.name = v;
    else if (k === '-h') job.hold = true;
    else if (k === '--env')
      for (const kv of v.split(':')) {
        const at = kv.indexOf('=');
        if (at > 0) job.extra.variables[kv.slice(0, at)] = kv.slice(at + 1);
      }
  }
  if (!QUEUES().includes(job.queue)) throw fail(`error: Queue '${job.queue}' does not exist`, 1);
  if (!job.walltime) throw fail('error: No walltime specified (-t)', 1);
  job.procs ??= job.nodes;
  job.name ??= path.basename(scriptPath);
  job.script = scriptPath;
  const expand = (p, rec) => resolvePath(p.replaceAll('$jobid', rec.id), job.cwd);
  job.finalize = (rec) => {
    const base = prefix ? expand(prefix, rec) : path.join(job.cwd, rec.id);
    rec.stdout = out ? expand(out, rec) : `${base}.output`;
    rec.stderr = err ? expand(err, rec) : `${base}.error`;
    rec.extra.log = log ? expand(log, rec) : `${base}.cobaltlog`;
    appendFileSync(rec.extra.log, `Jobid: ${rec.id}\n${ctime(rec.submitTime)} +0000 (UTC) Info: job submitted\n`);
  };
  const rec = submit('cobalt', job, (seq) => String(FIRST_ID + seq));
  print(rec.id);
}

function stateName(job) {
  if (job.state === 'queued') return job.hold ? 'user_hold' : 'queued';
  if (job.canceled || job.timedOut) return 'killing';
  return 'running';
}

const FIELDS = {
  jobid: (j) => j.id,
  jobname: (j) => j.name,
  user: (j) => j.owner,
  walltime: (j) => hms(j.walltime),
  runtime: (j) => (j.startTime ? hms((Date.now() - j.startTime) / 1000) : 'N/A'),
  nodes: (j) => String(j.nodes),
  state: stateName,
  location: (j) => (j.startTime ? simHost() : 'None'),
  queue: (j) => j.queue,
  procs: (j) => String(j.procs),
  project: (j) => j.account ?? 'None',
};
const DISPLAY = {
  jobid: 'JobID',
  jobname: 'JobName',
  user: 'User',
  walltime: 'WallTime',
  runtime: 'RunTime',
  nodes: 'Nodes',
  state: 'State',
  location: 'Location',
  queue: 'Queue',
  procs: 'Procs',
  project: 'Project',
};

async function qstat(args) {
  const failure = injectedQueryFailure();
  if (failure) throw fail(failure, 1);
  const { opts, operands } = parseOptions(
    args,
    { '-l': false, '-f': false, '-u': true, '--header': true, '-q': true },
    { stopAtOperand: false },
  );
  const header = (opts.find(([n]) => n === '--header')?.[1] ?? 'JobID:User:WallTime:Nodes:State:Location')
    .split(':')
    .map((h) => h.toLowerCase());
  for (const h of header) if (!FIELDS[h]) throw fail(`error: unknown field "${h}"`, 1);
  // Finished jobs are gone from Cobalt's queue.
  const active = jobs('cobalt').filter((j) => j.state !== 'finished');
  const user = opts.find(([n]) => n === '-u')?.[1];
  const shown = active.filter((j) => (operands.length ? operands.includes(j.id) : !user || j.owner === user));
  if (operands.length && shown.length === 0) return 1;
  if (opts.some(([n]) => n === '-l' || n === '-f')) {
    const width = Math.max(...header.map((h) => DISPLAY[h].length));
    for (const j of shown) {
      for (const [i, h] of header.entries()) {
        print(i === 0 ? `${DISPLAY[h]}: ${FIELDS[h](j)}` : `    ${DISPLAY[h].padEnd(width)} : ${FIELDS[h](j)}`);
      }
      print('');
    }
    return 0;
  }
  const rows = shown.map((j) => header.map((h) => FIELDS[h](j)));
  const widths = header.map((h, i) => Math.max(DISPLAY[h].length, ...rows.map((r) => r[i].length)));
  print(
    header
      .map((h, i) => DISPLAY[h].padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
  print('='.repeat(widths.reduce((a, b) => a + b + 2, -2)));
  for (const r of rows)
    print(
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  return 0;
}

async function qdel(args) {
  const { operands } = parseOptions(args, {}, { stopAtOperand: false });
  const state = readState();
  const deleted = [];
  for (const id of operands) {
    if (!/^\d+$/.test(id)) throw fail(`error: jobid must be an integer: ${id}`, 1);
    const seq = String(Number(id) - FIRST_ID);
    if (state.jobs[seq] && cancel(seq) !== 'finished') deleted.push(state.jobs[seq]);
  }
  print('      Deleted Jobs');
  print('JobID   User');
  print('================');
  for (const j of deleted) print(`${j.id}  ${j.owner}`);
  return 0;
}

export const main = (command, args) => runCommand('cobalt', command, args, { qsub, qstat, qdel });
