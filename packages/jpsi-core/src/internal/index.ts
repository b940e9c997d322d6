/**
 * `@exaworks/jpsi-core/internal`: the executor core and plumbing that SDK packages share and users
 * should not call (durable writes, the on-disk layout helper). Not covered by semver: it changes
 * with the packages that use it. It loads no zod: the CLI's read-only commands import it, and a
 * test walks their imports.
 *
 * @internal
 * @module
 */
export {
  checkPrivateDirectory,
  ensureDirectory,
  ensurePrivateDirectory,
  jobPaths,
  readJsonLines,
  writeFileAtomic,
  writeFileExclusiveSync,
  type JobPaths,
} from '../workdir.js';
// The zod-free part of the main entry (same modules, so `instanceof` works across the two entries).
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
export {
  Journal,
  JournalFollower,
  appendFully,
  readJournal,
  writeFailureReason,
  writeFully,
  type FullWriteOptions,
  type JournalContents,
  type JournalOptions,
  type JournalWriteFn,
} from './journal.js';
export {
  Poller,
  type PollAnswer,
  type PollerEntry,
  type PollerHandlers,
  type PollerOptions,
  type PollerStats,
} from './poller.js';
export { throwIfAborted } from '../errors.js';
export { formatClockDuration, formatMinutes } from '../duration.js';
export { ENV_NAME_PATTERN, envNameProblem, environmentHasBashFunctions, hasNoNul, isValidEnvName } from '../shell.js';
export { DeadlineHeap, type HeapItem } from './deadline-heap.js';
export { ResourceQueue, type ResourceQueueOptions } from './resource-queue.js';
export type { Same } from './types.js';
