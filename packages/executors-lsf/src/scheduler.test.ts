import { describe, expect, it } from 'vitest';
import { BackendError, createJobSpec, JobState, SubmitError } from '@exaworks/jpsi-core';
import { batchJobFiles, submitScriptFor } from '@exaworks/executors-batch';
import { lsfCustomDirective, lsfScheduler, parseLsfQuery } from './scheduler.js';

const ok = (stdout: string, exitCode = 0, stderr = '') => ({ exitCode, stdout, stderr });

// `bjobs -o "jobid stat exit_code exit_reason" -json -a 1 2 …` as LSF 10.1 prints it.
const BJOBS = `{
  "COMMAND":"bjobs",
  "JOBS":7,
  "RECORDS":[
    { "JOBID":"1", "STAT":"PEND", "EXIT_CODE":"", "EXIT_REASON":"" },
    { "JOBID":"2", "STAT":"RUN", "EXIT_CODE":"", "EXIT_REASON":"" },
    { "JOBID":"3", "STAT":"DONE", "EXIT_CODE":"", "EXIT_REASON":"" },
    { "JOBID":"4", "STAT":"EXIT", "EXIT_CODE":"4", "EXIT_REASON":"" },
    { "JOBID":"5", "STAT":"EXIT", "EXIT_CODE":"140", "EXIT_REASON":"TERM_RUNLIMIT: job killed after reaching LSF run time limit" },
    { "JOBID":"6", "STAT":"EXIT", "EXIT_CODE":"130", "EXIT_REASON":"TERM_OWNER: job killed by owner" },
    { "JOBID":"7", "ERROR":"Job <7> is not found" }
  ]
}`;

describe('lsf scheduler adapter', () => {
  it('writes the golden submit script', async () => {
    const spec = createJobSpec({
      executable: '/bin/hostname',
      name: 'lsf golden',
      resources: { processCount: 8, processesPerNode: 4 },
      attributes: { duration: 90, queueName: 'pbatch', account: 'abc', customAttributes: { 'lsf.alloc_flags': 'smt4 gpumps' } },
    });
    const script = submitScriptFor({
      adapter: lsfScheduler,
      spec,
      files: batchJobFiles('/w', 'k1'),
      workDirectory: '/w',
      jobDirectory: '/j',
      cwd: '/h',
    });
    await expect(script).toMatchFileSnapshot('./__golden__/lsf.submit.sh');
    // 90 s round up to 2 whole minutes.
    expect(script).toContain("#BSUB -n 8\n#BSUB -W 2\n#BSUB -R 'span[ptile=4]'\n");
  });

  it('maps STAT and EXIT_REASON to states, exit codes and reasons; an empty EXIT_CODE of a DONE job is 0', () => {
    const m = parseLsfQuery(ok(BJOBS), ['1', '2', '3', '4', '5', '6', '7']);
    expect(m.get('1')?.state).toBe(JobState.QUEUED);
    expect(m.get('2')?.state).toBe(JobState.ACTIVE);
    expect(m.get('3')).toMatchObject({ state: JobState.COMPLETED, exitCode: 0 });
    expect(m.get('4')).toMatchObject({ state: JobState.FAILED, exitCode: 4 });
    expect(m.get('5')).toMatchObject({
      state: JobState.FAILED,
      reason: 'walltime',
      message: expect.stringMatching(/run time limit/),
    });
    expect(m.get('6')).toMatchObject({ state: JobState.CANCELED, reason: 'canceled' });
    expect(m.has('7')).toBe(false);
  });

  it('refuses a failed or non-JSON bjobs', () => {
    expect(() => parseLsfQuery(ok('', 255, 'LSF is down. Please wait ...'), ['1'])).toThrow(BackendError);
    expect(() => parseLsfQuery(ok('JOBID STAT\n1 RUN\n'), ['1'])).toThrow(BackendError);
  });

  it('reads bsub output; a refusal is a SubmitError with LSF’s words', () => {
    expect(lsfScheduler.parseSubmit(ok('Job <5150> is submitted to default queue <normal>.\n'))).toBe('5150');
    expect(() => lsfScheduler.parseSubmit(ok('', 255, 'nosuch: No such queue. Job not submitted.\n'))).toThrow(SubmitError);
    expect(lsfScheduler.submitCommand('/w/k 1.submit').argv).toEqual([
      '/bin/sh',
      '-c',
      'exec bsub < "$1"',
      'bsub',
      '/w/k 1.submit',
    ]);
  });

  it('treats bkill of a finished job as gone and formats custom directives', () => {
    expect(lsfScheduler.parseCancel?.(ok('', 255, 'Job <3>: Job has already finished'))).toBe('gone');
    expect(lsfCustomDirective('alloc_flags', 'smt4 gpumps')).toBe("-alloc_flags 'smt4 gpumps'");
    expect(lsfCustomDirective('x', true)).toBe('-x');
  });
});
