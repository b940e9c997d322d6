import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { JobState, shellQuote, type Logger } from '@exaworks/jpsi-core';
import { LocalExecutor, createLocalExecutor } from './executor.js';
import { SpawnAgents, type AgentFailure, type AgentRequest } from './spawner.js';
import { cleanupDirs, makeFifo, releaseFifo, tempDir, until } from './test-support/helpers.js';

interface Outcome {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  failed?: AgentFailure;
}

const agentsMade: SpawnAgents[] = [];
function agents(options: ConstructorParameters<typeof SpawnAgents>[0] = {}): SpawnAgents {
  const a = new SpawnAgents(options);
  agentsMade.push(a);
  return a;
}
afterEach(() => {
  for (const a of agentsMade.splice(0)) a.close();
  LocalExecutor.agentOptions = {};
});
afterAll(cleanupDirs);

let seq = 0;
/** Runs one job through the agent; resolves when it has ended (or failed). */
function runJob(
  a: SpawnAgents,
  script: string,
  options: { cwd?: string; interpreter?: string; onPid?: (pid: number) => void } = {},
): Promise<Outcome> {
  const req: AgentRequest = {
    id: `t${process.pid}-${seq++}`,
    interpreter: options.interpreter ?? '/bin/sh',
    cwd: options.cwd ?? tempDir('xw-agent-'),
    script,
  };
  return new Promise((resolve, reject) => {
    let pid: number | undefined;
    const taken = a.run(req, {
      started: (p) => {
        pid = p;
        options.onPid?.(p);
      },
      exited: (code, signal) => resolve({ pid, code, signal }),
      failed: (why) => resolve({ pid, code: null, signal: null, failed: why }),
    });
    if (!taken) reject(new Error('the agent did not take the job'));
  });
}

/** Fields of /proc/<pid>/stat after the command name. */
function stat(pid: number): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

