// The exec agent with real python3 and real processes: every job is held (FIFO, long sleep) and
// ended by the test, never raced against the clock; every process started is killed afterwards.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { JobResult } from '@exaworks/launcher/job-result';
import {
  EXEC_AGENT_SOURCE,
  execAgentArgs,
  type AgentInfo,
  type ExecAgentOptions,
  ExecAgents,
  type ExecFailure,
  type ExecRequest,
  findPython,
  readExecAgentJournal,
} from './exec-agent.js';
import { groupExists, signalGroup } from './proc.js';
import { cleanupDirs, makeFifo, releaseFifo, tempDir, until } from './test-support/helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const isRoot = process.getuid?.() === 0;
const open: ExecAgents[] = [];
const groups = new Set<number>();
const agentPids = new Set<number>();
const mounts: string[] = [];

afterEach(async () => {
  for (const a of open.splice(0)) a.close();
  for (const g of groups) signalGroup(g, 'SIGKILL');
  // The agents exit by themselves once their input is closed and their jobs are gone.
  await until(() => [...groups].every((g) => !groupExists(g)), 20_000, 'job groups gone');
  await until(() => [...agentPids].every((p) => !groupExists(p)), 20_000, 'agents gone');
  groups.clear();
  agentPids.clear();
});

afterAll(() => {
  for (const m of mounts.splice(0)) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // already gone
    }
  }
  cleanupDirs();
});

function agents(options: ExecAgentOptions = {}): ExecAgents {
  const a = new ExecAgents(options);
  open.push(a);
  return a;
}

interface Outcome {
  result?: JobResult;
  signal?: NodeJS.Signals | null;
  failed?: { reason: ExecFailure; message: string };
}

/** One job sent; `started` and `done` resolve with what the handlers heard. */
function submit(a: ExecAgents, req: Partial<ExecRequest> & Pick<ExecRequest, 'id' | 'argv'>) {
  let agent: AgentInfo | undefined;
  let onStart: (v: { pid: number; startTime: string }) => void = () => undefined;
  let onDone: (o: Outcome) => void = () => undefined;
  const started = new Promise<{ pid: number; startTime: string }>((r) => (onStart = r));
  const done = new Promise<Outcome>((r) => (onDone = r));
  const sent = a.run(
    { inherit: true, env: {}, ...req },
    {
      started(pid, startTime) {
        groups.add(pid);
        onStart({ pid, startTime });
      },
      exited(result, signal) {
        onDone({ result, signal });
      },
      failed(reason, message) {
        onDone({ failed: { reason, message } });
      },
    },
    (info) => {
      agent = info;
      agentPids.add(info.pid);
    },
  );
  return { sent, started, done, agent: () => agent };
}

const sh = (script: string, ...args: string[]) => ['/bin/sh', '-c', script, 'job', ...args];

