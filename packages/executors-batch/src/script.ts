/**
 * The submit script: scheduler directives, then stage-in, the job script from
 * `@exaworks/launcher`, stage-out and cleanup under PSI/J's flags, the job's states appended to a
 * state file, its exit code written to an exit-code file, and an exit with the job's own code.
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createJobSpec,
  customAttributesFor,
  getLauncher,
  jobSpecToInput,
  shellQuote,
  SubmitError,
  type JobSpec,
  type StagingConditions,
} from '@exaworks/jpsi-core';
import { jobScriptFor } from '@exaworks/launcher';
import type { SchedulerAdapter } from './scheduler.js';

/** Files of one job in the executor's work directory, all named `<key>.<kind>`. */
export interface BatchJobFiles {
  /** The submit script handed to the scheduler. */
  readonly submitScript: string;
  /** The job script (from `@exaworks/launcher`'s `jobScriptFor`) the submit script runs. */
  readonly jobScript: string;
  /** Written by the job script: its exit code and any machinery failure. */
  readonly jobResult: string;
  /** Appended by the submit script: one `<STATE> <epoch seconds>` line per state it enters. */
  readonly stateFile: string;
  /** Written by the submit script as its last act: the job's exit code, then an optional failure line. */
  readonly exitCodeFile: string;
  /** Created by `cancel()` before it asks the scheduler, so the script knows a TERM means cancel. */
  readonly cancelMarker: string;
  /** The host list the job sees as `PSIJ_NODEFILE`. */
  readonly nodeFile: string;
  /** The batch script's own stdout/stderr (the scheduler writes it; the job's go elsewhere). */
  readonly schedulerOutput: string;
  /**
   * The job's record written before it is submitted; renamed to `<nativeId>.job` once the
   * scheduler answered. One left behind marks a submission whose answer a crash lost.
   */
  readonly intent: string;
}

/** The layout of a job's files by key. */
export function batchJobFiles(workDirectory: string, key: string): BatchJobFiles {
  const base = path.join(path.resolve(workDirectory), key);
  return {
    submitScript: `${base}.submit`,
    jobScript: `${base}.run`,
    jobResult: `${base}.result`,
    stateFile: `${base}.state`,
    exitCodeFile: `${base}.ec`,
    cancelMarker: `${base}.cancel`,
    nodeFile: `${base}.nodes`,
    schedulerOutput: `${base}.sched`,
    intent: `${base}.intent`,
  };
}

/** A bare path or `file://` URI as an absolute local path. */
function localPath(location: string, base: string): string {
  return path.resolve(base, location.startsWith('file://') ? fileURLToPath(location) : location);
}

