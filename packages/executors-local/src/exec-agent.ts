/**
 * The exec agent: one long-lived python3 helper that starts shell-free jobs (a `single` launch
 * with no pre/post-launch script) with one vfork+exec each, records their starts and ends in its
 * own journal, and enforces their walltimes with one deadline heap, also after Node is gone. The
 * fast sibling of the `/bin/sh` spawn agent (spawner.ts), with the same guarantees: a job whose
 * `S` line is not in the journal never started, and a status once journaled survives Node.
 * Internal to the local executor; when python3 is not usable here it reports `unavailable` and
 * the executor uses the sh agent.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { jobSetupFailures, type JobResult } from '@exaworks/launcher/job-result';
import { processStartTime, signalName } from './proc.js';
import { AgentPool, holdNodeFor, type AgentInfo, type PooledAgent } from './agent-pool.js';
import { agentJournalLines } from './spawner.js';

export type { AgentInfo } from './agent-pool.js';

/**
 * The agent's program, run as `<python> -I -S -c <source> <journal> <failure texts>` (argv carries no job data).
 * Requests arrive on stdin as JSON lines (read in 64 KiB blocks); for every block it appends one
 * `S <id> .` line per job of the block to the journal in one write before starting any of them
 * (if that write fails it cuts the journal back to its size before and answers `norecord <id>`
 * for each: none of them runs), then per job checks the directory, opens the
 * streams and starts it with `subprocess.Popen(start_new_session, close_fds, restore_signals)`
 * (vfork on 3.11; `os.posix_spawn` would leave glibc's signals 32/33 ignored in the job). It
 * journals `P <id> <pid> <starttime> .` or, for a job that never ran, `E <id> <code> <ms> <json> .`,
 * and reaps on SIGCHLD (`set_wakeup_fd` + `select`), journaling `E <id> <status> <ms> .`
 * (128+n for signal n). Every line begins with a newline and ends with ` .`, so a torn line
 * (full disk) neither glues onto the next nor reads as complete. On stdin EOF it keeps running
 * until its jobs are reaped and their escalations done. Missing parts (Python < 3.6, no journal)
 * make it exit before `ready`.
 */
