// Scheduler simulator (test-only): the classic Torque front — qsub, qstat, qdel.
// Formats follow Torque 6: `<seq>.<server>` ids, `qstat -f` as text (`Job Id:` blocks, `    key = value`
// lines, long values continued on lines that start with a tab), completed jobs shown with state `C`
// for a while (EXAWORKS_SIM_HISTORY_SECONDS), `exit_status` = the script's code, 256 + signal for a
// signalled job, -11 (JOB_EXEC_OVERLIMIT_WT) for a walltime kill, none for a job deleted before it
// ran; no substate that tells a deleted job from one that failed. `-l nodes=N:ppn=M`, jobs start in
// $HOME (or `-d`) with only PBS_O_* variables unless `-V`.
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cancel, clockSeconds, inHistory, jobs, scriptDirectives, signalNumber, simHost, submit } from './core.mjs';
import { ctime, fail, hms, parseOptions, print, resolvePath, runCommand } from './common.mjs';
import { jobEnvironment as pbsEnvironment, stripHost } from './pbs.mjs';
import { injectedQueryFailure, readState } from './store.mjs';

const SERVER = () => process.env.EXAWORKS_SIM_TORQUE_SERVER ?? 'torque-simulator';
const QUEUES = () => (process.env.EXAWORKS_SIM_QUEUES ?? 'batch').split(',');
const QSUB = {
  '-N': true,
  '-o': true,
  '-e': true,
  '-j': true,
  '-l': true,
  '-q': true,
  '-A': true,
  '-V': false,
  '-v': true,
  '-h': false,
  '-W': true,
  '-m': true,
  '-M': true,
  '-k': true,
  '-r': true,
  '-S': true,
  '-t': true,
  '-n': false,
  '-d': true,
  '-a': true,
};

export const jobEnvironment = (job, ctx) => {
  const env = pbsEnvironment(job, ctx);
  delete env.NCPUS;
  delete env.OMP_NUM_THREADS;
  return {
    ...env,
    PBS_NUM_NODES: String(job.nodes),
    PBS_NUM_PPN: String(job.extra.ppn),
    PBS_NP: String(job.procs),
    PBS_SERVER: SERVER(),
  };
};
export const nodeFileLines = (job) => job.procs;

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
  const opts = [...parseOptions(scriptDirectives(text, '#PBS'), QSUB).opts, ...first.opts];
  const job = { queue: QUEUES()[0], cwd: os.homedir(), env: { ...process.env }, extra: { variables: {} } };
  let nodes = 1;
  let ppn = 1;
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
    else if (k === '-V') job.extra.exportAll = true;
    else if (k === '-h') job.hold = true;
    else if (k === '-d') job.cwd = v;
    else if (k === '-n') job.extra.exclusive = true;
    else if (k === '-t') throw fail('job arrays are not supported by the simulator', 2);
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
            throw fail('qsub: submit error (Illegal attribute or resource value for Resource_List.walltime)', 1);
          }
        } else if (rk === 'nodes') {
          const [n, ...props] = rv.split(':');
          nodes = Number(n) || 1;
          for (const p of props) if (p.startsWith('ppn=')) ppn = Number(p.slice(4)) || 1;
        } else if (rk === 'select') {
          throw fail('qsub: submit error (Unknown resource type  Resource_List.select)', 1);
        }
      }
  }
  if (!QUEUES().includes(job.queue)) throw fail(`qsub: submit error (Unknown queue MSG=requested queue not found)`, 1);
  job.name ??= path.basename(scriptPath).slice(0, 236);
  job.nodes = nodes;
  job.procs = nodes * ppn;
  job.extra.ppn = ppn;
  job.extra.nodesSpec = `${nodes}:ppn=${ppn}`;
  job.extra.join = join;
  job.script = scriptPath;
  job.extra.args = args.join(' ');
  const here = process.cwd();
  const place = (given, suffix, rec) => {
    const full = resolvePath(given ?? `${rec.name}.${suffix}${rec.seq}`, here);
    try {
      if (statSync(full).isDirectory()) return path.join(full, `${rec.name}.${suffix}${rec.seq}`);
    } catch {}
    return full;
  };
  job.finalize = (rec) => {
    rec.stdout = place(out, 'o', rec);
    rec.stderr = place(err, 'e', rec);
    if (join === 'oe') rec.stderr = rec.stdout;
    if (join === 'eo') rec.stdout = rec.stderr;
  };
  const rec = submit('torque', job, (seq) => `${seq}.${SERVER()}`);
  print(rec.id);
}

function jobState(job) {
  if (job.state === 'queued') return job.hold ? 'H' : 'Q';
  if (job.state === 'running') return 'R';
  return 'C';
}

function exitStatus(job) {
  if (!job.startTime) return undefined;
  if (job.timedOut) return -11;
  if (job.signal) return 256 + signalNumber(job.signal);
  return job.exitCode ?? undefined;
}

