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
export * from './errors.js';
export * from './state.js';
export * from './duration.js';
export * from './shell.js';
export {
  DEFAULT_DURATION_SECONDS,
  CAMEL_COUNT_FIELDS,
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
  stagingConditions,
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
export * from './psij-json.js';
export { JOB_SPEC_SCHEMA_ID, jobSpecJsonSchema, jobSpecJsonSchemaText, type JsonSchemaDocument } from './json-schema.js';
export * from './job.js';
export * from './executor.js';
export * from './launcher.js';
export * from './registry.js';
export * from './logger.js';
export * from './workdir.js';
export * from './info.js';
export { didYouMean, editDistance, formatPath, issuesFromZod, parseWith } from './validation.js';