export const EXEC_AGENT_SOURCE = String.raw`
import sys
def main():
    try:
        import errno, heapq, json, os, select, signal, subprocess, time
        from stat import S_ISDIR
        if sys.version_info < (3, 6) or not hasattr(signal, 'set_wakeup_fd') or not hasattr(os, 'environb'):
            return
        jfd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        texts = json.loads(sys.argv[2])
        null = os.open('/dev/null', os.O_RDWR | os.O_CLOEXEC)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, lambda n, f: None)
        # A hangup must not end the watchdog of running jobs (a handler, unlike an ignore, is not inherited).
        signal.signal(signal.SIGHUP, lambda n, f: None)
        signal.set_wakeup_fd(wake_w)
        # Undo what Python did to its own environment (PEP 538 adds LC_CTYPE=C.UTF-8 under the
        # C locale): jobs inherit the environment the agent was started with, exactly.
        with open('/proc/self/environ', 'rb') as f:
            given = dict(e.split(b'=', 1) for e in f.read().split(b'\0') if b'=' in e)
        for k in list(os.environb):
            if k not in given:
                del os.environb[k]
        for k, v in given.items():
            if os.environb.get(k) != v:
                os.environb[k] = v
    except Exception:
        return
    base_env = dict(os.environb)
    jobs = {}      # pid -> [id, popen, grace] (+ True once canceled)
    by_id = {}     # id -> pid, while the job's leader is not reaped
    heap = []      # (when, seq, kind, id or pgid, grace)
    seq = [0]
    out_ok = [True]

    def enc(s):
        return s.encode('utf-8', 'surrogatepass')

    def write_all(fd, data):
        while data:
            n = os.write(fd, data)
            data = data[n:]

    def answer(lines):
        if out_ok[0] and lines:
            try:
                write_all(1, ''.join(lines).encode('ascii', 'backslashreplace'))
            except OSError:
                out_ok[0] = False

    def journal(lines):
        try:
            write_all(jfd, ''.join(lines).encode('ascii', 'backslashreplace'))
            return True
        except OSError:
            return False

    def now_ms():
        return str(int(time.time() * 1000))

    def push(delay, kind, what, grace):
        seq[0] += 1
        heapq.heappush(heap, (time.monotonic() + delay, seq[0], kind, what, grace))

    def killpg(pgid, sig):
        try:
            os.killpg(pgid, sig)
            return True
        except OSError:
            return False

    def start_time(pid):
        try:
            # os.open/os.read: no buffered-file fstat, ioctl and lseek per job.
            fd = os.open('/proc/%d/stat' % pid, os.O_RDONLY | os.O_CLOEXEC)
            try:
                stat = os.read(fd, 4096).decode('latin-1')
            finally:
                os.close(fd)
            return stat[stat.rindex(')') + 2:].split(' ')[19]
        except (OSError, ValueError, IndexError):
            return '0'

    def open_stream(path, cwd, flags):
        p = enc(path)
        if not p.startswith(b'/'):
            p = os.path.join(cwd, p)
        return os.open(p, flags | os.O_CLOEXEC, 0o666)

    def fail(jid, code, text, out, jl):
        t = json.dumps(text)
        jl.append('\nE %s %d %s %s .\n' % (jid, code, now_ms(), t))
        out.append('exit %s %d %s\n' % (jid, code, t))

    def said(kind, what):
        # The job script's wording (argument 2, from the launcher): one text for both ways to set a job up.
        return texts[kind].replace('\x00', what, 1)

    def start(req, out, jl):
        jid = req['id']
        cwd_text = req.get('cwd') or '.'
        cwd = enc(cwd_text)
        fds = []
        try:
            try:
                st = os.stat(cwd)
                if not S_ISDIR(st.st_mode) or not os.access(cwd, os.X_OK):
                    raise OSError(errno.ENOTDIR, 'not a directory')
            except OSError:
                return fail(jid, 1, said('directory', cwd_text), out, jl)
            streams = []
            for key, flags in (('stdin', os.O_RDONLY),
                               ('stdout', os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND),
                               ('stderr', os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND)):
                path = req.get(key)
                if path is None or path == '/dev/null':
                    streams.append(null)
                elif key == 'stderr' and path == req.get('stdout'):
                    streams.append(streams[1])
                else:
                    try:
                        fd = open_stream(path, cwd, flags)
                    except OSError:
                        return fail(jid, 1, said(key, path), out, jl)
                    fds.append(fd)
                    streams.append(fd)
            overlay = dict((enc(k), enc(v)) for k, v in req.get('env', {}).items())
            if req.get('inherit', True):
                env = None
                if overlay:
                    env = dict(base_env)
                    env.update(overlay)
            else:
                env = overlay
            argv = [enc(a) for a in req['argv']]
            try:
                p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=streams[0], stdout=streams[1], stderr=streams[2],
                                     close_fds=True, restore_signals=True, start_new_session=True)
            except OSError as e:
                if e.errno == errno.ENOENT:
                    return fail(jid, 127, said('notFound', req['argv'][0]), out, jl)
                return fail(jid, 126, 'cannot execute %s: %s' % (req['argv'][0], os.strerror(e.errno or errno.EACCES)), out, jl)
        except Exception as e:
            return fail(jid, 1, 'the exec agent could not start the job: %s' % (e,), out, jl)
        finally:
            for fd in fds:
                os.close(fd)
        pid = p.pid
        jobs[pid] = [jid, p, float(req.get('grace') or 0)]
        by_id[jid] = pid
        st = start_time(pid)
        jl.append('\nP %s %d %s .\n' % (jid, pid, st))
        out.append('pid %s %d %s\n' % (jid, pid, st))
        wall = float(req.get('walltime') or 0)
        if wall > 0:
            marker = req.get('marker')
            push(wall, 'wall', (jid, pid, enc(marker) if marker else None), jobs[pid][2])

    def batch(lines):
        reqs = []
        for line in lines:
            try:
                r = json.loads(line.decode('utf-8', 'surrogatepass'))
            except ValueError:
                continue
            if isinstance(r, dict) and (isinstance(r.get('id'), str) and isinstance(r.get('argv'), list) and r['argv'] or 'kill' in r):
                reqs.append(r)
        runs = [r for r in reqs if 'argv' in r]
        out, jl = [], []
        if runs:
            try:
                size = os.fstat(jfd).st_size
            except OSError:
                size = None
            if not journal(['\nS %s .\n' % r['id'] for r in runs]):
                # A short write left some whole S lines: cut them off, none of these jobs runs.
                if size is not None:
                    try:
                        os.ftruncate(jfd, size)
                    except OSError:
                        pass
                runs = set(id(r) for r in runs)
                answer(['norecord %s\n' % r['id'] for r in reqs if id(r) in runs])
                reqs = [r for r in reqs if id(r) not in runs]
        for r in reqs:
            if 'argv' in r:
                start(r, out, jl)
            elif 'kill' in r:
                pid = by_id.get(r['kill'])
                if pid is not None:
                    jobs[pid].append(True)  # canceled: a walltime now due is no timeout (no marker)
                    killpg(pid, signal.SIGTERM)
                    push(jobs[pid][2], 'kill', pid, 0)
        if jl:
            journal(jl)
        answer(out)

    def reap():
        out, jl = [], []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if pid == 0:
                break
            job = jobs.pop(pid, None)
            if job is None:
                continue
            code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            job[1].returncode = code  # Popen must never wait for it itself
            by_id.pop(job[0], None)
            jl.append('\nE %s %d %s .\n' % (job[0], code, now_ms()))
            out.append('exit %s %d\n' % (job[0], code))
        if jl:
            journal(jl)
        answer(out)

    def due():
        t = time.monotonic()
        while heap and heap[0][0] <= t:
            _, _, kind, what, grace = heapq.heappop(heap)
            if kind == 'wall':
                jid, pid, marker = what
                if by_id.get(jid) != pid or len(jobs[pid]) > 3:
                    continue
                if marker is not None:
                    try:
                        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
                    except OSError:
                        pass
                killpg(pid, signal.SIGTERM)
                push(grace, 'kill', pid, 0)
            else:
                killpg(what, signal.SIGKILL)

    answer(['ready\n'])
    reading = True
    buf = b''
    while reading or jobs or heap:
        timeout = None
        if heap:
            timeout = max(0.0, heap[0][0] - time.monotonic())
        fds = [wake_r, 0] if reading else [wake_r]
        try:
            ready = select.select(fds, [], [], timeout)[0]
        except InterruptedError:
            ready = []
        if wake_r in ready:
            try:
                while os.read(wake_r, 4096):
                    pass
            except OSError:
                pass
        reap()
        if reading and 0 in ready:
            try:
                chunk = os.read(0, 65536)
            except OSError:
                chunk = b''
            if not chunk:
                reading = False
                lines = []  # a request without its newline is torn (Node died writing it): never run
            else:
                buf += chunk
                lines = buf.split(b'\n')
                buf = lines.pop()
            if lines:
                batch(lines)
        due()
        if not jobs and not reading:
            # Only escalations are left: those whose group is gone are moot.
            heap = [h for h in heap if h[2] == 'kill' and killpg(h[3], 0)]
            heapq.heapify(heap)

main()
`;

