/**
 * Starting a job's process, and hearing when it ends. Three ways, fastest first: a shell-free job
 * (`single` launcher, no pre/post-launch script) goes to the python3 exec agent (exec-agent.ts);
 * any other job's script goes to the `/bin/sh` spawn agent (spawner.ts); where neither can work,
 * or for a script run from a file, Node spawns the script itself. Each way records a spawn marker
 * before anything can start, so an adopter knows whom to ask whether the job ran.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { JobSpec, LaunchCommand, Logger } from '@exaworks/jpsi-core';
import { StorageError, writeFileExclusiveSync } from '@exaworks/jpsi-core/internal';
import { CLEAN_ENVIRONMENT_PATH, jobScriptFor, type JobResult } from '@exaworks/launcher';
import type { LocalExecutorConfig } from './config.js';
import { ExecAgents, execResult, readExecAgentJournal, type ExecRequest } from './exec-agent.js';
import { findProcessRunning, isAlive } from './proc.js';
import { processName } from './recovery.js';
import { SpawnAgents, readAgentJournal, type AgentInfo } from './spawner.js';
import type { JobStore, LocalJobPaths, SpawnMarker } from './store.js';
import type { Tracked } from './tracked.js';

// A script up to this size fits in an empty pipe (Linux's default capacity) in one write, so the
// job's shell gets all of it even if this process dies right after: longer scripts run from a file.
const PIPE_CAPACITY = 65536;

/**
 * Writes a job's script to a new file private to its user (0600), replacing whatever was at its
 * path without following it (an adopted job's script from a dead owner).
 */
function writePrivateFile(file: string, data: string): void {
  rmSync(file, { force: true });
  if (!writeFileExclusiveSync(file, data, { mode: 0o600 })) {
    throw new StorageError(`Could not create ${file}: something else created it at the same time.`);
  }
}

/** The interpreter of a job script, from its #! line. */
function interpreterOf(script: string): string {
  return script.startsWith('#!') ? script.slice(2, script.indexOf('\n')).trim() : '/bin/sh';
}

const noop = (): void => undefined;

/** The message of an error, for status messages. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What {@link JobProcesses} tells its executor, and asks of it. */
export interface JobProcessHost {
  readonly config: LocalExecutorConfig;
  readonly logger: Logger;
  /** True once the executor is closed: an agent's late answers are no longer its to record. */
  readonly closed: boolean;
  /** The job runs as process (and process group) `pid`. */
  started(t: Tracked, pid: number, startTime?: string): void;
  /** The job's process ended; `result` when its exec agent says how (otherwise its result file does). */
  exited(t: Tracked, exit: { code: number | null; signal: NodeJS.Signals | null }, result?: JobResult): void;
  /** The job never ran, for this reason: it ends FAILED. */
  notStarted(t: Tracked, message: string): void;
  /** Its end will not be heard (its agent died while it runs): watch its process. */
  watch(t: Tracked): void;
  /** Its agent died and it is nowhere: finish it from what is left (its end is lost). */
  lost(t: Tracked): void;
}

/** Test hooks: the tools the agents of executors created from now on use. */
export interface AgentToolOptions {
  /** The `setsid` command (a missing one forces direct spawns). */
  readonly setsid?: string;
  /** The `env` command. */
  readonly env?: string;
  /** The python3 of the exec agent (a missing one forces the sh agent). */
  readonly python?: string;
}

/** The process side of one local executor: its agents and the jobs handed to them. */
export class JobProcesses {
  readonly #host: JobProcessHost;
  readonly #store: JobStore;
  readonly #ownerId: string;
  readonly #agentOptions: AgentToolOptions;
  #agents: SpawnAgents | undefined;
  #exec: ExecAgents | undefined;
  /** Jobs handed to an agent whose pid has not come back yet: close() waits for them. */
  readonly awaitingPid = new Set<Tracked>();
  /** True once a started job's ACTIVE line could not be written: its agent's start journal must stay. */
  keepJournals = false;

  constructor(host: JobProcessHost, store: JobStore, ownerId: string, agentOptions: AgentToolOptions) {
    this.#host = host;
    this.#store = store;
    this.#ownerId = ownerId;
    this.#agentOptions = agentOptions;
  }

