// Unit tests of the scheduler simulator itself (test-only): its formats, its FIFO slots, walltime,
// cancel and its store under concurrent commands. Each command is a node process, so on a loaded
// 2-core machine a test of a dozen commands needs minutes, not seconds: hence the long timeouts.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startSchedulerSimulator, type SchedulerSimulator, type SimulatedScheduler, type SimulatorOptions } from './simulator.js';

const exec = promisify(execFile);
const sims: SchedulerSimulator[] = [];
afterEach(() => {
  for (const s of sims.splice(0)) s.close();
});

function cluster(kind: SimulatedScheduler, options: SimulatorOptions = {}) {
  const sim = startSchedulerSimulator(kind, options);
  sims.push(sim);
  const dir = mkdtempSync(path.join(os.tmpdir(), `exa-simtest-${kind}-`));
  const env = { ...process.env, ...sim.env, EXA_FROM_SUBMITTER: 'yes' };
  const run = async (cmd: string, args: string[], input?: string) => {
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(cmd, args, { env, cwd: dir });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  };
  const script = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, 0o755);
    return p;
  };
  const until = async (pred: () => boolean | Promise<boolean>, ms = 90_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await pred()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return pred();
  };
  const finished = (id: string) => until(() => sim.jobs().some((j) => j.id === id && j.state === 'finished'));
  return { sim, dir, run, script, until, finished };
}

