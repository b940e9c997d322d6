// Scheduler simulator (test-only): the PBS Pro / OpenPBS front — qsub, qstat, qdel.
// Formats follow OpenPBS 20+/PBS Pro 2021: `<seq>.<server>` ids, `qstat -f -F json`, finished jobs
// only with `-x` (without it qstat says "Job has finished" and exits 35), Exit_status 256+signal for a
// signalled job and -29 (JOB_EXEC_KILL_WALLTIME) for a walltime kill, jobs started in $HOME with only
// PBS_O_* variables unless `-V`.
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cancel, clockSeconds, inHistory, jobs, scriptDirectives, signalNumber, simHost, submit } from './core.mjs';
import { ctime, fail, hms, parseOptions, print, resolvePath, runCommand } from './common.mjs';
import { injectedQueryFailure, readState } from './store.mjs';

const SERVER = () => process.env.EXAWORKS_SIM_PBS_SERVER ?? 'pbs-simulator-server.cluster.example.org';
const QUEUES = () => (process.env.EXAWORKS_SIM_QUEUES ?? 'workq').split(',');
const QSUB = {
  '-N': true,
  '-o': true,
  '-e': true,
  '-j': true,
  '-l': true,
  '-q': true,
  '-A': true,
  '-P': true,
  '-V': false,
  '-v': true,
  '-h': false,
  '-W': true,
  '-m': true,
  '-M': true,
  '-k': true,
  '-r': true,
  '-S': true,
  '-J': true,
  '-a': true,
};

export const jobEnvironment = (job, { nodeFile }) => {
  const submitted = job.env;
  const base = job.extra.exportAll
    ? { ...submitted }
    : { HOME: os.homedir(), USER: job.owner, LOGNAME: job.owner, SHELL: '/bin/sh', PATH: '/usr/local/bin:/usr/bin:/bin' };
  for (const [k, v] of Object.entries(job.extra.variables ?? {})) base[k] = v;
  return {
    ...base,
    PBS_O_HOME: submitted.HOME ?? '',
    PBS_O_PATH: submitted.PATH ?? '',
    PBS_O_SHELL: submitted.SHELL ?? '/bin/sh',
    PBS_O_HOST: simHost(),
    PBS_O_WORKDIR: job.submitDir,
    PBS_O_QUEUE: job.queue,
    PBS_QUEUE: job.queue,
    PBS_JOBID: job.id,
    PBS_JOBNAME: job.name,
    PBS_NODEFILE: nodeFile,
    PBS_ENVIRONMENT: 'PBS_BATCH',
    NCPUS: String(job.extra.ncpus ?? 1),
    OMP_NUM_THREADS: String(job.extra.ncpus ?? 1),
  };
};
export const nodeFileLines = (job) => job.procs;

export function stripHost(p) {
  return p.replace(/^[^/:]+:(?=\/)/, '');
}