describe.skipIf(findPython() === undefined && process.env.CI === undefined)('ExecAgents (real python3)', () => {
  it('reports exit codes, and 128+n with the signal name for a job killed by a signal', async () => {
    const a = agents();
    const seven = submit(a, { id: 'seven', argv: sh('exit 7') });
    const term = submit(a, { id: 'term', argv: sh('kill -TERM $$') });
    expect(seven.sent && term.sent).toBe(true);
    expect(await seven.done).toEqual({ result: { exitCode: 7 }, signal: null });
    expect(await term.done).toEqual({ result: { exitCode: 143 }, signal: 'SIGTERM' });
  }, 30_000);

  it('inherits, overlays or replaces the environment, and a changed process.env gets a new agent', async () => {
    const dir = tempDir('xw-exec-');
    process.env.XW_EXEC_OUTER = 'outer';
    try {
      const a = agents();
      const out = (n: string) => path.join(dir, n);
      const inherit = submit(a, { id: 'inh', argv: ['/usr/bin/env'], stdout: out('inh'), env: { XW_A: '1' } });
      const override = submit(a, { id: 'ovr', argv: ['/usr/bin/env'], stdout: out('ovr'), env: { XW_EXEC_OUTER: 'inner' } });
      const clean = submit(a, { id: 'cln', argv: ['/usr/bin/env'], stdout: out('cln'), inherit: false, env: { XW_A: '1' } });
      for (const j of [inherit, override, clean]) expect((await j.done).result).toEqual({ exitCode: 0 });
      const inh = readFileSync(out('inh'), 'utf8').split('\n');
      expect(inh).toContain('XW_EXEC_OUTER=outer');
      expect(inh).toContain('XW_A=1');
      expect(inh).toContain(`PATH=${process.env.PATH}`);
      expect(readFileSync(out('ovr'), 'utf8').split('\n')).toContain('XW_EXEC_OUTER=inner');
      expect(readFileSync(out('cln'), 'utf8')).toBe('XW_A=1\n');

      process.env.XW_EXEC_OUTER = 'changed';
      const later = submit(a, { id: 'later', argv: ['/usr/bin/env'], stdout: out('later') });
      expect((await later.done).result).toEqual({ exitCode: 0 });
      expect(readFileSync(out('later'), 'utf8').split('\n')).toContain('XW_EXEC_OUTER=changed');
      expect(later.agent()!.pid).not.toBe(inherit.agent()!.pid);

      // Under the C locale python3 adds LC_CTYPE=C.UTF-8 to its own environment: never to a job's.
      const saved = { LANG: process.env.LANG, LC_ALL: process.env.LC_ALL, LC_CTYPE: process.env.LC_CTYPE };
      delete process.env.LANG;
      delete process.env.LC_ALL;
      delete process.env.LC_CTYPE;
      try {
        const c = submit(a, { id: 'clocale', argv: ['/usr/bin/env'], stdout: out('clocale') });
        expect((await c.done).result).toEqual({ exitCode: 0 });
        const lines = readFileSync(out('clocale'), 'utf8').split('\n');
        expect(lines.filter((l) => /^(LANG|LC_ALL|LC_CTYPE)=/.test(l))).toEqual([]);
        expect(lines).toContain('XW_EXEC_OUTER=changed');
      } finally {
        for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
      }
    } finally {
      delete process.env.XW_EXEC_OUTER;
    }
  }, 30_000);

  it("keeps a secret's value out of the agent's and the job's command lines", async () => {
    const dir = tempDir('xw-exec-');
    const fifo = makeFifo(dir);
    const secret = 'xw-secret-value-4f1d9c';
    const a = agents();
    const job = submit(a, { id: 'secret', argv: sh('read _ < "$1"', fifo), env: { API_TOKEN: secret } });
    const { pid } = await job.started;
    const agentPid = job.agent()!.pid;
    expect(readFileSync(`/proc/${pid}/environ`, 'latin1')).toContain(`API_TOKEN=${secret}`); // it did get it
    expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1')).not.toContain(secret);
    expect(readFileSync(`/proc/${agentPid}/cmdline`, 'latin1')).not.toContain(secret);
    expect(readFileSync(`/proc/${agentPid}/environ`, 'latin1')).not.toContain(secret);
    await releaseFifo(fifo);
    expect((await job.done).result).toEqual({ exitCode: 0 });
  }, 30_000);

  it('reports a missing directory, unreadable or unwritable streams, 127 and 126 with their texts', async () => {
    const dir = tempDir('xw-exec-');
    const plain = path.join(dir, 'plain');
    writeFileSync(plain, 'not a program\n');
    chmodSync(plain, 0o644);
    const a = agents();
    const cases: [Partial<ExecRequest> & Pick<ExecRequest, 'id' | 'argv'>, number, string | RegExp][] = [
      [
        { id: 'nodir', argv: ['/bin/true'], cwd: path.join(dir, 'gone') },
        1,
        `job directory does not exist or is not accessible: ${dir}/gone`,
      ],
      [
        { id: 'nostdin', argv: ['/bin/true'], cwd: dir, stdin: 'missing.txt' },
        1,
        "cannot read the job's stdin file: missing.txt",
      ],
      [
        { id: 'nostdout', argv: ['/bin/true'], cwd: dir, stdout: 'no/such/out' },
        1,
        "cannot write the job's stdout file: no/such/out",
      ],
      [
        { id: 'nostderr', argv: ['/bin/true'], cwd: dir, stderr: 'no/such/err' },
        1,
        "cannot write the job's stderr file: no/such/err",
      ],
      [{ id: 'notfound', argv: ['xw-no-such-program-here'] }, 127, 'program not found: xw-no-such-program-here'],
      [{ id: 'noexec', argv: [plain] }, 126, new RegExp(`^cannot execute ${plain}: Permission denied$`)],
    ];
    const jobs = cases.map(([req]) => submit(a, req));
    for (const [i, job] of jobs.entries()) {
      const [, code, text] = cases[i]!;
      const o = await job.done;
      expect(o.signal).toBeNull();
      expect(o.result!.exitCode).toBe(code);
      if (typeof text === 'string') expect(o.result!.failure).toBe(text);
      else expect(o.result!.failure).toMatch(text);
    }
  }, 30_000);

  it('truncates stdout/stderr, shares one descriptor for 2>&1 in order, reads stdin, and resolves relative paths in cwd', async () => {
    const dir = tempDir('xw-exec-');
    writeFileSync(path.join(dir, 'both'), 'old content that must go away\n');
    writeFileSync(path.join(dir, 'in.txt'), 'from stdin\n');
    const a = agents();
    const both = submit(a, {
      id: 'both',
      argv: sh('echo out1; echo err1 >&2; echo out2; cat'),
      cwd: dir,
      stdin: 'in.txt',
      stdout: 'both',
      stderr: 'both',
    });
    const split = submit(a, {
      id: 'split',
      argv: sh('echo out; echo err >&2'),
      cwd: dir,
      stdout: path.join(dir, 'o'),
      stderr: 'e',
    });
    expect((await both.done).result).toEqual({ exitCode: 0 });
    expect((await split.done).result).toEqual({ exitCode: 0 });
    expect(readFileSync(path.join(dir, 'both'), 'utf8')).toBe('out1\nerr1\nout2\nfrom stdin\n');
    expect(readFileSync(path.join(dir, 'o'), 'utf8')).toBe('out\n');
    expect(readFileSync(path.join(dir, 'e'), 'utf8')).toBe('err\n');
  }, 30_000);

  it('starts a job with no ignored or blocked signals (SIGINT and SIGPIPE default)', async () => {
    const dir = tempDir('xw-exec-');
    const a = agents();
    const job = submit(a, {
      id: 'sigs',
      argv: ['/bin/grep', '-E', '^Sig(Ign|Blk):', '/proc/self/status'],
      stdout: path.join(dir, 's'),
    });
    expect((await job.done).result).toEqual({ exitCode: 0 });
    expect(readFileSync(path.join(dir, 's'), 'utf8')).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  }, 30_000);

  it('journals S, P and E lines that read back, ignoring torn ones', async () => {
    const dir = tempDir('xw-exec-');
    const a = agents({ journalDirectory: dir, journalTag: 't' });
    const ok = submit(a, { id: 'ok', argv: sh('exit 3') });
    const bad = submit(a, { id: 'bad', argv: ['/bin/true'], cwd: path.join(dir, 'gone') });
    const { pid, startTime } = await ok.started;
    expect((await ok.done).result).toEqual({ exitCode: 3 });
    await bad.done;
    const journal = ok.agent()!.journal;
    expect(journal).toBe(path.join(dir, 't-0.exec'));
    const entry = readExecAgentJournal(journal, 'ok');
    expect(entry).toMatchObject({ started: true, pid, startTime, status: 3 });
    expect(entry.endedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(readExecAgentJournal(journal, 'bad')).toMatchObject({
      started: true,
      status: 1,
      failure: `job directory does not exist or is not accessible: ${dir}/gone`,
    });
    expect(readExecAgentJournal(journal, 'never')).toEqual({ started: false });
    const torn = path.join(dir, 'torn');
    writeFileSync(torn, '\nS x .\n\nP x 12 34 .\n\nE x 1');
    expect(readExecAgentJournal(torn, 'x')).toEqual({ started: true, pid: 12, startTime: '34' });
    writeFileSync(torn, '\nS y\n\nS y2 .\n');
    expect(readExecAgentJournal(torn, 'y')).toEqual({ started: false });
    a.removeJournals();
    expect(existsSync(journal)).toBe(false);
  }, 30_000);

  it('enforces the walltime after close(): marker created, group killed, E line journaled', async () => {
    const dir = tempDir('xw-exec-');
    const marker = path.join(dir, 'timed-out');
    const a = agents({ journalDirectory: dir });
    // A background child in the group too: the whole group goes.
    const job = submit(a, { id: 'wall', argv: sh('sleep 1000 & sleep 1000'), walltime: 1, grace: 1, marker });
    const { pid } = await job.started;
    const journal = job.agent()!.journal;
    a.close();
    await until(() => existsSync(marker), 20_000, 'marker');
    await until(() => !groupExists(pid), 20_000, 'group gone');
    await until(() => readExecAgentJournal(journal, 'wall').status === 143, 20_000, 'E line');
    expect(statSync(marker).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('keeps one deadline heap: the earliest walltime fires first, a later one is untouched', async () => {
    const dir = tempDir('xw-exec-');
    const a = agents();
    const late = submit(a, { id: 'late', argv: ['/bin/sleep', '1000'], walltime: 600, grace: 1, marker: path.join(dir, 'late') });
    const early = submit(a, {
      id: 'early',
      argv: ['/bin/sleep', '1000'],
      walltime: 1,
      grace: 1,
      marker: path.join(dir, 'early'),
    });
    const { pid } = await late.started;
    expect(await early.done).toEqual({ result: { exitCode: 143 }, signal: 'SIGTERM' });
    expect(existsSync(path.join(dir, 'early'))).toBe(true);
    expect(existsSync(path.join(dir, 'late'))).toBe(false);
    expect(groupExists(pid)).toBe(true);
    expect(a.terminate('late')).toBe(true);
    expect(await late.done).toEqual({ result: { exitCode: 143 }, signal: 'SIGTERM' });
    expect(existsSync(path.join(dir, 'late'))).toBe(false); // a cancel is no timeout
  }, 60_000);

  it('never follows a symlink planted at the walltime marker, and still kills the job', async () => {
    const dir = tempDir('xw-exec-');
    const victim = path.join(dir, 'victim');
    const marker = path.join(dir, 'marker');
    symlinkSync(victim, marker);
    const a = agents({ journalDirectory: dir });
    const job = submit(a, { id: 'planted', argv: ['/bin/sleep', '1000'], walltime: 1, grace: 1, marker });
    const { pid } = await job.started;
    expect(await job.done).toEqual({ result: { exitCode: 143 }, signal: 'SIGTERM' });
    expect(groupExists(pid)).toBe(false);
    expect(existsSync(victim)).toBe(false);
    expect(lstatSync(marker).isSymbolicLink()).toBe(true);
  }, 60_000);

  it('terminate() escalates to SIGKILL for a job that ignores SIGTERM, also when close() follows at once', async () => {
    const dir = tempDir('xw-exec-');
    const ready = path.join(dir, 'ready');
    const a = agents({ journalDirectory: dir });
    const job = submit(a, { id: 'stubborn', argv: sh(`trap '' TERM; : > "$1"; sleep 1000`, ready), grace: 1 });
    const { pid } = await job.started;
    await until(() => existsSync(ready), 20_000, 'trap installed');
    expect(a.terminate('stubborn')).toBe(true);
    expect(a.terminate('unknown')).toBe(false);
    const journal = job.agent()!.journal;
    a.close();
    expect(a.terminate('stubborn')).toBe(false);
    await until(() => !groupExists(pid), 20_000, 'group killed');
    await until(() => readExecAgentJournal(journal, 'stubborn').status === 137, 20_000, 'E line');
  }, 60_000);

  it('outlives Node: with its stdout gone (EPIPE) it still reaps and journals every job, then exits', async () => {
    const dir = tempDir('xw-exec-');
    const [hold1, hold2] = [makeFifo(dir, 'h1'), makeFifo(dir, 'h2')];
    const script = path.join(dir, 'owner.mts');
    writeFileSync(
      script,
      `import { ExecAgents } from ${JSON.stringify(path.join(here, 'exec-agent.ts'))};
const a = new ExecAgents({ journalDirectory: ${JSON.stringify(dir)} });
let info;
const pids = [];
for (const [id, fifo] of [['one', ${JSON.stringify(hold1)}], ['two', ${JSON.stringify(hold2)}]]) {
  a.run({ id, argv: ['/bin/sh', '-c', 'read _ < "$0"', fifo], inherit: true, env: {} }, {
    started(pid) { pids.push(pid); if (pids.length === 2) { console.log(JSON.stringify({ agent: info, pids })); process.exit(0); } },
    exited() {}, failed(r, m) { console.log(JSON.stringify({ failed: r + ': ' + m })); process.exit(1); },
  }, (i) => { info = i; });
}
`,
    );
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    const { agent, pids } = JSON.parse(out.trim().split('\n').pop()!) as { agent: AgentInfo; pids: number[] };
    agentPids.add(agent.pid);
    for (const p of pids) groups.add(p);
    expect(groupExists(agent.pid)).toBe(true);
    await releaseFifo(hold1);
    await until(() => readExecAgentJournal(agent.journal, 'one').status === 0, 20_000, 'first E line');
    await releaseFifo(hold2); // its answer would go to a closed pipe: the agent must still be there
    await until(() => readExecAgentJournal(agent.journal, 'two').status === 0, 20_000, 'second E line');
    await until(() => !groupExists(agent.pid), 20_000, 'agent exits');
  }, 60_000);

  it('never runs a request torn by the death of its writer (no final newline)', async () => {
    const dir = tempDir('xw-exec-');
    const ran = path.join(dir, 'ran');
    const journal = path.join(dir, 'j');
    const whole = JSON.stringify({ id: 'whole', argv: sh(': > "$1.whole"', ran), cwd: dir, inherit: true, env: {} });
    const torn = JSON.stringify({ id: 'torn', argv: sh(': > "$1.torn"', ran), cwd: dir, inherit: true, env: {} });
    const out = execFileSync(findPython()!, execAgentArgs(journal), {
      input: `${whole}\n${torn}`,
      encoding: 'latin1',
      timeout: 20_000,
    });
    expect(out).toMatch(/^ready\npid whole \d+ \d+\nexit whole 0\n$/);
    expect(existsSync(`${ran}.whole`)).toBe(true);
    expect(existsSync(`${ran}.torn`)).toBe(false);
    expect(readExecAgentJournal(journal, 'torn')).toEqual({ started: false });
  }, 30_000);

  it('is written in Python 3.6 syntax (RHEL 8 platform-python)', () => {
    const python = findPython()!;
    const check = 'import ast, sys; ast.parse(sys.stdin.read(), feature_version=(3, 6)); print("ok")';
    expect(execFileSync(python, ['-I', '-S', '-c', check], { input: EXEC_AGENT_SOURCE, encoding: 'utf8' })).toBe('ok\n');
  });

  it('reports died for running jobs when the agent is SIGKILLed', async () => {
    const a = agents();
    const job = submit(a, { id: 'orphan', argv: ['/bin/sleep', '1000'] });
    const { pid } = await job.started;
    process.kill(job.agent()!.pid, 'SIGKILL');
    expect((await job.done).failed?.reason).toBe('died');
    expect(groupExists(pid)).toBe(true); // the job itself is in its own session: it runs on
  }, 30_000);

  it('is unavailable when python is missing or cannot run the agent, and nothing runs', async () => {
    const reasons: string[] = [];
    const missing = agents({ python: '/nonexistent/python3', onUnavailable: (r) => reasons.push(r) });
    expect(submit(missing, { id: 'm', argv: ['/bin/true'] }).sent).toBe(false);
    expect(missing.available).toBe(false);
    expect(reasons).toHaveLength(1);

    const unusable = agents({ python: '/bin/false', onUnavailable: (r) => reasons.push(r) });
    const job = submit(unusable, { id: 'u', argv: ['/bin/true'] });
    expect(job.sent).toBe(true);
    expect((await job.done).failed?.reason).toBe('unavailable');
    expect(unusable.available).toBe(false);
    expect(reasons).toHaveLength(2);
    expect(submit(unusable, { id: 'u2', argv: ['/bin/true'] }).sent).toBe(false);
  }, 30_000);

  it('fails a batch as norecord when beforeWrite throws, and sends the next one', async () => {
    let fail = true;
    const a = agents({
      beforeWrite: () => {
        if (fail) throw new Error('journal full');
      },
    });
    const first = submit(a, { id: 'f1', argv: ['/bin/true'] });
    const second = submit(a, { id: 'f2', argv: ['/bin/true'] });
    expect((await first.done).failed).toEqual({ reason: 'norecord', message: expect.stringContaining('journal full') });
    expect((await second.done).failed?.reason).toBe('norecord');
    fail = false;
    expect((await submit(a, { id: 'f3', argv: ['/bin/true'] }).done).result).toEqual({ exitCode: 0 });
  }, 30_000);

  it('runs 1,000 requests of one turn exactly once, written in one batch', async () => {
    const dir = tempDir('xw-exec-');
    const count = path.join(dir, 'count');
    let writes = 0;
    const a = agents({ beforeWrite: () => writes++ });
    const jobs = Array.from({ length: 1000 }, (_, i) =>
      submit(a, { id: `n${i}`, argv: sh('echo "$1" >> "$2"', `n${i}`, count) }),
    );
    expect(jobs.every((j) => j.sent)).toBe(true);
    const outcomes = await Promise.all(jobs.map((j) => j.done));
    expect(writes).toBe(1);
    expect(outcomes.filter((o) => o.result?.exitCode !== 0)).toEqual([]);
    const lines = readFileSync(count, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(new Set(lines).size).toBe(1000);
  }, 120_000);

  it('reads its requests in blocks, not byte by byte', async () => {
    const a = agents();
    const warm = submit(a, { id: 'warm', argv: ['/bin/true'] });
    await warm.done;
    // Read syscalls of the agent (and of its reaped jobs, which the kernel adds in).
    const io = () => Number(/^syscr: (\d+)$/m.exec(readFileSync(`/proc/${warm.agent()!.pid}/io`, 'latin1'))![1]);
    const batch = async (tag: string, padding: string): Promise<number> => {
      const before = io();
      const jobs = Array.from({ length: 200 }, (_, i) => submit(a, { id: `${tag}${i}`, argv: ['/bin/true', padding] }));
      for (const o of await Promise.all(jobs.map((j) => j.done))) expect(o.result).toEqual({ exitCode: 0 });
      return io() - before;
    };
    const small = await batch('s', '');
    const large = await batch('l', 'x'.repeat(1000)); // 200 KB more to read: byte by byte, 200,000 more reads
    expect(large - small).toBeLessThan(2000);
  }, 60_000);

  describe.skipIf(!isRoot && process.env.CI === undefined)('on a full disk (real tmpfs)', () => {
    /** A fresh 64 KiB tmpfs (root only), unmounted after the file. */
    function tmpfs(): string {
      const dir = tempDir('xw-exec-tmpfs-');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir]);
      mounts.push(dir);
      return dir;
    }

    /** Fills the file system of `dir` to the last byte; returns the filler's path. */
    function fill(dir: string): string {
      const filler = path.join(dir, 'filler');
      const fd = openSync(filler, 'a');
      try {
        for (;;) {
          try {
            if (writeSync(fd, Buffer.alloc(4096, 1)) < 4096) break;
          } catch {
            break;
          }
        }
      } finally {
        closeSync(fd);
      }
      return filler;
    }

    it('answers norecord and starts nothing when the S lines cannot be written, then works again', async () => {
      const dir = tmpfs();
      const filler = fill(dir);
      const ran = path.join(tempDir('xw-exec-'), 'ran');
      const a = agents({ journalDirectory: dir });
      const job = submit(a, { id: 'full', argv: sh(': > "$1"', ran) });
      expect((await job.done).failed?.reason).toBe('norecord');
      expect(existsSync(ran)).toBe(false);
      expect(readExecAgentJournal(job.agent()!.journal, 'full')).toEqual({ started: false });
      execFileSync('truncate', ['-s', '0', filler]);
      const again = submit(a, { id: 'again', argv: sh(': > "$1"', ran) });
      expect((await again.done).result).toEqual({ exitCode: 0 });
      expect(existsSync(ran)).toBe(true);
      expect(again.agent()!.pid).toBe(job.agent()!.pid);
    }, 30_000);

    it('after a short write of S lines, no job answered norecord is in the journal or has run', async () => {
      const dir = tmpfs();
      const filler = fill(dir);
      execFileSync('truncate', ['-s', String(statSync(filler).size - 4096), filler]); // one page free
      const ran = path.join(tempDir('xw-exec-'), 'ran');
      const a = agents({ journalDirectory: dir });
      const first = submit(a, { id: 'first', argv: ['/bin/true'] });
      expect((await first.done).result).toEqual({ exitCode: 0 }); // the journal holds that page now
      fill(dir);
      const journal = first.agent()!.journal;
      const sizeBefore = statSync(journal).size;
      // ~9 KiB of S lines: more than what is left of the journal's page.
      const ids = Array.from({ length: 200 }, (_, i) => `job-with-a-rather-long-identifier-${String(i).padStart(4, '0')}`);
      const jobs = ids.map((id) => submit(a, { id, argv: sh('echo "$1" >> "$2"', id, ran) }));
      const outcomes = await Promise.all(jobs.map((j) => j.done));
      const ranIds = new Set(existsSync(ran) ? readFileSync(ran, 'utf8').trim().split('\n') : []);
      const refused = ids.filter((_, i) => outcomes[i]!.failed?.reason === 'norecord');
      expect(refused.length).toBeGreaterThan(0);
      for (const [i, id] of ids.entries()) {
        const entry = readExecAgentJournal(journal, id);
        if (outcomes[i]!.failed) {
          expect(outcomes[i]!.failed!.reason).toBe('norecord');
          expect(entry.started).toBe(false);
          expect(ranIds.has(id)).toBe(false);
        } else {
          expect(entry.started).toBe(true);
          expect(ranIds.has(id)).toBe(true);
        }
      }
      if (refused.length === ids.length) expect(statSync(journal).size).toBe(sizeBefore);
    }, 60_000);
  });
});
