/**
 * The error hierarchy shared by every `@exaworks/*` package.
 *
 * Every error has a stable {@link ExaworksErrorCode} that programs can branch on, a message a
 * person can act on, and the underlying `cause` when there is one.
 * @module
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export const ErrorCode = {
  /** Input failed validation; `issues` lists every field that is wrong. */
  VALIDATION: 'EXAWORKS_VALIDATION',
  /** No executor with that name is registered or installed. */
  UNKNOWN_EXECUTOR: 'EXAWORKS_UNKNOWN_EXECUTOR',
  /** No launcher with that name is registered or installed. */
  UNKNOWN_LAUNCHER: 'EXAWORKS_UNKNOWN_LAUNCHER',
  /** An executor does not know the native id it was given. */
  JOB_NOT_FOUND: 'EXAWORKS_JOB_NOT_FOUND',
  /** The operation is not valid for the job in its current state (e.g. submitting twice). */
  INVALID_JOB_STATE: 'EXAWORKS_INVALID_JOB_STATE',
  /** The backend refused or failed a submission. */
  SUBMIT_FAILED: 'EXAWORKS_SUBMIT_FAILED',
  /** The backend could not be reached or answered something we cannot read. */
  BACKEND: 'EXAWORKS_BACKEND',
  /** A launcher could not build or run the launch command. */
  LAUNCHER: 'EXAWORKS_LAUNCHER',
  /** The operation was aborted through an `AbortSignal`. */
  ABORTED: 'EXAWORKS_ABORTED',
  /** Persistent state (work directory) could not be read or written. */
  STORAGE: 'EXAWORKS_STORAGE',
  /**
   * A work directory is not private to its user (owned by someone else, or writable by group or
   * others), so another user could plant or change its files: refused, as ssh refuses such keys.
   */
  INSECURE_DIRECTORY: 'EXAWORKS_INSECURE_DIRECTORY',
  /** The executor was closed and can no longer be used. */
  CLOSED: 'EXAWORKS_CLOSED',
  /** Messaging: the hub does not know the topic or RPC name (it declares its topics). */
  UNKNOWN_TOPIC: 'EXAWORKS_UNKNOWN_TOPIC',
  /** Messaging: no reply arrived within the call's timeout. */
  REPLY_TIMEOUT: 'EXAWORKS_REPLY_TIMEOUT',
  /** Messaging: the client or hub was closed, so the message cannot be sent or answered. */
  CONNECTION_CLOSED: 'EXAWORKS_CONNECTION_CLOSED',
  /** Messaging: the peer refused the handshake (wrong secret or token, TLS required, …); the error says why. */
  HANDSHAKE_REFUSED: 'EXAWORKS_HANDSHAKE_REFUSED',
  /** Messaging: the hub's authorization hook refused this publish, subscribe, call or serve. */
  FORBIDDEN: 'EXAWORKS_FORBIDDEN',
  /** Messaging: a bounded queue is full and the caller asked not to wait. */
  QUEUE_FULL: 'EXAWORKS_QUEUE_FULL',
  /** Messaging: the remote RPC handler failed; the message is the handler's. */
  REMOTE_ERROR: 'EXAWORKS_REMOTE_ERROR',
  /** A secret file can be read by group or others, or a secret is missing or too short. */
  INSECURE_SECRET: 'EXAWORKS_INSECURE_SECRET',
  /** A workflow task (a job or an in-process function) failed. */
  TASK_FAILED: 'EXAWORKS_TASK_FAILED',
  /** An operation did not finish within its time limit. */
  TIMEOUT: 'EXAWORKS_TIMEOUT',
  /** A workflow cannot run as defined (e.g. its journal belongs to a different workflow). */
  WORKFLOW: 'EXAWORKS_WORKFLOW',
  /** Not an ExaworksError: an unexpected failure (a bug, or an error from a dependency), reported under this code. */
  INTERNAL: 'EXAWORKS_INTERNAL',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ExaworksErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const ERROR_BRAND = Symbol.for('@exaworks/jpsi-core/ExaworksError');

/** Options accepted by every error constructor. */
export interface ExaworksErrorOptions {
  /** The underlying error, kept for diagnosis. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by the SDK.
 *
 * `instanceof` works across duplicated copies of this package (it checks a global symbol brand).
 */
export class ExaworksError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ExaworksErrorCode;