describe('scheduler simulator: PBS Pro front', () => {
  it('runs a script with its directives and reports it in qstat -f -F json -x; qstat without -x exits 35', {
    timeout: 240_000,
  }, async () => {
    const { run, script, dir, finished } = cluster('pbs');
    const s = script(
      'a.sh',
      `#!/bin/sh\n#PBS -N hello\n#PBS -l select=1:ncpus=2:mpiprocs=2\n#PBS -o ${dir}/a.out\n#PBS -j oe\npwd; echo "$PBS_JOBNAME $(wc -l < "$PBS_NODEFILE") \${EXA_FROM_SUBMITTER:-unset}"; echo oops >&2; exit 3\n`,
    );
    const sub = await run('qsub', [s]);
    expect(sub.code).toBe(0);
    const id = sub.stdout.trim();
    expect(id).toMatch(/^1\.pbs-simulator-server\.cluster\.example\.org$/);
    expect(await finished(id)).toBe(true);
    // Started in $HOME, without the submitter's environment (no -V), stderr joined to stdout.
    expect(readFileSync(path.join(dir, 'a.out'), 'utf8')).toBe(`${os.homedir()}\nhello 2 unset\noops\n`);
    const q = await run('qstat', ['-f', '-F', 'json', '-x', id]);
    expect(q.code).toBe(0);
    const job = JSON.parse(q.stdout).Jobs[id];
    expect(job).toMatchObject({ job_state: 'F', Exit_status: 3, substate: 92, Job_Name: 'hello' });
    const plain = await run('qstat', [id]);
    expect(plain.code).toBe(35);
    expect(plain.stderr).toMatch(/Job has finished, use -x or -H/);
    const unknown = await run('qstat', ['-x', '99.pbs-simulator-server.cluster.example.org']);
    expect(unknown.code).toBe(153);
  });

  it('passes the environment with -V, truncates long ids in the default display, and refuses an unknown queue', {
    timeout: 240_000,
  }, async () => {
    const { run, script, dir, finished } = cluster('pbs');
    const gate = path.join(dir, 'gate');
    await exec('mkfifo', [gate]);
    const s = script(
      'v.sh',
      `#!/bin/sh\n#PBS -V\n#PBS -o ${dir}/v.out\necho "$EXA_FROM_SUBMITTER $PBS_O_WORKDIR"; read x < '${gate}'\n`,
    );
    const id = (await run('qsub', [s])).stdout.trim();
    const table = await run('qstat', []);
    expect(table.stdout).toMatch(/^1\.pbs-simulator\* +v\.sh +root +\S+ [QR] workq$/m);
    writeFileSync(gate, 'go\n');
    expect(await finished(id)).toBe(true);
    expect(readFileSync(path.join(dir, 'v.out'), 'utf8')).toBe(`yes ${dir}\n`);
    const bad = await run('qsub', ['-q', 'nosuch', s]);
    expect(bad).toMatchObject({ code: 170 });
    expect(bad.stderr).toMatch(/Unknown queue/);
  });

  it('kills a job at its walltime: Exit_status -29 and a comment that says walltime', { timeout: 240_000 }, async () => {
    const { run, script, finished } = cluster('pbs');
    const id = (await run('qsub', [script('w.sh', '#!/bin/sh\n#PBS -l walltime=00:00:01\nexec sleep 30\n')])).stdout.trim();
    expect(await finished(id)).toBe(true);
    const job = JSON.parse((await run('qstat', ['-f', '-F', 'json', '-x', id])).stdout).Jobs[id];
    expect(job.Exit_status).toBe(-29);
    expect(job.comment).toMatch(/walltime \d+ exceeded limit 1/);
  });

  it('keeps a job queued behind a FIFO-blocked one (one slot), deletes it before it runs, then runs the next', {
    timeout: 240_000,
  }, async () => {
    const { run, script, dir, until, finished, sim } = cluster('pbs', { slots: 1 });
    const fifo = path.join(dir, 'gate');
    await exec('mkfifo', [fifo]);
    const blocker = (await run('qsub', [script('b.sh', `#!/bin/sh\nread x < '${fifo}'\n`)])).stdout.trim();
    const marker = path.join(dir, 'ran');
    const queued = (await run('qsub', [script('q.sh', `#!/bin/sh\ntouch '${marker}'\n`)])).stdout.trim();
    const third = (await run('qsub', [script('t.sh', '#!/bin/sh\nexit 0\n')])).stdout.trim();
    expect(await until(() => sim.jobs().find((j) => j.id === blocker)?.pid != null)).toBe(true);
    const states = JSON.parse((await run('qstat', ['-f', '-F', 'json', queued, third])).stdout).Jobs;
    expect(states[queued].job_state).toBe('Q');
    expect((await run('qdel', [queued])).code).toBe(0);
    writeFileSync(fifo, 'go\n');
    expect(await finished(third)).toBe(true);
    expect(existsSync(marker)).toBe(false);
    const q = JSON.parse((await run('qstat', ['-f', '-F', 'json', '-x', queued])).stdout).Jobs[queued];
    expect(q).toMatchObject({ job_state: 'F', substate: 91 });
    expect(q.Exit_status).toBeUndefined();
    expect((await run('qdel', [queued])).code).toBe(35);
  });

  it('deletes a running job: its whole process tree dies and Exit_status is 256 + signal or the trap’s code', {
    timeout: 240_000,
  }, async () => {
    const { run, script, dir, until, finished } = cluster('pbs');
    const pids = path.join(dir, 'pids');
    const id = (await run('qsub', [script('r.sh', `#!/bin/sh\nsleep 60 & echo $! > '${pids}'\nwait\n`)])).stdout.trim();
    expect(await until(() => existsSync(pids) && readFileSync(pids, 'utf8').trim() !== '')).toBe(true);
    const child = Number(readFileSync(pids, 'utf8'));
    expect((await run('qdel', [id])).code).toBe(0);
    expect(await finished(id)).toBe(true);
    expect(
      await until(() => {
        try {
          process.kill(child, 0);
          return false;
        } catch {
          return true;
        }
      }, 10_000),
    ).toBe(true);
    const job = JSON.parse((await run('qstat', ['-f', '-F', 'json', '-x', id])).stdout).Jobs[id];
    expect(job.substate).toBe(91);
    expect(job.Exit_status).toBe(256 + 15);
  });

  it('hands out distinct ids to concurrent submissions and logs every invocation', { timeout: 240_000 }, async () => {
    const { run, script, sim, finished } = cluster('pbs', { slots: 8 });
    const s = script('n.sh', '#!/bin/sh\nexit 0\n');
    const ids = (await Promise.all(Array.from({ length: 12 }, () => run('qsub', [s])))).map((r) => r.stdout.trim());
    expect(new Set(ids).size).toBe(12);
    for (const id of ids) expect(await finished(id)).toBe(true);
    expect(sim.invocations('qsub')).toHaveLength(12);
  });

  it('fails query commands on request, without touching the jobs', { timeout: 240_000 }, async () => {
    const { run, sim } = cluster('pbs');
    sim.failQueries('cannot connect to server');
    const q = await run('qstat', ['-f', '-F', 'json', '-x']);
    expect(q.code).not.toBe(0);
    expect(q.stderr).toMatch(/cannot connect to server/);
    sim.failQueries(undefined);
    expect((await run('qstat', ['-f', '-F', 'json', '-x'])).code).toBe(0);
  });
});