/** One job for the exec agent: a program run directly, no shell. */
export interface ExecRequest {
  /** Unique per {@link ExecAgents}; printable ASCII without spaces (it travels in space-separated lines). */
  readonly id: string;
  /** The program (searched on the job's PATH when it has no slash) and its arguments. */
  readonly argv: readonly string[];
  /** The job's directory; relative stream paths are relative to it. @default process.cwd() */
  readonly cwd?: string;
  /**
   * True: `env` is an overlay on the environment as of the job's start; false: it is the whole
   * environment, as given (the caller adds what the job script would, e.g. launcher's
   * `CLEAN_ENVIRONMENT_PATH` when it sets no PATH, and PSIJ_NODEFILE).
   */
  readonly inherit: boolean;
  readonly env: Readonly<Record<string, string>>;
  /** Files of the standard streams. @default /dev/null; a stderr equal to stdout shares its descriptor (`2>&1`). */
  readonly stdin?: string;
  readonly stdout?: string;
  readonly stderr?: string;
  /** Seconds after the start at which the group gets SIGTERM (and `marker` is created). @default 0 (none) */
  readonly walltime?: number;
  /** Seconds between SIGTERM and SIGKILL, for a walltime and for {@link ExecAgents.terminate}. @default 0 */
  readonly grace?: number;
  /** Created (O_EXCL, O_NOFOLLOW, 0600) when the walltime is reached, before the SIGTERM. */
  readonly marker?: string;
}

