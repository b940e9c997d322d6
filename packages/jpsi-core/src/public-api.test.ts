/**
 * The package's public runtime surface, spelled out: adding or removing a name must be a deliberate edit
 * here (and a changeset), never a side effect of an `export *`. Plumbing belongs on `/internal`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';
import * as internal from './internal/index.js';

const PUBLIC_NAMES = [
  'AbortedError',
  'BackendError',
  'BaseJobExecutor',
  'CUSTOM_ATTRIBUTE_KEY',
  'DEFAULT_DURATION_SECONDS',
  'ErrorCode',
  'ExaworksError',
  'ExecutorClosedError',
  'InsecureDirectoryError',
  'InvalidJobStateError',
  'JOB_SPEC_SCHEMA_ID',
  'JOB_STATES',
  'Job',
  'JobAttributesSchema',
  'JobExecutorConfigSchema',
  'JobNotFoundError',
  'JobSpecSchema',
  'JobState',
  'LauncherError',
  'MAX_ARG_STRLEN',
  'MAX_DURATION_SECONDS',
  'MAX_PROCESS_COUNT',
  'PsijJobSpecSchema',
  'ResourceSpecSchema',
  'StageOutFlag',
  'StagingMode',
  'StorageError',
  'SubmitError',
  'UnknownExecutorError',
  'UnknownLauncherError',
  'VERSION',
  'ValidationError',
  'createJobSpec',
  'createLogger',
  'customAttributesFor',
  'defaultWorkDirectory',
  'deriveCounts',
  'formatPath',
  'formatPsijDuration',
  'getExecutor',
  'getLauncher',
  'getRuntimeInfo',
  'ignoredAttributes',
  'ignoredAttributesWarning',
  'isFinalState',
  'isJobSpec',
  'isJobState',
  'issuesFromZod',
  'jobSpecFromDocument',
  'jobSpecFromPsijJson',
  'jobSpecJsonSchema',
  'jobSpecJsonSchemaText',
  'jobSpecToInput',
  'jobSpecToPsijJson',
  'listExecutors',
  'listLaunchers',
  'parseDuration',
  'parseWith',
  'psijDerivedResources',
  'registerExecutor',
  'registerLauncher',
  'shellJoin',
  'shellQuote',
  'silentLogger',
  'specDocumentForm',
  'stagingApplies',
  'statusFromJson',
  'statusToJson',
];

// Durable-write and layout helpers: what an SDK executor needs and a user never calls.
const INTERNAL_ONLY = [
  'jobPaths',
  'readJsonLines',
  'writeFileAtomic',
  'writeFileExclusiveSync',
  'ensureDirectory',
  'Journal',
  'Poller',
];

describe('public API of @exaworks/jpsi-core', () => {
  it('exports exactly the curated runtime names', () => {
    expect(Object.keys(api).sort()).toEqual([...PUBLIC_NAMES].sort());
  });

  it('keeps the plumbing on /internal only', () => {
    for (const name of INTERNAL_ONLY) {
      expect(Object.keys(internal)).toContain(name);
      expect(Object.keys(api)).not.toContain(name);
    }
  });

  it('has no `export *` in its entry points', () => {
    for (const file of ['./index.ts', './internal/index.ts']) {
      expect(readFileSync(new URL(file, import.meta.url), 'utf8')).not.toMatch(/export \* from/);
    }
  });
});
