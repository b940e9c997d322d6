/**
 * `@exaworks/launcher`: turns a PSI/J JobSpec into the command that starts all of its processes
 * (`single`, `multiple`, `mpirun`, `srun`, `jsrun`, `aprun`, `flux`), and writes the one job script every
 * executor runs it in.
 *
 * ### Usage
 * ```ts
 * import { createJobSpec } from '@exaworks/jpsi-core';
 * import { createLauncher, jobScriptFor } from '@exaworks/launcher';
 *
 * const spec = createJobSpec({ executable: '/bin/hostname', resources: { processCount: 4 } });
 * const launch = await (await createLauncher('mpirun')).launchCommand(spec);
 * const script = jobScriptFor(spec, launch, { resultFile: 'job.result', stdout: 'job.out', stderr: 'job.err' });
 * ```
 * @module
 */
import type { Launcher } from '@exaworks/jpsi-core';

export {
  jobScriptFor,
  jobSetupFailures,
  parseJobResult,
  CLEAN_ENVIRONMENT_PATH,
  type JobResult,
  type JobScriptFiles,
} from './job-script.js';
export { SingleLauncher, MultipleLauncher, MULTIPLE_SCRIPT, programArgv, singleLauncherWarning } from './basic.js';
export { launcherProviders, createLauncher, launcherNames } from './providers.js';
export type { Launcher };
export {
  MpirunLauncher,
  MpirunConfigSchema,
  REPORT_LAUNCH_SCRIPT,
  allocationNodeCount,
  detectMpiFlavour,
  mpirunPlacement,
  nodeFileHosts,
  flavourFromVersion,
  mpirunFlags,
  type MpiFlavour,
  type MpirunConfig,
  type MpirunPlacement,
} from './mpirun.js';
export {
  SrunLauncher,
  JsrunLauncher,
  AprunLauncher,
  FluxRunLauncher,
  SchedulerLauncherConfigSchema,
  srunFlags,
  jsrunFlags,
  aprunFlags,
  fluxRunFlags,
  type SchedulerLauncherConfig,
} from './scheduler-launchers.js';