  /** Starts a job whose start claim is on disk and whose cancel check passed. */
  start(t: Tracked, paths: LocalJobPaths): void {
    let viaExec: boolean;
    try {
      viaExec = t.script === undefined && this.#spawnViaExec(t, paths);
    } catch (err) {
      // Its spawn marker could not be queued: nothing was sent, so it never ran.
      this.#host.notStarted(t, `Could not start the job: ${reason(err)}`);
      return;
    }
    if (!viaExec) this.#spawnScript(t, paths);
  }

  /** Asks the exec agent to end the job (SIGTERM now, SIGKILL after the grace period, also once we are gone). */
  terminate(t: Tracked): void {
    if (t.viaExec) this.#exec?.terminate(t.id);
  }

  /** Ends the agents' input (their jobs run on) and removes the journals nobody will need. */
  close(tracked: Iterable<Tracked>): void {
    this.#agents?.close();
    this.#exec?.close();
    // Every job sent to the sh agents has its ACTIVE line: their start journals are not needed any more.
    if (this.awaitingPid.size === 0 && !this.keepJournals) this.#agents?.removeJournals();
    // The exec agents' journals hold the ends of the jobs they still run: kept until none runs.
    if (this.awaitingPid.size === 0 && ![...tracked].some((t) => t.execAgent !== undefined)) this.#exec?.removeJournals();
  }

  /** The job script of job `id` (no default stdout/stderr files: /dev/null, as psij-python; the CLI names `<id>.out`/`.err`). */
  scriptFor(id: string, spec: JobSpec, launch: LaunchCommand, nodeFile: string): string {
    const paths = this.#store.paths(id);
    // The job keeps its own walltime (and the SIGKILL after a SIGTERM), executor or not.
    const deadline = {
      seconds: spec.attributes.duration,
      graceSeconds: this.#host.config.killGracePeriod / 1000,
      marker: paths.walltime,
    };
    return jobScriptFor(spec, launch, { resultFile: paths.exitCode, nodeFile, deadline, exclusiveResult: true });
  }

  /** Starts the job's script: through the sh spawn agent, else directly from Node. */
  #spawnScript(t: Tracked, paths: LocalJobPaths): void {
    let script: string;
    try {
      script = t.script ?? this.scriptFor(t.id, t.spec, t.launch!, t.nodeFile!);
    } catch (err) {
      this.#host.notStarted(t, `Could not prepare the job script: ${reason(err)}`);
      return;
    }
    t.script = undefined;
    // No script file: `sh -s <name>` reads the script from a pipe, which costs no file creation
    // and keeps it (and the environment in it) out of argv; <name> lets recovery find the process
    // in /proc. A script too long for one pipe write runs from a private file.
    const name = processName(t.id);
    const interpreter = interpreterOf(script);
    let args = ['-s', name];
    let input: string | undefined = script;
    let cwd: string;
    try {
      let viaFile = false;
      if (this.#host.config.keepFiles || Buffer.byteLength(script) >= PIPE_CAPACITY) {
        writePrivateFile(paths.script, script);
        t.scriptFile = true;
        if (!this.#host.config.keepFiles) {
          args = [paths.script, name];
          input = undefined;
          viaFile = true;
        }
      }
      // An absolute spec.directory does not depend on the submitter's directory still existing.
      cwd = t.spec.directory !== undefined && path.isAbsolute(t.spec.directory) ? paths.dir : t.cwd;
      if (!viaFile && this.#spawnViaAgent(t, { id: t.id, interpreter, cwd, script })) return;
    } catch (err) {
      this.#host.notStarted(t, `Could not start the job script: ${reason(err)}`);
      return;
    }
    this.#spawnDirect(t, interpreter, args, cwd, input);
  }

  /**
   * True if the job needs no shell: the `single` launcher and no pre/post-launch script. The exec
   * agent runs such a job as one vfork+exec (no script, no result file); `keepFiles` wants a script.
   */
  execEligible(spec: JobSpec): boolean {
    return (
      this.#host.config.spawnAgent &&
      !this.#host.config.keepFiles &&
      (spec.launcher ?? 'single') === 'single' &&
      spec.preLaunch === undefined &&
      spec.postLaunch === undefined
    );
  }

