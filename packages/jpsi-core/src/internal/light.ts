/**
 * The zod-free part of jpsi-core (errors, states, durations, logger, work directory defaults),
 * for code on a start-up-sensitive path such as the CLI's read-only commands: importing the main
 * entry loads zod (≈100 modules, ≈0.15 s); this loads none. Same classes and functions as the
 * main entry (same modules), so `instanceof` works across the two.
 * @module
 */
export {
  AbortedError,
  ErrorCode,
  ExaworksError,
  InsecureDirectoryError,
  JobNotFoundError,
  StorageError,
  UnknownExecutorError,
  UnknownLauncherError,
  ValidationError,
  type ExaworksErrorCode,
  type ValidationIssue,
} from '../errors.js';
export {
  JobState,
  isFinalState,
  isJobState,
  statusFromJson,
  type JobStatus,
  type JobStatusJson,
  type JobStatusReason,
} from '../state.js';
export { parseDuration } from '../duration.js';
export { createLogger, type LogLevel, type Logger } from '../logger.js';
export { defaultWorkDirectory } from '../workdir.js';