/** Why the exec agent could not run a job. */
export type ExecFailure = 'unavailable' | 'norecord' | 'died';

/** What the caller hears about one job sent to the exec agent. */
export interface ExecJobHandlers {
  /** The job runs as process (and process group, and session) `pid`. */
  started(pid: number, startTime: string): void;
  /**
   * The job ended (`result.exitCode` 128+n when killed by signal n, then `signal` names it), or it
   * never ran because the machinery failed (`result.failure` says why: directory, stream, program).
   */
  exited(result: JobResult, signal: NodeJS.Signals | null): void;
  /**
   * `unavailable`: python3 cannot run the agent here, it read nothing, the job never ran;
   * `norecord`: its start could not be recorded (full disk, or `beforeWrite` threw), it never ran;
   * `died`: the agent ended after the request was written, the job may run or have run.
   */
  failed(reason: ExecFailure, message: string): void;
}

/** Options of {@link ExecAgents}. */
export interface ExecAgentOptions {
  /** The python3 interpreter. @default the first executable of /usr/bin/python3, /usr/libexec/platform-python, /usr/local/bin/python3 */
  readonly python?: string;
  /** Directory of the start journals (`<dir>/<tag>-<n>.exec`). @default none: /dev/null */
  readonly journalDirectory?: string;
  /** Prefix of the journal names: unique per executor. @default `exec-<pid>` */
  readonly journalTag?: string;
  /** Called once when the agent turns out to be unusable here. */
  readonly onUnavailable?: (reason: string) => void;
  /** Runs right before each batch is written; if it throws, the batch is not sent (each job: `norecord`). */
  readonly beforeWrite?: () => void;
}

/** What an exec agent's journal says about one job. */
export interface ExecJournalEntry {
  /** Its `S` line is there: it may have started (without one it never did). */
  readonly started: boolean;
  readonly pid?: number;
  readonly startTime?: string;
  /** How it ended (128+n: signal n). */
  readonly status?: number;
  /** Set when it never ran: why. */
  readonly failure?: string;
  /** When it ended, ms since the epoch. */
  readonly endedAt?: number;
}

/** Reads what an exec agent's journal says about job `id` (torn lines do not count). */
export function readExecAgentJournal(journal: string, id: string): ExecJournalEntry {
  let started = false;
  let pid: number | undefined;
  let startTime: string | undefined;
  let status: number | undefined;
  let failure: string | undefined;
  let endedAt: number | undefined;
  for (const parts of agentJournalLines(journal, id)) {
    if (parts[0] === 'S' && parts.length === 2) started = true;
    else if (parts[0] === 'P' && parts.length === 4) {
      pid = Number(parts[2]);
      startTime = parts[3];
    } else if (parts[0] === 'E' && parts.length >= 4) {
      status = Number(parts[2]);
      endedAt = Number(parts[3]);
      if (parts.length > 4) {
        try {
          failure = String(JSON.parse(parts.slice(4).join(' ')));
        } catch {
          failure = 'the job was not started';
        }
      }
    }
  }
  const out: { -readonly [K in keyof ExecJournalEntry]: ExecJournalEntry[K] } = { started };
  if (pid !== undefined) out.pid = pid;
  if (startTime !== undefined) out.startTime = startTime;
  if (status !== undefined) out.status = status;
  if (failure !== undefined) out.failure = failure;
  if (endedAt !== undefined) out.endedAt = endedAt;
  return out;
}

