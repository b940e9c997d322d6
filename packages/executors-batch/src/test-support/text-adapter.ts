/**
 * A scheduler adapter for script-generation tests only: its directives are plain text (`#XW`),
 * and its commands are never run. Scripts made with it are run directly with bash.
 */
import { JobState, type CustomAttributeValue } from '@exaworks/jpsi-core';
import type { DirectiveContext, SchedulerAdapter } from '../scheduler.js';

export const textAdapter: SchedulerAdapter = {
  name: 'xw',
  directivePrefix: '#XW',
  environment: { jobId: 'XW_JOB_ID', nodeFile: 'XW_NODEFILE' },
  stateMap: { Q: { state: JobState.QUEUED }, R: { state: JobState.ACTIVE } },
  directives: (c: DirectiveContext) => [
    `name=${c.jobName}`,
    `walltime=${c.walltimeSeconds}`,
    `procs=${c.spec.resources.computedProcessCount}`,
    `output=${c.schedulerOutput}`,
  ],
  customDirective: (key: string, value: CustomAttributeValue) => `${key}=${String(value)}`,
  submitCommand: (script) => ({ argv: ['false', script] }),
  parseSubmit: () => {
    throw new Error('not a scheduler');
  },
  queryCommand: () => ({ argv: ['false'] }),
  parseQuery: () => new Map(),
  cancelCommand: () => ({ argv: ['false'] }),
  listCommand: () => ({ argv: ['false'] }),
  parseList: () => [],
};