async function qsub(args) {
  const first = parseOptions(args, QSUB);
  const scriptPath = first.operands[0];
  if (!scriptPath) throw fail('usage: qsub [options] script (the simulator does not read a script from stdin)', 2);
  let text;
  try {
    text = readFileSync(scriptPath, 'utf8');
  } catch {
    throw fail(`script file:: No such file or directory`, 2);
  }
  // Command-line options override the script's directives.
  const opts = [...parseOptions(scriptDirectives(text, '#PBS'), QSUB).opts, ...first.opts];
  const job = { queue: QUEUES()[0], cwd: os.homedir(), env: { ...process.env }, extra: { variables: {} } };
  let select = { chunks: 1, ncpus: 1, mpiprocs: undefined };
  let out;
  let err;
  let join = 'n';
  for (const [k, v] of opts) {
    if (k === '-N') job.name = v;
    else if (k === '-o') out = stripHost(v);
    else if (k === '-e') err = stripHost(v);
    else if (k === '-j') join = v;
    else if (k === '-q') job.queue = v;
    else if (k === '-A') job.account = v;
    else if (k === '-P') job.extra.project = v;
    else if (k === '-V') job.extra.exportAll = true;
    else if (k === '-h') job.hold = true;
    else if (k === '-J') throw fail('job arrays are not supported by the simulator', 2);
    else if (k === '-v')
      for (const kv of v.split(',')) {
        const [name, ...rest] = kv.split('=');
        job.extra.variables[name] = rest.length ? rest.join('=') : (process.env[name] ?? '');
      }
    else if (k === '-l')
      for (const res of v.split(',')) {
        const at = res.indexOf('=');
        const rk = at < 0 ? res : res.slice(0, at);
        const rv = at < 0 ? '' : res.slice(at + 1);
        if (rk === 'walltime') {
          try {
            job.walltime = clockSeconds(rv);
          } catch {
            throw fail('Illegal attribute or resource value Resource_List.walltime', 188);
          }
        } else if (rk === 'select') {
          const [n, ...kvs] = rv.split(':');
          select = { chunks: Number(n) || 1, ncpus: 1, mpiprocs: undefined };
          for (const kv of kvs) {
            const [a, b] = kv.split('=');
            if (a === 'ncpus') select.ncpus = Number(b);
            if (a === 'mpiprocs') select.mpiprocs = Number(b);
          }
        } else if (rk === 'ncpus') select.ncpus = Number(rv);
      }
  }
  if (!QUEUES().includes(job.queue)) throw fail('Unknown queue', 170);
  job.name ??= path.basename(scriptPath).slice(0, 236);
  job.nodes = select.chunks;
  job.procs = select.chunks * (select.mpiprocs ?? 1);
  job.extra.ncpus = select.ncpus;
  job.extra.select = `${select.chunks}:ncpus=${select.ncpus}${select.mpiprocs ? `:mpiprocs=${select.mpiprocs}` : ''}`;
  job.extra.join = join;
  job.script = scriptPath;
  job.extra.args = args.join(' ');
  const here = process.cwd();
  const place = (given, suffix, rec) => {
    const full = resolvePath(given ?? `${rec.name}.${suffix}${rec.seq}`, here);
    try {
      if (statSync(full).isDirectory()) return path.join(full, `${rec.seq}.${SERVER().split('.')[0]}.${suffix.toUpperCase()}U`);
    } catch {}
    return full;
  };
  job.finalize = (rec) => {
    rec.stdout = place(out, 'o', rec);
    rec.stderr = place(err, 'e', rec);
    if (join === 'oe') rec.stderr = rec.stdout;
    if (join === 'eo') rec.stdout = rec.stderr;
  };
  const rec = submit('pbs', job, (seq) => `${seq}.${SERVER()}`);
  print(rec.id);
}

function jobState(job) {
  if (job.state === 'queued') return job.hold ? 'H' : 'Q';
  if (job.state === 'running') return 'R';
  return 'F';
}

function exitStatus(job) {
  if (job.timedOut) return -29;
  if (job.signal) return 256 + signalNumber(job.signal);
  return job.exitCode ?? undefined;
}

function jobJson(job) {
  const st = jobState(job);
  const r = {
    Job_Name: job.name,
    Job_Owner: `${job.owner}@${simHost()}`,
    job_state: st,
    queue: job.queue,
    server: SERVER(),
    ctime: ctime(job.submitTime),
    qtime: ctime(job.submitTime),
    mtime: ctime(job.endTime ?? job.startTime ?? job.submitTime),
    Error_Path: `${simHost()}:${job.stderr ?? ''}`,
    Output_Path: `${simHost()}:${job.stdout ?? ''}`,
    Join_Path: job.extra.join,
    Resource_List: {
      ncpus: job.extra.ncpus * job.nodes,
      nodect: job.nodes,
      place: 'pack',
      select: job.extra.select,
      ...(job.walltime ? { walltime: hms(job.walltime) } : {}),
    },
    // 91: terminated (qdel), 92: finished.
    substate: st === 'Q' ? 10 : st === 'H' ? 20 : st === 'R' ? 42 : job.canceled ? 91 : 92,
    Variable_List: { PBS_O_HOME: job.env.HOME ?? '', PBS_O_WORKDIR: job.submitDir, PBS_O_QUEUE: job.queue },
    project: job.extra.project ?? '_pbs_project_default',
    Submit_arguments: job.extra.args,
  };
  if (job.account) r.Account_Name = job.account;
  if (job.startTime) {
    r.stime = ctime(job.startTime);
    r.exec_host = `${simHost()}/0*${job.procs}`;
    r.run_count = 1;
  }
  if (st === 'Q') r.comment = 'Not Running: Insufficient amount of resource: ncpus';
  if (st === 'R') r.comment = `Job run at ${ctime(job.startTime)} on (${simHost()}:ncpus=${job.extra.ncpus})`;
  if (st === 'F') {
    const es = exitStatus(job);
    if (es !== undefined && job.startTime) r.Exit_status = es;
    r.comment = job.timedOut
      ? `job killed: walltime ${Math.round((job.endTime - job.startTime) / 1000)} exceeded limit ${job.walltime}`
      : job.canceled
        ? 'Job deleted by user'
        : `Job run at ${ctime(job.startTime)} on (${simHost()}:ncpus=${job.extra.ncpus}) and finished`;
    r.obittime = ctime(job.endTime);
  }
  return r;
}