describe('spawn agent', () => {
  it('runs any script as sent, on stdin and never in argv (property: shellQuoted arbitrary strings, with or without a final newline)', async () => {
    const a = agents();
    const dir = tempDir('xw-agent-prop-');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\0', '')),
          { maxLength: 6 },
        ),
        fc.boolean(),
        async (words, trailingNewline) => {
          const out = path.join(dir, `out-${n}`);
          const argv = path.join(dir, `argv-${n++}`);
          // The job copies its own argv (no script in it: that comes on stdin), then prints the words.
          const lines = [`cat /proc/$$/cmdline >${shellQuote(argv)}`, `exec >${shellQuote(out)}`];
          for (const w of words) lines.push(`printf %s ${shellQuote(w)}`);
          const script = lines.join('\n') + (trailingNewline ? '\n' : '');
          const r = await runJob(a, script);
          expect(r.code).toBe(0);
          expect(readFileSync(out, 'utf8')).toBe(words.join(''));
          const args = readFileSync(argv, 'utf8').split('\0');
          expect(args.slice(0, 2)).toEqual(['/bin/sh', '-s']);
          expect(args[2]).toMatch(/^exaworks-job:t/);
          expect(args.slice(3)).toEqual(['']); // cmdline ends with a NUL: nothing after the name
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000); // 40 real jobs: several seconds on a loaded 2-core machine

  it('runs each job as the leader of its own process group and session (pgid == pid), without the agent', async () => {
    const a = agents();
    const hold = makeFifo(tempDir('xw-agent-hold-'));
    let pid = 0;
    // The job waits on a FIFO (sh's builtin read: no child, no exec) until the test has looked at it.
    const ended = runJob(a, `read _ < ${shellQuote(hold)}`, { onPid: (p) => (pid = p) });
    await until(() => pid > 0, 20_000, 'the agent to report the pid');
    // env and setsid exec in place right after the pid is reported: wait for the interpreter.
    await until(() => readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('/bin/sh\0-s\0'), 20_000, 'the job shell');
    const seen = [...stat(pid).slice(2, 4), String(pid)];
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const ignored = BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(status)![1]}`);
    seen.push(String(ignored & 0b110n)); // SIGINT, SIGQUIT: not ignored, as with a direct spawn
    await releaseFifo(hold);
    expect((await ended).code).toBe(0);
    const [pgid, sid, jobPid, ignoredBits] = seen;
    expect(pgid).toBe(jobPid);
    expect(sid).toBe(jobPid);
    expect(ignoredBits).toBe('0');
    expect(Number(pgid)).not.toBe(process.pid);
  });

  it('reports exit statuses 0 and 3 as codes, and a signal death as the signal', async () => {
    const a = agents();
    expect(await runJob(a, 'exit 0')).toMatchObject({ code: 0, signal: null });
    expect(await runJob(a, 'exit 3')).toMatchObject({ code: 3, signal: null });
    expect(await runJob(a, 'kill -KILL $$')).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(await runJob(a, 'kill -TERM $$', { interpreter: '/bin/bash' })).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('runs in the given working directory, and refuses one that cannot be entered without running anything', async () => {
    const a = agents();
    const dir = tempDir('xw-agent-cwd-');
    const out = path.join(dir, 'pwd');
    expect((await runJob(a, `pwd >${shellQuote(out)}`, { cwd: dir })).code).toBe(0);
    expect(readFileSync(out, 'utf8').trim()).toBe(dir);
    const r = await runJob(a, `touch ${shellQuote(path.join(dir, 'ran'))}`, { cwd: path.join(dir, 'missing') });
    expect(r.failed).toBe('nocwd');
    expect(r.pid).toBeUndefined();
  });

  it('gives jobs the environment as of their start: a changed process.env starts a fresh agent', async () => {
    const a = agents();
    const dir = tempDir('xw-agent-env-');
    const job = (f: string) => runJob(a, `printf %s "$XW_H6_VAR" >${shellQuote(path.join(dir, f))}`);
    process.env.XW_H6_VAR = 'first';
    try {
      await job('a');
      await job('b');
      process.env.XW_H6_VAR = 'second';
      await job('c');
      delete process.env.XW_H6_VAR;
      await job('d');
    } finally {
      delete process.env.XW_H6_VAR;
    }
    const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
    expect([read('a'), read('b'), read('c'), read('d')]).toEqual(['first', 'first', 'second', '']);
  });

  it('falls back when setsid is missing: unavailable, nothing run, the caller told it may spawn directly', async () => {
    const reasons: string[] = [];
    const a = agents({ setsid: 'no-such-setsid-xw', onUnavailable: (r) => reasons.push(r) });
    const dir = tempDir('xw-agent-nosetsid-');
    const r = await runJob(a, `touch ${shellQuote(path.join(dir, 'ran'))}`);
    expect(r.failed).toBe('unavailable');
    expect(a.available).toBe(false);
    expect(reasons).toEqual([expect.stringMatching(/setsid/)]);
    expect(a.run({ id: 'x', interpreter: '/bin/sh', cwd: dir, script: 'true' }, { started() {}, exited() {}, failed() {} })).toBe(
      false,
    );
  });
});

describe('local executor with the spawn agent', () => {
  const logged: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: (m) => logged.push(m),
    warn: (m) => logged.push(m),
    error: (m) => logged.push(m),
  };

  async function parentOfJob(config: Parameters<typeof createLocalExecutor>[0]): Promise<number> {
    const e = createLocalExecutor({ workDirectory: tempDir(), maxCores: 2, recover: false, logger, ...config });
    try {
      // Held on a FIFO: it must still exist when its /proc entry is read.
      const hold = makeFifo(tempDir('xw-agent-hold-'));
      const job = await e.submit({ executable: '/bin/sh', arguments: ['-c', `read _ < ${shellQuote(hold)}`] });
      await job.wait({ targetStates: [JobState.ACTIVE], timeout: 20_000 });
      const pid = job.status.metadata?.pid as number;
      const ppid = Number(stat(pid)[1]);
      await releaseFifo(hold);
      expect((await job.wait({ timeout: 20_000 }))?.state).toBe(JobState.COMPLETED);
      return ppid;
    } finally {
      await e.close();
    }
  }

  it('starts jobs through the agent by default (their parent is not Node), directly with spawnAgent: false', async () => {
    expect(await parentOfJob({})).not.toBe(process.pid);
    expect(await parentOfJob({ spawnAgent: false })).toBe(process.pid);
  });

  it('falls back to child_process.spawn when setsid is unavailable, and says so', async () => {
    // No python3 either: the exec agent would run a shell-free job without setsid.
    LocalExecutor.agentOptions = { setsid: 'no-such-setsid-xw', python: '/no/such/python3' };
    logged.length = 0;
    expect(await parentOfJob({})).toBe(process.pid);
    expect(logged).toContain('the spawn agent is not usable here; spawning jobs directly');
  });

  it('survives the death of its spawn agent: a running job is watched to its result, later jobs get a new agent', async () => {
    LocalExecutor.agentOptions = { python: '/no/such/python3' }; // the sh agent (what runs where python3 is missing)
    const e = createLocalExecutor({ workDirectory: tempDir(), maxCores: 2, recover: false, pollInterval: 50, logger });
    try {
      // Held on a FIFO: it must still run when its agent dies, and end after that.
      const hold = makeFifo(tempDir('xw-agent-hold-'));
      const job = await e.submit({ executable: '/bin/sh', arguments: ['-c', `read _ < ${shellQuote(hold)}; exit 4`] });
      await job.wait({ targetStates: [JobState.ACTIVE], timeout: 20_000 });
      // Until setsid has run, the job is still in the agent's group: wait for its own group.
      const jobPid = job.status.metadata?.pid as number;
      await until(() => stat(jobPid)[2] === String(jobPid), 20_000, 'the job to lead its own group');
      const agentPids = readdirSync('/proc').filter((p) => {
        if (!/^\d+$/.test(p)) return false;
        try {
          return (
            readFileSync(`/proc/${p}/cmdline`, 'latin1').includes('exaworks-agent') && Number(stat(Number(p))[1]) === process.pid
          );
        } catch {
          return false;
        }
      });
      expect(agentPids.length).toBeGreaterThan(0);
      // The agent and its watchers form one process group; the job is in its own session.
      for (const p of agentPids) process.kill(-Number(p), 'SIGKILL');
      expect(job.status.state).toBe(JobState.ACTIVE);
      await releaseFifo(hold);
      const status = await job.wait({ timeout: 20_000 });
      expect(status?.state).toBe(JobState.FAILED);
      expect(status?.exitCode).toBe(4);
      const next = await e.submit({ executable: '/bin/true' });
      expect((await next.wait({ timeout: 30_000 }))?.state).toBe(JobState.COMPLETED);
    } finally {
      await e.close();
    }
  });

  it('survives the death of its exec agent: a running job is watched to its end (status lost, never reported as run twice), later jobs get a new agent', async () => {
    const e = createLocalExecutor({ workDirectory: tempDir(), maxCores: 2, recover: false, pollInterval: 50, logger });
    try {
      const hold = makeFifo(tempDir('xw-exec-hold-'));
      const job = await e.submit({ executable: '/bin/sh', arguments: ['-c', `read _ < ${shellQuote(hold)}; exit 4`] });
      await job.wait({ targetStates: [JobState.ACTIVE], timeout: 20_000 });
      const jobPid = job.status.metadata?.pid as number;
      const agentPid = Number(stat(jobPid)[1]); // the exec agent is the job's parent
      expect(readFileSync(`/proc/${agentPid}/cmdline`, 'latin1')).toContain('python3');
      process.kill(agentPid, 'SIGKILL');
      await until(() => !existsSync(`/proc/${agentPid}`) || stat(agentPid)[0] === 'Z', 20_000, 'the agent to die');
      expect(job.status.state).toBe(JobState.ACTIVE);
      await releaseFifo(hold);
      // Nobody is left to collect its exit status: FAILED, and says so.
      const status = await job.wait({ timeout: 20_000 });
      expect(status?.state).toBe(JobState.FAILED);
      expect(status?.message).toMatch(/exit status was lost/);
      const next = await e.submit({ executable: '/bin/true' });
      expect((await next.wait({ timeout: 30_000 }))?.state).toBe(JobState.COMPLETED);
    } finally {
      await e.close();
    }
  });

  it('cancels a job started by the agent right after it starts (SIGTERM to the group, or to the process before setsid)', async () => {
    // A grace period far beyond what five cancels take on a loaded machine: ending sooner proves SIGTERM did it.
    const e = createLocalExecutor({ workDirectory: tempDir(), maxCores: 2, recover: false, killGracePeriod: 40_000 });
    try {
      const t0 = Date.now();
      const jobs = [];
      for (let i = 0; i < 5; i++) jobs.push(await e.submit({ executable: '/bin/sleep', arguments: ['30'] }));
      for (const j of jobs.slice(0, 2)) {
        await j.wait({ targetStates: [JobState.ACTIVE], timeout: 30_000 });
        await j.cancel();
      }
      for (const j of jobs.slice(2)) await j.cancel();
      for (const j of jobs) expect((await j.wait({ timeout: 30_000 }))?.state).toBe(JobState.CANCELED);
      expect(Date.now() - t0).toBeLessThan(35_000); // SIGTERM worked: no SIGKILL escalation was needed
    } finally {
      await e.close();
    }
  }, 60_000);
});
