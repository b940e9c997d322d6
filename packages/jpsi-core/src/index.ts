/**
 * `@exaworks/jpsi-core`: the shared job API of the ExaWorks SDK (PSI/J).
 *
 * It holds the contracts every other package implements: the JobSpec model and its validation,
 * the nine job states and their one state machine, Job, JobExecutor and Launcher, the registry,
 * the error hierarchy, psij-python JSON, and runtime information. No processes, no sockets.
 *
 * ### Usage
 * ```ts
 * import { Job, getExecutor } from '@exaworks/jpsi-core';
 *
 * const executor = await getExecutor('local');
 * const job = await executor.submit({ executable: '/bin/echo', arguments: ['hello'] });
 * const status = await job.wait();
 * console.log(status?.state, status?.exitCode);
 * await executor.close();
 * ```
 * @module
 */
// Named exports only: this list is the package's public API. Plumbing that other SDK packages
// share (durable writes, state-machine steps, command lookup) is on `@exaworks/jpsi-core/internal`.
export {
  AbortedError,
  BackendError,
  ErrorCode,
  ExaworksError,
  ExecutorClosedError,
  InsecureDirectoryError,
  InvalidJobStateError,
  JobNotFoundError,
  LauncherError,
  StorageError,
  SubmitError,
  UnknownExecutorError,
  UnknownLauncherError,
  ValidationError,
  type ExaworksErrorCode,
  type ExaworksErrorOptions,
  type ValidationIssue,
} from './errors.js';
export {
  JOB_STATES,
  JobState,
  isFinalState,
  isJobState,
  statusFromJson,
  statusToJson,
  type JobStatus,
  type JobStatusJson,
  type JobStatusReason,
  type JobStatusUpdate,
} from './state.js';
export { MAX_DURATION_SECONDS, formatPsijDuration, parseDuration } from './duration.js';
export { shellJoin, shellQuote } from './shell.js';
export {
  DEFAULT_DURATION_SECONDS,
  MAX_ARG_STRLEN,
  MAX_PROCESS_COUNT,
  CUSTOM_ATTRIBUTE_KEY,
  JobAttributesSchema,
  JobSpecSchema,
  ResourceSpecSchema,
  StageOutFlag,
  StagingMode,
  createJobSpec,
  customAttributesFor,
  deriveCounts,
  ignoredAttributes,
  ignoredAttributesWarning,
  isJobSpec,
  jobSpecToInput,
  stagingApplies,
  type CountFieldNames,
  type CustomAttributeValue,
  type DerivedCounts,
  type HonouredAttributes,
  type StandardAttribute,
  type JobAttributes,
  type JobAttributesInput,
  type JobSpec,
  type JobSpecInput,
  type ResourceCounts,
  type ResourceSpec,
  type ResourceSpecInput,
  type StageIn,
  type StageInInput,
  type StageOut,
  type StageOutInput,
  type StagingConditions,
} from './spec.js';
export {
  PsijJobSpecSchema,
  jobSpecFromDocument,
  jobSpecFromPsijJson,
  jobSpecToPsijJson,
  psijDerivedResources,
  specDocumentForm,
  type PsijAttributesJson,
  type PsijDerivedResources,
  type PsijJobSpecDocument,
  type PsijJobSpecJson,
  type PsijResourcesJson,
  type SpecDocumentForm,
} from './psij-json.js';
export { JOB_SPEC_SCHEMA_ID, jobSpecJsonSchema, jobSpecJsonSchemaText, type JsonSchemaDocument } from './json-schema.js';
export { Job, type JobOptions, type JobStatusListener, type WaitOptions } from './job.js';
export {
  BaseJobExecutor,
  JobExecutorConfigSchema,
  type JobExecutor,
  type JobExecutorConfig,
  type SubmitOptions,
} from './executor.js';
export type {
  ExecutorProvider,
  LaunchCommand,
  LaunchContext,
  Launcher,
  LauncherProvider,
} from './launcher.js';
export {
  getExecutor,
  getLauncher,
  listExecutors,
  listLaunchers,
  registerExecutor,
  registerLauncher,
  type ExecutorConfigFor,
  type ExecutorConfigs,
} from './registry.js';
export { createLogger, silentLogger, type CreateLoggerOptions, type LogFields, type LogLevel, type Logger } from './logger.js';
export { defaultWorkDirectory } from './workdir.js';
export { VERSION, getRuntimeInfo, type RuntimeInfo } from './info.js';
export { formatPath, issuesFromZod, parseWith } from './validation.js';