/** The name the scheduler shows: letters, digits, `.`, `_`, `-` (others become `_`), at most 64 characters. */
export function schedulerJobName(name: string): string {
  const safe = name
    .replace(/^.*\//, '')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 64);
  return safe === '' ? 'job' : safe;
}

/** `${prefix} ${body}` for each body; a body with a line break could start a new shell line, so it is refused. */
function directiveLines(adapter: SchedulerAdapter, bodies: readonly string[]): string[] {
  return bodies.map((body) => {
    if (/[\r\n\0]/.test(body)) {
      throw new SubmitError(`A ${adapter.name} directive cannot contain a line break: ${JSON.stringify(body)}.`);
    }
    return `${adapter.directivePrefix} ${body}`;
  });
}

/** The directive lines of a spec: derived ones, then custom attributes with the adapter's prefix. */
export function directivesFor(
  adapter: SchedulerAdapter,
  spec: JobSpec,
  files: Pick<BatchJobFiles, 'schedulerOutput'>,
  workDirectory: string,
): string[] {
  const bodies = adapter.directives({
    spec,
    jobName: schedulerJobName(spec.name),
    walltimeSeconds: Math.max(1, Math.ceil(spec.attributes.duration)),
    schedulerOutput: files.schedulerOutput,
    workDirectory,
  });
  for (const [key, value] of Object.entries(customAttributesFor(spec.attributes, adapter.name))) {
    bodies.push(adapter.customDirective(key, value));
  }
  return directiveLines(adapter, bodies);
}

const flagWord = (w: StagingConditions): string =>
  [w.ifPresent ? 'P' : '', w.onSuccess ? 'S' : '', w.onError ? 'E' : '', w.onCancel ? 'C' : ''].join('') || '-';

// Constant helper functions of every submit script (no input is interpolated here).
const HELPERS = String.raw`_xw_state() { printf '%s %s\n' "$1" "$EPOCHSECONDS" >>"$_xw_statefile"; }
_xw_end() {
  trap - TERM INT HUP
  if [ -n "$2" ]; then printf '%s\n%s\n' "$1" "$2"; else printf '%s\n' "$1"; fi >"$_xw_ecfile"
  exit "$1"
}
# _xw_xfer MODE SOURCE TARGET: copy, move or link one file or directory (GNU -T: TARGET is the name itself).
_xw_xfer() {
  mkdir -p -- "$(dirname -- "$3")" || return 1
  case "$1" in
    COPY) cp -RfT -- "$2" "$3" ;;
    MOVE) mv -fT -- "$2" "$3" ;;
    LINK) rm -rf -- "$3" && ln -s -- "$2" "$3" ;;
  esac
}
# _xw_applies FLAGS: do these stage-out/cleanup conditions (P S E C) hold for the outcome?
_xw_applies() {
  case "$_xw_outcome" in
    success) case "$1" in *S*) return 0 ;; esac ;;
    error) case "$1" in *E*) return 0 ;; esac ;;
    cancel) case "$1" in *C*) return 0 ;; esac ;;
  esac
  return 1
}
# _xw_out MODE FLAGS SOURCE TARGET: one stage-out entry; a missing source fails the job unless P.
_xw_out() {
  _xw_applies "$2" || return 0
  if [ ! -e "$3" ] && [ ! -L "$3" ]; then
    case "$2" in *P*) return 0 ;; esac
    [ -n "$_xw_failure" ] || _xw_failure="stage-out source $3 does not exist"
    return 1
  fi
  _xw_xfer "$1" "$3" "$4" 2>/dev/null || { [ -n "$_xw_failure" ] || _xw_failure="stage-out of $3 to $4 ($1) failed"; return 1; }
}
# A signal (cancel, walltime, preemption) is recorded, so the executor waits for the scheduler's word on why.
_xw_on_signal() { [ -n "$_xw_signaled" ] || _xw_state SIGNALED; _xw_signaled=1; [ -z "$_xw_child" ] || kill -TERM "$_xw_child" 2>/dev/null; }
`;

/**
 * The line that starts the job script in the background: embedded (`<shell> -s`, the script on
 * stdin from the `printf` builtin: never `-c <script>`, as argv is readable by every user of the
 * node and the script holds the job's environment) or from its file.
 */
function runJob(o: SubmitScriptInput): string[] {
  if (o.jobScript === undefined) return [`${shellQuote(o.files.jobScript)} </dev/null &`];
  const shell = /^#!(\S+)/.exec(o.jobScript)?.[1] ?? '/bin/sh';
  return [
    `_xw_jobscript=${shellQuote(o.jobScript)}`,
    `printf '%s\\n' "$_xw_jobscript" | ${shellQuote(shell)} -s ${shellQuote(schedulerJobName(o.spec.name))} &`,
  ];
}

/** Inputs of {@link submitScriptFor}. */
export interface SubmitScriptInput {
  readonly adapter: SchedulerAdapter;
  readonly spec: JobSpec;
  readonly files: BatchJobFiles;
  /** The executor's work directory (for relative paths and the scheduler's cwd). */
  readonly workDirectory: string;
  /** The job's directory: the spec's, or the submitter's current directory. */
  readonly jobDirectory: string;
  /** The submitter's current directory (relative stage-in sources and stage-out targets). */
  readonly cwd: string;
  /**
   * The job script's text, to embed in the submit script (one file fewer per job). Without it the
   * submit script runs the file {@link BatchJobFiles.jobScript}.
   */
  readonly jobScript?: string;
}

// Embedded job scripts travel as one `sh -c` argument; Linux caps one argv string at 128 KiB.
const MAX_EMBEDDED = 100 * 1024;

/**
 * The submit script for a spec. Every word from the spec is quoted with jpsi-core's `shellQuote`;
 * directive bodies with line breaks are refused.
 *
 * Outcome: the job's own exit code, unless stage-in failed (1, the job not run) or a stage-out
 * without IF_PRESENT failed (1 if the job had succeeded). The script exits with that code, so the
 * scheduler's accounting agrees with the executor.
 *
 * @throws {@link @exaworks/jpsi-core!SubmitError} for a directive with a line break.
 */
export function submitScriptFor(o: SubmitScriptInput): string {
  const { adapter, spec, files } = o;
  const q = shellQuote;
  const lines: string[] = ['#!/bin/bash', ...directivesFor(adapter, spec, files, o.workDirectory)];
  lines.push(
    `# Submit script generated by @exaworks/executors-batch (${adapter.name}) for: ${spec.name.replace(/[\r\n]+/g, ' ')}`,
    `_xw_statefile=${q(files.stateFile)}`,
    `_xw_ecfile=${q(files.exitCodeFile)}`,
    `_xw_nodefile=${q(files.nodeFile)}`,
    '_xw_outcome=error',
    '_xw_failure=',
    '_xw_signaled=',
    '_xw_child=',
    HELPERS,
    "trap '_xw_on_signal' TERM INT HUP",
    // The job's own id, so an executor that lost the submit answer (a crash) can still find it.
    `printf 'ID %s\\n' "\${${adapter.environment.jobId}:-}" >>"$_xw_statefile"`,
    '_xw_state STAGE_IN',
  );
  for (const s of spec.stageIn) {
    const src = localPath(s.source, o.cwd);
    const dst = localPath(s.target, o.jobDirectory);
    lines.push(
      `_xw_xfer ${s.mode} ${q(src)} ${q(dst)} 2>/dev/null || _xw_end 1 ${q(`stage-in of ${src} to ${dst} (${s.mode}) failed; the job was not run`)}`,
    );
  }
  // Node file: the scheduler's own, else the adapter's lines, else this host.
  const env = adapter.environment;
  const nodeLines: string[] = [];
  if (env.nodeFile) {
    nodeLines.push(
      `if [ -n "\${${env.nodeFile}:-}" ] && [ -r "\${${env.nodeFile}}" ]; then cp -- "\${${env.nodeFile}}" "$_xw_nodefile"; fi`,
    );
  }
  if (env.nodeFileScript) nodeLines.push('if [ ! -s "$_xw_nodefile" ]; then', env.nodeFileScript, 'fi');
  nodeLines.push('[ -s "$_xw_nodefile" ] || echo "$HOSTNAME" >"$_xw_nodefile"');
  lines.push(...nodeLines);
  lines.push(
    '_xw_state ACTIVE',
    // In the background, so that a TERM (cancel, walltime) reaches the trap at once.
    ...runJob(o),
    '_xw_child=$!',
    'wait "$_xw_child"; _xw_rc=$?',
    // wait returns early when a trapped signal arrives: wait again for the real status.
    'while kill -0 "$_xw_child" 2>/dev/null; do wait "$_xw_child"; _xw_rc=$?; done',
    '_xw_child=',
    // Builtins only (no head/sed processes): line 1 the exit code, line 2 a machinery failure.
    `if [ -r ${q(files.jobResult)} ]; then { read -r _xw_rc; read -r _xw_failure; } <${q(files.jobResult)}; fi`,
    `case "$_xw_rc" in '' | *[!0-9]*) _xw_rc=1 ;; esac`,
    `if [ -e ${q(files.cancelMarker)} ]; then _xw_outcome=cancel; elif [ -z "$_xw_signaled" ] && [ "$_xw_rc" = 0 ]; then _xw_outcome=success; fi`,
    '_xw_state STAGE_OUT',
    '_xw_ok=0',
  );
  for (const s of spec.stageOut) {
    const src = localPath(s.source, o.jobDirectory);
    const dst = localPath(s.target, o.cwd);
    lines.push(`_xw_out ${s.mode} ${flagWord(s.when)} ${q(src)} ${q(dst)} || _xw_ok=1`);
  }
  lines.push('_xw_state CLEANUP');
  if (spec.cleanup.length > 0) {
    lines.push(`if _xw_applies ${flagWord(spec.cleanupWhen)}; then`);
    for (const c of spec.cleanup) {
      const p = localPath(c, o.jobDirectory);
      // Never remove the job directory itself or anything outside it.
      if (p === o.jobDirectory || !p.startsWith(`${o.jobDirectory}${path.sep}`)) {
        throw new SubmitError(`Cleanup path ${c} is not inside the job directory ${o.jobDirectory}.`);
      }
      lines.push(`  rm -rf -- ${q(p)}`);
    }
    lines.push('fi');
  }
  lines.push('if [ "$_xw_ok" != 0 ] && [ "$_xw_rc" = 0 ]; then _xw_rc=1; fi', '_xw_end "$_xw_rc" "$_xw_failure"', '');
  return lines.join('\n');
}

/** The two scripts of a job, from {@link prepareScripts}. */
export interface PreparedScripts {
  /** The launcher's job script (runs the launch command in the job directory, records its result). */
  readonly jobScript: string;
  /** The submit script handed to the scheduler (runs the job script, embedded when it is small enough). */
  readonly submitScript: string;
  /** True when the job script is too long to embed: write it to {@link BatchJobFiles.jobScript} too. */
  readonly jobScriptFile: boolean;
  /** The job's directory: the spec's, resolved against `cwd`, or `cwd`. */
  readonly jobDirectory: string;
}

/**
 * Both scripts of a spec: the job script from the spec's launcher (`@exaworks/launcher`'s
 * `jobScriptFor`, run in the job directory) and the submit script around it.
 */
export async function prepareScripts(
  adapter: SchedulerAdapter,
  spec: JobSpec,
  files: BatchJobFiles,
  options: { workDirectory: string; cwd: string; signal?: AbortSignal },
): Promise<PreparedScripts> {
  const jobDirectory = path.resolve(options.cwd, spec.directory ?? '.');
  // The job script always changes to the job directory, so the scheduler's own cwd does not matter.
  const runSpec = createJobSpec({ ...jobSpecToInput(spec), directory: jobDirectory });
  const launcher = await getLauncher(spec.launcher ?? 'single');
  const launch = await launcher.launchCommand(runSpec, {
    nodeFile: files.nodeFile,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  // No stdout/stderr files unless the spec names them (psij-python's default, as the local executor).
  const jobScript = jobScriptFor(runSpec, launch, { resultFile: files.jobResult, nodeFile: files.nodeFile });
  const jobScriptFile = Buffer.byteLength(jobScript) > MAX_EMBEDDED;
  const submitScript = submitScriptFor({
    adapter,
    spec: runSpec,
    files,
    workDirectory: options.workDirectory,
    jobDirectory,
    cwd: options.cwd,
    ...(jobScriptFile ? {} : { jobScript }),
  });
  return { jobScript, submitScript, jobDirectory, jobScriptFile };
}