describe('scheduler simulator: LSF front', () => {
  it('submits from stdin, reports DONE/EXIT in -noheader, delimiter and -json formats, and TERM_RUNLIMIT', {
    timeout: 240_000,
  }, async () => {
    const { run, dir, finished } = cluster('lsf', { minuteSeconds: 1 });
    const ok = await run(
      'bsub',
      [],
      `#!/bin/sh\n#BSUB -J ok\n#BSUB -n 2\n#BSUB -o ${dir}/%J.out\necho "$LSB_JOBID $LSB_DJOB_NUMPROC $EXA_FROM_SUBMITTER"\n`,
    );
    expect(ok.stdout).toBe('Job <1> is submitted to default queue <normal>.\n');
    const bad = await run('bsub', ['-q', 'normal'], '#!/bin/sh\nexit 4\n');
    expect(bad.stdout).toBe('Job <2> is submitted to queue <normal>.\n');
    const slow = await run('bsub', ['-W', '1'], '#!/bin/sh\nexec sleep 30\n');
    for (const id of ['1', '2', '3']) expect(await finished(id)).toBe(true);
    expect(readFileSync(path.join(dir, '1.out'), 'utf8')).toBe('1 2 yes\n');
    const text = await run('bjobs', ['-o', "jobid stat exit_code exit_reason delimiter='|'", '-noheader', '1', '2', '3']);
    expect(text.stdout.trim().split('\n')).toEqual([
      '1|DONE|-|-',
      '2|EXIT|4|-',
      `3|EXIT|143|TERM_RUNLIMIT: job killed after reaching LSF run time limit`,
    ]);
    expect(slow.code).toBe(0);
    const json = JSON.parse((await run('bjobs', ['-o', 'jobid stat exit_code', '-json', '-a', '1', '9'])).stdout);
    expect(json.RECORDS).toEqual([
      { JOBID: '1', STAT: 'DONE', EXIT_CODE: '' },
      { JOBID: '9', ERROR: 'Job <9> is not found' },
    ]);
    expect((await run('bkill', ['1'])).stderr).toMatch(/already finished/);
    expect((await run('bsub', ['-q', 'nosuch'], '#!/bin/sh\n')).stderr).toMatch(/No such queue\. Job not submitted\./);
  });
});

describe('scheduler simulator: Cobalt front', () => {
  it('refuses a script that is not executable, prints the bare id, lists in -l format and forgets finished jobs', {
    timeout: 240_000,
  }, async () => {
    const { run, script, dir, finished } = cluster('cobalt');
    const gate = path.join(dir, 'gate');
    await exec('mkfifo', [gate]);
    const plain = path.join(dir, 'plain.sh');
    writeFileSync(plain, '#!/bin/sh\n');
    expect((await run('qsub', ['-t', '1', plain])).stderr).toMatch(/not executable/);
    const s = script(
      'c.sh',
      `#!/bin/sh\n#COBALT -t 00:00:30\n#COBALT -n 1\n#COBALT --debuglog ${dir}/$jobid.cobaltlog\necho "$COBALT_JOBID"; read x < '${gate}'; exit 6\n`,
    );
    const id = (await run('qsub', [s])).stdout.trim();
    expect(id).toMatch(/^\d{6}$/);
    const long = await run('qstat', ['-l', '--header=JobId:State', id]);
    expect(long.stdout).toMatch(new RegExp(`^JobID: ${id}\\n    State : (queued|running)\\n`));
    writeFileSync(gate, 'go\n');
    expect(await finished(id)).toBe(true);
    expect(await run('qstat', [id])).toMatchObject({ code: 1, stdout: '' });
    expect(readFileSync(path.join(dir, `${id}.output`), 'utf8')).toBe(`${id}\n`);
    expect(readFileSync(path.join(dir, `${id}.cobaltlog`), 'utf8')).toMatch(/exit code of 6;/);
  });
});

describe('scheduler simulator: Flux front', () => {
  it('prints F58 ids, accepts them in any encoding, formats flux jobs fields and reports TIMEOUT', {
    timeout: 240_000,
  }, async () => {
    const { run, script, finished } = cluster('flux');
    const id = (
      await run('flux', ['batch', script('f.sh', '#!/bin/sh\n# flux: -n 2\n# flux: -t 1s\nexec sleep 30\n')])
    ).stdout.trim();
    expect(id).toMatch(/^ƒ[1-9A-HJ-NP-Za-km-z]+$/);
    expect(await finished(id)).toBe(true);
    const fmt = '{id.f58}|{state}|{result}|{returncode}|{exception.type}|{ntasks}';
    const line = (await run('flux', ['jobs', '--no-header', `--format=${fmt}`, id])).stdout.trim();
    expect(line).toBe(`${id}|INACTIVE|TIMEOUT|143|timeout|2`);
    const dec = (await run('flux', ['jobs', '-n', '--format={id.dec}', id])).stdout.trim();
    const ascii = `f${id.slice(1)}`;
    expect((await run('flux', ['jobs', '-n', '--format={id}', dec])).stdout.trim()).toBe(id);
    expect((await run('flux', ['jobs', '-n', '--format={id:>20}', ascii])).stdout).toBe(`${id.padStart(20)}\n`);
    expect((await run('flux', ['cancel', ascii])).stderr).toMatch(/inactive/);
  });
});