/** The attributes of `qstat -f` in Torque's order (a subset that real output has). */
function attributes(job) {
  const st = jobState(job);
  const used = job.startTime ? hms(((job.endTime ?? Date.now()) - job.startTime) / 1000) : undefined;
  const r = [
    ['Job_Name', job.name],
    ['Job_Owner', `${job.owner}@${simHost()}`],
  ];
  if (used) r.push(['resources_used.cput', '00:00:00'], ['resources_used.mem', '0kb'], ['resources_used.walltime', used]);
  r.push(
    ['job_state', st],
    ['queue', job.queue],
    ['server', SERVER()],
    ['Checkpoint', 'u'],
    ['ctime', ctime(job.submitTime)],
    ['Error_Path', `${simHost()}:${job.stderr ?? ''}`],
  );
  if (job.startTime) r.push(['exec_host', `${simHost()}/0-${Math.max(0, job.procs - 1)}`]);
  r.push(
    ['Hold_Types', job.hold ? 'u' : 'n'],
    ['Join_Path', job.extra.join],
    ['Keep_Files', 'n'],
    ['Mail_Points', 'a'],
    ['mtime', ctime(job.endTime ?? job.startTime ?? job.submitTime)],
    ['Output_Path', `${simHost()}:${job.stdout ?? ''}`],
    ['Priority', '0'],
    ['qtime', ctime(job.submitTime)],
    ['Rerunable', 'True'],
    ['Resource_List.nodect', String(job.nodes)],
    ['Resource_List.nodes', job.extra.nodesSpec],
  );
  if (job.walltime) r.push(['Resource_List.walltime', hms(job.walltime)]);
  if (job.pid) r.push(['session_id', String(job.pid)]);
  const vars = Object.entries({
    PBS_O_QUEUE: job.queue,
    PBS_O_HOME: job.env.HOME ?? '',
    PBS_O_LOGNAME: job.owner,
    PBS_O_PATH: job.env.PATH ?? '',
    PBS_O_SHELL: job.env.SHELL ?? '/bin/sh',
    PBS_O_HOST: simHost(),
    PBS_O_SERVER: SERVER(),
    PBS_O_WORKDIR: job.submitDir,
  })
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  r.push(['Variable_List', vars], ['euser', job.owner], ['queue_type', 'E'], ['etime', ctime(job.submitTime)]);
  const es = exitStatus(job);
  if (st === 'C' && es !== undefined) r.push(['exit_status', String(es)]);
  r.push(['submit_args', job.extra.args]);
  if (job.startTime) r.push(['start_time', ctime(job.startTime)], ['start_count', '1']);
  if (st === 'R' && job.walltime)
    r.push(['Walltime.Remaining', String(Math.max(0, Math.round(job.walltime - (Date.now() - job.startTime) / 1000)))]);
  r.push(['fault_tolerant', 'False']);
  if (st === 'C') r.push(['comp_time', ctime(job.endTime)]);
  r.push(['job_radix', '0'], ['submit_host', simHost()]);
  return r;
}

/** `    key = value`, wrapped as Torque does: a long line goes on in 78-column pieces after a tab. */
function attributeLines(key, value) {
  const line = `    ${key} = ${value}`;
  const out = [line.slice(0, 78)];
  for (let i = 78; i < line.length; i += 78) out.push(`\t${line.slice(i, i + 78)}`);
  return out;
}

function lookup(all, id) {
  const seq = String(id).split('.')[0];
  return all.find((j) => String(j.seq) === seq && inHistory(j));
}

async function qstat(args) {
  if (args[0] === '--version') {
    print('Version: 6.1.3\nCommit: 0a1b2c3d4e5f (simulator)');
    return 0;
  }
  const failure = injectedQueryFailure();
  if (failure) throw fail(failure, 1);
  const { opts, operands } = parseOptions(
    args,
    { '-f': false, '-u': true, '-a': false, '-n': false, '-1': false, '-x': false },
    { stopAtOperand: false },
  );
  const has = (k) => opts.some(([n]) => n === k);
  if (has('-x')) throw fail('qstat -x (XML) is not modelled by the simulator', 2);
  const all = jobs('torque');
  let code = 0;
  let shown = [];
  if (operands.length === 0) shown = all.filter(inHistory);
  else
    for (const id of operands) {
      const j = lookup(all, id);
      if (j) shown.push(j);
      else {
        process.stderr.write(`qstat: Unknown Job Id Error ${id}\n`);
        code = 153;
      }
    }
  const user = opts.find(([n]) => n === '-u')?.[1];
  const list = user ? shown.filter((j) => j.owner === user) : shown;
  if (has('-f')) {
    for (const j of list) {
      print(`Job Id: ${j.id}`);
      for (const [k, v] of attributes(j)) for (const l of attributeLines(k, v)) print(l);
      print('');
    }
  } else if (list.length) {
    const cut = (s, n) => (s.length > n ? s.slice(0, n) : s.padEnd(n));
    print('Job ID                    Name             User            Time Use S Queue');
    print('------------------------- ---------------- --------------- -------- - -----');
    for (const j of list) {
      const used = j.startTime ? hms(((j.endTime ?? Date.now()) - j.startTime) / 1000) : '0';
      print(`${cut(j.id, 25)} ${cut(j.name, 16)} ${cut(j.owner, 15)} ${used.padStart(8)} ${jobState(j)} ${j.queue}`);
    }
  }
  return code;
}

async function qdel(args) {
  const { operands } = parseOptions(args, { '-W': true, '-p': false, '-m': true }, { stopAtOperand: false });
  const all = readState().jobs;
  let code = 0;
  for (const id of operands) {
    const seq = String(id).split('.')[0];
    const result = all[seq]?.scheduler === 'torque' ? cancel(seq) : 'unknown';
    if (result === 'unknown') {
      process.stderr.write(`qdel: Unknown Job Id ${id}\n`);
      code = 153;
    } else if (result === 'finished') {
      process.stderr.write(`qdel: Invalid state for job - COMPLETE ${id}\n`);
      code = 168;
    }
  }
  return code;
}

export const main = (command, args) => runCommand('torque', command, args, { qsub, qstat, qdel });