  constructor(code: ExaworksErrorCode, message: string, options: ExaworksErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, ERROR_BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === ExaworksError) {
      return typeof value === 'object' && value !== null && ERROR_BRAND in value;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** A plain-object form for `--json` output and logs. */
  toJSON(): { name: string; code: ExaworksErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** One problem found by validation. */
export interface ValidationIssue {
  /** Dotted path of the offending field as the caller spelled it, e.g. `resources.process_count`. */
  readonly path: string;
  /** What rule was broken, in words. */
  readonly message: string;
}

/** Thrown when input (a spec, a config, a file) is invalid. Lists every offending field. */
export class ValidationError extends ExaworksError {
  /** Every problem found, one per field. */
  readonly issues: readonly ValidationIssue[];
  /** What was being validated, e.g. `job spec`. */
  readonly subject: string;

  constructor(subject: string, issues: readonly ValidationIssue[], options: ExaworksErrorOptions = {}) {
    const lines = issues.map((i) => `  - ${i.path === '' ? '(root)' : i.path}: ${i.message}`);
    super(ErrorCode.VALIDATION, `Invalid ${subject}:\n${lines.join('\n')}`, options);
    this.subject = subject;
    this.issues = issues;
  }

  override toJSON(): { name: string; code: ExaworksErrorCode; message: string; issues: readonly ValidationIssue[] } {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** Thrown by the registry when an executor name is neither registered nor installed. */
export class UnknownExecutorError extends ExaworksError {
  constructor(
    readonly executorName: string,
    readonly available: readonly string[],
    options: ExaworksErrorOptions = {},
  ) {
    super(
      ErrorCode.UNKNOWN_EXECUTOR,
      `Unknown executor "${executorName}". Available: ${available.length ? available.join(', ') : '(none)'}. ` +
        `Install @exaworks/executors-${executorName} or register it with registerExecutor().`,
      options,
    );
  }
}

/** Thrown by the registry when a launcher name is neither registered nor installed. */
export class UnknownLauncherError extends ExaworksError {
  constructor(
    readonly launcherName: string,
    readonly available: readonly string[],
    options: ExaworksErrorOptions = {},
  ) {
    super(
      ErrorCode.UNKNOWN_LAUNCHER,
      `Unknown launcher "${launcherName}". Available: ${available.length ? available.join(', ') : '(none)'}. ` +
        `Install @exaworks/launcher or register it with registerLauncher().`,
      options,
    );
  }
}

/** Thrown when an executor has no record of a native id. */
export class JobNotFoundError extends ExaworksError {
  constructor(
    readonly nativeId: string,
    readonly executorName: string,
    options: ExaworksErrorOptions = {},
  ) {
    super(ErrorCode.JOB_NOT_FOUND, `The ${executorName} executor has no job with native id "${nativeId}".`, options);
  }
}

/** Thrown when an operation does not fit the job's current state (submitting a job twice, say). */
export class InvalidJobStateError extends ExaworksError {
  constructor(message: string, options: ExaworksErrorOptions = {}) {
    super(ErrorCode.INVALID_JOB_STATE, message, options);
  }
}

/** Thrown when a backend refuses or fails a submission. */
export class SubmitError extends ExaworksError {
  constructor(message: string, options: ExaworksErrorOptions = {}) {
    super(ErrorCode.SUBMIT_FAILED, message, options);
  }
}

/** Thrown when a backend cannot be reached or its answer cannot be read. */
export class BackendError extends ExaworksError {
  constructor(message: string, options: ExaworksErrorOptions = {}) {
    super(ErrorCode.BACKEND, message, options);
  }
}

/** Thrown when a launcher cannot build or run its launch command. */
export class LauncherError extends ExaworksError {
  constructor(message: string, options: ExaworksErrorOptions = {}) {
    super(ErrorCode.LAUNCHER, message, options);
  }
}

/** Thrown when work directory state cannot be read or written. */
export class StorageError extends ExaworksError {
  constructor(message: string, options: ExaworksErrorOptions = {}) {
    super(ErrorCode.STORAGE, message, options);
  }
}

/**
 * Thrown when a work directory is not private to the current user: jobs recorded there would be
 * started, cancelled or finished as this user on the word of whoever can write it.
 */
export class InsecureDirectoryError extends ExaworksError {
  /** The directory refused (resolved). */
  readonly path: string;
  /** What is wrong with it, in words (`owned by uid 1001, not by you (uid 0)`, `writable by others (mode 1777)`). */
  readonly problem: string;

  constructor(dir: string, problem: string, options: ExaworksErrorOptions = {}) {
    super(
      ErrorCode.INSECURE_DIRECTORY,
      `Refusing to use the work directory ${dir}: it is ${problem}, so another user could plant jobs that would run as you. ` +
        'Use a directory of your own that only you can write (the default one is created with mode 0700).',
      options,
    );
    this.path = dir;
    this.problem = problem;
  }
}

/** Thrown when an operation is aborted through its `AbortSignal`. */
export class AbortedError extends ExaworksError {
  constructor(message = 'The operation was aborted.', options: ExaworksErrorOptions = {}) {
    super(ErrorCode.ABORTED, message, options);
  }
}

/** Thrown when an executor is used after `close()`. */
export class ExecutorClosedError extends ExaworksError {
  constructor(executorName: string) {
    super(ErrorCode.CLOSED, `The ${executorName} executor has been closed.`);
  }
}

/** Throws {@link AbortedError} (with the signal's reason as cause) if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
}
