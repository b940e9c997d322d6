import { describe, expect, it } from 'vitest';
import { BackendError, createJobSpec, JobState, SubmitError } from '@exaworks/jpsi-core';
import { batchJobFiles, submitScriptFor } from '@exaworks/executors-batch';
import { cobaltCustomDirective, cobaltScheduler, parseCobaltLogs, parseCobaltQuery } from './scheduler.js';

const ok = (stdout: string, exitCode = 0, stderr = '') => ({ exitCode, stdout, stderr });

describe('cobalt scheduler adapter', () => {
  it('writes the golden submit script, with the job log in the work directory', async () => {
    const spec = createJobSpec({
      executable: '/bin/hostname',
      name: 'cobalt golden',
      resources: { nodeCount: 2, processesPerNode: 64 },
      attributes: {
        duration: '1 h',
        queueName: 'debug-cache-quad',
        account: 'Proj',
        customAttributes: { 'cobalt.attrs': 'mcdram=cache:numa=quad' },
      },
    });
    const script = submitScriptFor({
      adapter: cobaltScheduler,
      spec,
      files: batchJobFiles('/w', 'k1'),
      workDirectory: '/w',
      jobDirectory: '/j',
      cwd: '/h',
    });
    await expect(script).toMatchFileSnapshot('./__golden__/cobalt.submit.sh');
    expect(script).toContain("#COBALT --debuglog '/w/$jobid.cobaltlog'\n");
  });

  it('reads qstat -l --header=JobId:State; exit 1 with no output means none of the ids is queued any more', () => {
    const out =
      'JobID: 345678\n    State    : queued\n\nJobID: 345679\n    State    : running\n\nJobID: 345680\n    State    : killing\n';
    const m = parseCobaltQuery(ok(out), ['345678', '345679', '345680']);
    expect([...m.values()].map((i) => i.state)).toEqual([JobState.QUEUED, JobState.ACTIVE, JobState.ACTIVE]);
    expect(parseCobaltQuery(ok('', 1), ['345678']).size).toBe(0);
    expect(() => parseCobaltQuery(ok('', 1, 'qstat: error: cannot connect to cobalt'), ['1'])).toThrow(BackendError);
  });

  it('reads how jobs ended from their .cobaltlog lines', () => {
    const grep = [
      '345678.cobaltlog:Tue Dec  1 20:00:00 2026 +0000 (UTC) Info: job submitted',
      '345678.cobaltlog:Tue Dec  1 20:01:00 2026 +0000 (UTC) Info: task completed normally with an exit code of 0; initiating job cleanup and removal',
      '345679.cobaltlog:Tue Dec  1 20:01:00 2026 +0000 (UTC) Info: task completed normally with an exit code of 3; initiating job cleanup and removal',
      '345680.cobaltlog:Tue Dec  1 20:01:00 2026 +0000 (UTC) Info: maximum execution time exceeded; initiating job termination',
      '345681.cobaltlog:Tue Dec  1 20:01:00 2026 +0000 (UTC) Info: job deleted by user; initiating job termination',
      '345682.cobaltlog:Tue Dec  1 20:00:00 2026 +0000 (UTC) Info: job submitted',
    ].join('\n');
    const m = parseCobaltLogs(ok(grep, 2), ['345678', '345679', '345680', '345681', '345682', '345683']);
    expect(m.get('345678')).toMatchObject({ state: JobState.COMPLETED, exitCode: 0 });
    expect(m.get('345679')).toMatchObject({ state: JobState.FAILED, exitCode: 3 });
    expect(m.get('345680')).toMatchObject({ state: JobState.FAILED, reason: 'walltime' });
    expect(m.get('345681')?.state).toBe(JobState.CANCELED);
    expect(m.has('345682')).toBe(false);
    expect(m.has('345683')).toBe(false);
  });

  it('reads qsub’s bare id, refuses an error, lists queued and logged jobs, and formats custom directives', () => {
    expect(cobaltScheduler.parseSubmit(ok('345678\n'))).toBe('345678');
    expect(() => cobaltScheduler.parseSubmit(ok('', 1, "error: Queue 'x' does not exist"))).toThrow(SubmitError);
    expect(cobaltScheduler.parseList(ok('JobID: 345678\n\n345600.cobaltlog\n'))).toEqual(['345678', '345600']);
    expect(cobaltCustomDirective('attrs', 'a=b')).toBe("--attrs 'a=b'");
    expect(cobaltCustomDirective('M', 'me@x.org')).toBe('-M me@x.org');
  });
});