/** How a job ended, as its exec agent journaled it; undefined while it has not (or never started). */
export function execResult(entry: ExecJournalEntry): JobResult | undefined {
  if (entry.status === undefined) return undefined;
  return entry.failure !== undefined ? { exitCode: entry.status, failure: entry.failure } : { exitCode: entry.status };
}

/** True if the job's end was journaled no later than `cancelMtimeMs` (its exit then wins over the cancel). */
export function execEndedBefore(entry: ExecJournalEntry, cancelMtimeMs: number | undefined): boolean {
  return entry.endedAt !== undefined && cancelMtimeMs !== undefined && entry.endedAt <= cancelMtimeMs;
}

const PYTHONS = ['/usr/bin/python3', '/usr/libexec/platform-python', '/usr/local/bin/python3'];

/** The first executable default interpreter, or undefined. */
export function findPython(): string | undefined {
  for (const p of PYTHONS) {
    try {
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The job script's failure texts with a NUL where the path goes, for the agent's argv (no job data in them). */
const FAILURE_TEXTS = JSON.stringify(
  Object.fromEntries(Object.entries(jobSetupFailures).map(([kind, text]) => [kind, text('\0')])),
);

/** The agent's argv after the interpreter: its program, its journal, the failure texts. */
export function execAgentArgs(journal: string): string[] {
  return ['-I', '-S', '-c', EXEC_AGENT_SOURCE, journal, FAILURE_TEXTS];
}

// An id travels in space-separated answer and journal lines.
const ID = /^[\x21-\x7e]+$/;

function carriable(req: ExecRequest): boolean {
  if (!ID.test(req.id) || req.argv.length === 0 || req.argv[0] === '') return false;
  const nul = (s: string | undefined) => s?.includes('\0') === true;
  if (
    req.argv.some((a) => a.includes('\0')) ||
    nul(req.cwd) ||
    nul(req.stdin) ||
    nul(req.stdout) ||
    nul(req.stderr) ||
    nul(req.marker)
  ) {
    return false;
  }
  for (const [k, v] of Object.entries(req.env))
    if (k === '' || k.includes('=') || k.includes('\0') || v.includes('\0')) return false;
  return true;
}

interface Pending {
  readonly handlers: ExecJobHandlers;
  sent: boolean;
}

/** One agent process. */
class ExecAgent implements PooledAgent {
  readonly #child: ChildProcess;
  readonly #jobs = new Map<string, Pending>();
  #queue: string[] = [];
  #queuedIds: string[] = [];
  #flushScheduled = false;
  #ready = false;
  #buffer = '';
  #ended = false;
  #crashed = false;
  dead = false;
  readonly info: AgentInfo | undefined;

  get retired(): boolean {
    return this.#ended && !this.#crashed;
  }

  constructor(
    python: string,
    journal: string,
    private readonly beforeWrite: (() => void) | undefined,
    private readonly onGone: (agent: ExecAgent, wasReady: boolean) => void,
  ) {
    // detached: its own process group, out of reach of signals to Node's group; it outlives Node.
    this.#child = spawn(python, execAgentArgs(journal), {
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
    });
    const pid = this.#child.pid;
    const startTime = pid === undefined ? undefined : processStartTime(pid, { zombies: true });
    this.info = pid !== undefined && startTime !== undefined ? { pid, startTime, journal } : undefined;
    this.#child.unref();
    this.#child.on('error', () => undefined); // reported through the close of stdout
    this.#child.on('exit', () => {
      if (!this.#ended) this.#crashed = true;
      this.dead = true;
    });
    this.#child.stdin!.on('error', () => undefined);
    const out = this.#child.stdout!;
    out.setEncoding('latin1');
    out.on('data', (chunk: string) => this.#onData(chunk));
    out.on('close', () => this.#onClose());
    this.#refresh();
  }

  has(id: string): boolean {
    return this.#jobs.has(id);
  }

  /** Queues a request; every request of one event-loop turn goes out in one write. */
  send(req: ExecRequest, handlers: ExecJobHandlers): void {
    this.#jobs.set(req.id, { handlers, sent: false });
    this.#queuedIds.push(req.id);
    this.#enqueue(
      JSON.stringify({
        id: req.id,
        argv: req.argv,
        cwd: req.cwd ?? process.cwd(),
        inherit: req.inherit,
        env: req.env,
        ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
        ...(req.stdout !== undefined ? { stdout: req.stdout } : {}),
        ...(req.stderr !== undefined ? { stderr: req.stderr } : {}),
        walltime: req.walltime ?? 0,
        grace: req.grace ?? 0,
        ...(req.marker !== undefined ? { marker: path.resolve(req.marker) } : {}),
      }),
    );
    this.#refresh();
  }

  /** Queues a cancel: SIGTERM to the job's group now, SIGKILL after its grace. */
  kill(id: string): void {
    this.#enqueue(JSON.stringify({ kill: id }));
  }

  #enqueue(line: string): void {
    this.#queue.push(line);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes what is queued, in one write. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#queue.length === 0) return;
    const lines = this.#queue;
    const ids = this.#queuedIds;
    this.#queue = [];
    this.#queuedIds = [];
    if (this.#ended || this.dead) {
      // Never written, so never run: the caller may run it another way.
      this.#refuse(ids, 'unavailable', 'the exec agent ended before the request was written; the job was not run');
      return;
    }
    try {
      this.beforeWrite?.();
    } catch (err) {
      this.#refuse(ids, 'norecord', `the job's start could not be recorded (${(err as Error).message}); it was not run`);
      return;
    }
    for (const id of ids) {
      const job = this.#jobs.get(id);
      if (job) job.sent = true;
    }
    this.#child.stdin!.write(`${lines.join('\n')}\n`);
  }

  #refuse(ids: readonly string[], reason: ExecFailure, message: string): void {
    for (const id of ids) {
      const job = this.#jobs.get(id);
      if (!job) continue;
      this.#jobs.delete(id);
      job.handlers.failed(reason, message);
    }
    this.#refresh();
  }

  /** No more requests (what is queued is still sent): the agent exits once its jobs are done. */
  retire(): void {
    if (this.#ended) return;
    this.flush();
    this.#ended = true;
    this.#child.stdin!.end();
    (this.#child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  /** Stops caring: nothing of the agent keeps Node alive any more. */
  release(): void {
    this.retire();
    this.#jobs.clear();
    this.#refresh();
  }

  #refresh(): void {
    holdNodeFor(this.#child, this.#jobs.size > 0, !this.#ended);
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let start = 0;
    let i = this.#buffer.indexOf('\n');
    while (i >= 0) {
      this.#onLine(this.#buffer.slice(start, i));
      start = i + 1;
      i = this.#buffer.indexOf('\n', start);
    }
    this.#buffer = this.#buffer.slice(start);
  }

  #onLine(line: string): void {
    if (line === 'ready') {
      this.#ready = true;
      return;
    }
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    const kind = line.slice(0, a);
    const id = b < 0 ? line.slice(a + 1) : line.slice(a + 1, b);
    const job = this.#jobs.get(id);
    if (!job) return;
    const rest = b < 0 ? '' : line.slice(b + 1);
    if (kind === 'pid') {
      const [pid, startTime] = rest.split(' ');
      job.handlers.started(Number(pid), startTime ?? '');
    } else if (kind === 'exit') {
      this.#jobs.delete(id);
      this.#refresh();
      const c = rest.indexOf(' ');
      const exitCode = Number(c < 0 ? rest : rest.slice(0, c));
      if (c >= 0) {
        let failure: string;
        try {
          failure = String(JSON.parse(rest.slice(c + 1)));
        } catch {
          failure = 'the exec agent could not start the job';
        }
        job.handlers.exited({ exitCode, failure }, null);
      } else {
        job.handlers.exited({ exitCode }, exitCode > 128 ? (signalName(exitCode - 128) ?? null) : null);
      }
    } else if (kind === 'norecord') {
      this.#jobs.delete(id);
      this.#refresh();
      job.handlers.failed('norecord', 'the exec agent could not record its start (is the disk full?); it was not run');
    }
  }

  #onClose(): void {
    this.dead = true;
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    this.#queue = [];
    this.#queuedIds = [];
    this.onGone(this, this.#ready);
    for (const job of jobs) {
      // Never ready: it read no request, so nothing ran. A request never written never ran either.
      if (this.#ready && job.sent) job.handlers.failed('died', 'the exec agent ended; the job may have run');
      else if (this.#ready)
        job.handlers.failed('unavailable', 'the exec agent ended before the request was written; the job was not run');
      else job.handlers.failed('unavailable', 'the exec agent (python3) is not usable here; the job was not run');
    }
  }
}

/**
 * The exec agents of one executor: started lazily, replaced when `process.env` changes (jobs that
 * inherit get the environment as of their start), given up for good when python3 cannot run
 * the agent here (then {@link run} returns false and the caller uses the sh agent).
 */
export class ExecAgents {
  readonly #pool: AgentPool<ExecAgent>;

  constructor(options: ExecAgentOptions = {}) {
    const python = options.python ?? findPython();
    const dir = options.journalDirectory;
    const tag = options.journalTag ?? `exec-${process.pid}`;
    this.#pool = new AgentPool<ExecAgent>({
      start: (journal, gone) => new ExecAgent(python!, journal, options.beforeWrite, gone),
      journal: (n) => (dir === undefined ? undefined : path.join(dir, `${tag}-${n}.exec`)),
      reasons: {
        neverReady: 'python3 cannot run the exec agent here (missing or older than 3.6)',
        diedRepeatedly: 'the exec agent died repeatedly',
        notStarted: 'python3 could not be started',
      },
      onUnavailable: options.onUnavailable,
      // No such interpreter now means none later either.
      giveUpIfNotStarted: true,
    });
    if (python === undefined) this.#pool.giveUp('no python3 found');
  }

  /** False once the agent proved unusable here (or no python3 was found), or after close(). */
  get available(): boolean {
    return this.#pool.available;
  }

  /**
   * Queues a job for the agent. False when the agent cannot take it (unavailable, closed, or a
   * request the protocol cannot carry: an id with whitespace, a NUL byte): the caller runs it
   * another way. `beforeSend` runs synchronously once the agent is chosen, before the request is
   * queued; if it throws, nothing is queued and the error propagates.
   */
  run(req: ExecRequest, handlers: ExecJobHandlers, beforeSend?: (agent: AgentInfo) => void): boolean {
    if (!this.available || !carriable(req)) return false;
    const agent = this.#pool.current();
    if (!agent) return false;
    beforeSend?.(agent.info!);
    agent.send(req, handlers);
    return true;
  }

  /** Cancels a job sent to an agent: SIGTERM to its group now, SIGKILL after its grace. False if no agent holds it. */
  terminate(id: string): boolean {
    if (this.#pool.closed) return false;
    for (const a of this.#pool.agents) {
      if (a.has(id) && !a.dead) {
        a.kill(id);
        return true;
      }
    }
    return false;
  }

  /** Removes the journals of this executor's agents: only once every job's start and end are recorded elsewhere. */
  removeJournals(): void {
    this.#pool.removeJournals();
  }

  /** Sends what is queued and ends every agent's input; jobs keep running and their walltimes hold. */
  close(): void {
    this.#pool.close();
  }
}