  /** What the job script would set up, as an exec agent request: program, directory, environment, streams, walltime. */
  #execRequest(t: Tracked, paths: LocalJobPaths): ExecRequest {
    const spec = t.spec;
    const launch = t.launch!;
    // As the job script: launcher variables first, then the spec's, then the node file.
    const env: Record<string, string> = { ...launch.env, ...spec.environment };
    if (t.nodeFile !== undefined) env.PSIJ_NODEFILE = t.nodeFile;
    if (!spec.inheritEnvironment && env.PATH === undefined) env.PATH = CLEAN_ENVIRONMENT_PATH;
    return {
      id: t.id,
      argv: launch.argv,
      cwd: path.resolve(t.cwd, spec.directory ?? '.'),
      inherit: spec.inheritEnvironment,
      env,
      ...(spec.stdinPath !== undefined ? { stdin: spec.stdinPath } : {}),
      ...(spec.stdoutPath !== undefined ? { stdout: spec.stdoutPath } : {}),
      ...(spec.stderrPath !== undefined ? { stderr: spec.stderrPath } : {}),
      walltime: spec.attributes.duration,
      grace: this.#host.config.killGracePeriod / 1000,
      marker: paths.walltime,
    };
  }

  /**
   * Hands a shell-free job to the exec agent (python3). Its spawn marker is queued with the
   * agent's name and written (with the whole turn's batch) before the request reaches the agent.
   * False when the agent cannot take it: the caller starts the job's script instead.
   */
  #spawnViaExec(t: Tracked, paths: LocalJobPaths): boolean {
    if (!this.#host.config.spawnAgent || this.#host.closed) return false;
    this.#exec ??= new ExecAgents({
      ...(this.#agentOptions.python !== undefined ? { python: this.#agentOptions.python } : {}),
      journalDirectory: this.#store.agentsDirectory,
      journalTag: this.#ownerId,
      onUnavailable: (why) =>
        this.#host.logger.info('the exec agent is not usable here; jobs run through their scripts', { reason: why }),
      beforeWrite: () => this.#store.flush(),
    });
    if (!this.#exec.available) return false;
    const req = this.#execRequest(t, paths);
    this.awaitingPid.add(t);
    let sent = false;
    try {
      sent = this.#exec.run(
        req,
        {
          started: (pid, startTime) => {
            const handedOver = this.awaitingPid.delete(t);
            if (this.#host.closed && !handedOver) return; // no longer ours: an adopter finds it in the agent's journal
            t.viaExec = true;
            this.#host.started(t, pid, startTime);
          },
          exited: (result, signal) => {
            this.awaitingPid.delete(t);
            t.viaExec = false;
            if (this.#host.closed) return; // no longer ours: an adopter reads the end in the agent's journal
            this.#host.exited(t, { code: signal ? null : result.exitCode, signal }, result);
          },
          failed: (why, message) => {
            this.awaitingPid.delete(t);
            t.viaExec = false;
            if (this.#host.closed) return;
            if (why === 'unavailable') {
              // It read no request: the job never ran; its script runs it instead.
              t.execAgent = undefined;
              this.#spawnScript(t, paths);
              return;
            }
            if (why === 'norecord') {
              this.#host.notStarted(t, `Could not start the job: ${message}`);
              return;
            }
            this.#host.logger.warn('the exec agent died while it ran a job; checking its journal', { nativeId: t.id });
            void this.#afterExecAgentDied(t, paths);
          },
        },
        (agent) => {
          t.execAgent = agent;
          this.#store.enqueue(t.id, [{ spawn: 'exec', agent }]);
        },
      );
    } finally {
      if (!sent) this.awaitingPid.delete(t);
    }
    if (!sent) t.execAgent = undefined;
    return sent;
  }

  /** The exec agent died with the job sent: its journal says whether the job started and how it ended. */
  async #afterExecAgentDied(t: Tracked, paths: LocalJobPaths): Promise<void> {
    const entry = readExecAgentJournal(t.execAgent!.journal, t.id);
    if (!entry.started) {
      // Never started, and the agent that could have is gone: start it here, once.
      t.execAgent = undefined;
      this.#spawnScript(t, paths);
      return;
    }
    if (entry.status !== undefined) {
      this.#host.exited(t, { code: entry.status, signal: null }, execResult(entry));
      return;
    }
    if (entry.pid !== undefined && entry.startTime !== undefined && isAlive({ pid: entry.pid, startTime: entry.startTime })) {
      if (t.pid === undefined) this.#host.started(t, entry.pid, entry.startTime);
      this.#host.watch(t); // its end is unknown now (nobody reaps it for us): the poll sees it go
      return;
    }
    this.#host.lost(t);
  }

  /** Spawns directly from Node (the fallback of the spawn agent, and for scripts run from a file). */
  #spawnDirect(t: Tracked, interpreter: string, args: string[], cwd: string, input?: string): void {
    let child: ChildProcess;
    try {
      // Recorded whole before the fork: without it an adopter knows the job never started.
      const marker: SpawnMarker = { spawn: 'direct' };
      this.#store.append(t.id, [marker]);
      // node:child_process rather than execa: we need a detached group leader with no pipes but
      // the script's (stdin, ended at once) and no kill-on-parent-exit cleanup.
      child = spawn(interpreter, args, {
        cwd,
        detached: true,
        stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'],
      });
      if (input !== undefined) {
        child.stdin!.on('error', noop); // EPIPE: the shell ended before reading it all (its exit says how)
        child.stdin!.end(input);
      }
    } catch (err) {
      this.#host.notStarted(t, `Could not start the job script: ${reason(err)}`);
      return;
    }
    if (child.pid === undefined) {
      child.once('error', (err) => {
        this.#host.notStarted(t, `Could not start the job script: ${reason(err)}`);
      });
      return;
    }
    child.once('error', (err) => this.#host.logger.warn('job process error', { nativeId: t.id, error: reason(err) }));
    child.once('exit', (code, signal) => this.#host.exited(t, { code, signal }));
    t.child = child;
    this.#host.started(t, child.pid);
  }

  /**
   * Hands the job to the spawn agent, which forks it from a small shell instead of this (large)
   * Node process. False when the agent cannot take it: the caller spawns directly.
   */
  #spawnViaAgent(t: Tracked, req: { id: string; interpreter: string; cwd: string; script: string }): boolean {
    if (!this.#host.config.spawnAgent || this.#host.closed) return false;
    this.#agents ??= new SpawnAgents({
      ...this.#agentOptions,
      journalDirectory: this.#store.agentsDirectory,
      journalTag: this.#ownerId,
      onUnavailable: (why) =>
        this.#host.logger.info('the spawn agent is not usable here; spawning jobs directly', { reason: why }),
    });
    this.awaitingPid.add(t);
    let agentInfo: AgentInfo | undefined;
    // Which agent may start it, recorded whole before a byte of the request is sent: an adopter
    // asks that agent's start journal instead of guessing (see AGENT_SCRIPT).
    const beforeSend = (agent: AgentInfo): void => {
      this.#store.append(t.id, [{ spawn: 'agent', agent }]);
    };
    let sent: boolean;
    try {
      sent = this.#agents.run(
        req,
        {
          started: (pid) => {
            const handedOver = this.awaitingPid.delete(t);
            if (this.#host.closed && !handedOver) return; // no longer ours: an adopter finds it in /proc by its name
            t.viaAgent = true;
            this.#host.started(t, pid);
          },
          exited: (code, signal) => {
            this.awaitingPid.delete(t);
            t.viaAgent = false;
            this.#host.exited(t, { code, signal });
          },
          failed: (why, message) => {
            this.awaitingPid.delete(t);
            if (this.#host.closed) return;
            t.viaAgent = false;
            if (why === 'nocwd' || why === 'norecord') {
              this.#host.notStarted(t, `Could not start the job script: ${message} (${req.cwd})`);
              return;
            }
            if (why === 'unavailable') {
              // The agent read no request: the job never ran, so it can be spawned directly.
              this.#spawnDirect(t, req.interpreter, ['-s', processName(t.id)], req.cwd, req.script);
              return;
            }
            this.#host.logger.warn('the spawn agent died while it ran a job; checking the process', { nativeId: t.id });
            if (t.pid === undefined) {
              const identity = findProcessRunning(processName(t.id));
              if (identity) this.#host.started(t, identity.pid);
              else if (agentInfo && !readAgentJournal(agentInfo.journal, t.id).started) {
                // The agent is gone and never recorded it: it never started, so start it here, once.
                this.#spawnDirect(t, req.interpreter, ['-s', processName(t.id)], req.cwd, req.script);
                return;
              }
            }
            // Like an adopted running job: the shared poll timer sees it end, the result file says how.
            if (t.pid !== undefined) {
              this.#host.watch(t);
            } else {
              this.#host.lost(t);
            }
          },
        },
        (agent) => {
          agentInfo = agent;
          beforeSend(agent);
        },
      );
    } catch (err) {
      this.awaitingPid.delete(t);
      throw err;
    }
    if (!sent) this.awaitingPid.delete(t);
    return sent;
  }
}