function lookup(all, id) {
  const seq = String(id).split('.')[0];
  const job = all.find((j) => String(j.seq) === seq && inHistory(j));
  return job;
}

async function qstat(args) {
  const failure = injectedQueryFailure();
  if (failure) throw fail(failure, 1);
  const { opts, operands } = parseOptions(
    args,
    { '-f': false, '-F': true, '-x': false, '-u': true, '-w': false, '-H': false },
    {
      stopAtOperand: false,
    },
  );
  const has = (k) => opts.some(([n]) => n === k);
  const format = opts.find(([n]) => n === '-F')?.[1];
  const history = has('-x') || has('-H');
  const all = jobs('pbs');
  let code = 0;
  const shown = [];
  if (operands.length === 0) {
    for (const j of all) if (inHistory(j) && (history || j.state !== 'finished')) shown.push(j);
  } else {
    for (const id of operands) {
      const j = lookup(all, id);
      if (!j) {
        process.stderr.write(`qstat: Unknown Job Id ${id}\n`);
        code = 153;
      } else if (j.state === 'finished' && !history) {
        process.stderr.write(`qstat: ${id} Job has finished, use -x or -H to obtain historical job information\n`);
        code = 35;
      } else shown.push(j);
    }
  }
  const user = opts.find(([n]) => n === '-u')?.[1];
  const list = user ? shown.filter((j) => j.owner === user) : shown;
  if (has('-f') && format === 'json') {
    const report = { timestamp: Math.floor(Date.now() / 1000), pbs_version: '20.0.1', pbs_server: SERVER() };
    if (list.length) report.Jobs = Object.fromEntries(list.map((j) => [j.id, jobJson(j)]));
    print(JSON.stringify(report, null, 4));
  } else if (has('-f')) {
    for (const j of list) {
      const r = jobJson(j);
      print(`Job Id: ${j.id}`);
      for (const [k, v] of Object.entries(r)) {
        if (typeof v === 'object') for (const [k2, v2] of Object.entries(v)) print(`    ${k}.${k2} = ${v2}`);
        else print(`    ${k} = ${v}`);
      }
      print('');
    }
  } else if (list.length) {
    // The default display truncates long ids and names to their column with a `*`.
    const cut = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}*` : s.padEnd(n));
    print('Job id            Name             User              Time Use S Queue');
    print('----------------  ---------------- ----------------  -------- - -----');
    for (const j of list) {
      const used = j.startTime ? hms(((j.endTime ?? Date.now()) - j.startTime) / 1000) : '0';
      print(`${cut(j.id, 16)}  ${cut(j.name, 16)} ${cut(j.owner, 16)}  ${used.padStart(8)} ${jobState(j)} ${j.queue}`);
    }
  }
  return code;
}

async function qdel(args) {
  const { operands } = parseOptions(args, { '-W': true, '-x': false }, { stopAtOperand: false });
  const all = readState().jobs;
  let code = 0;
  for (const id of operands) {
    const seq = String(id).split('.')[0];
    const result = all[seq] ? cancel(seq) : 'unknown';
    if (result === 'unknown') {
      process.stderr.write(`qdel: Unknown Job Id ${id}\n`);
      code = 153;
    } else if (result === 'finished') {
      process.stderr.write(`qdel: Job has finished ${id}\n`);
      code = 35;
    }
  }
  return code;
}

export const main = (command, args) => runCommand('pbs', command, args, { qsub, qstat, qdel });
