import { describe, expect, it } from 'vitest';
import { BackendError, createJobSpec, JobState, SubmitError } from '@exaworks/jpsi-core';
import { batchJobFiles, submitScriptFor } from '@exaworks/executors-batch';
import { fluxCustomDirective, fluxId, fluxScheduler, parseFluxQuery } from './scheduler.js';

const ok = (stdout: string, exitCode = 0, stderr = '') => ({ exitCode, stdout, stderr });

describe('flux scheduler adapter', () => {
  it('writes the golden submit script', async () => {
    const spec = createJobSpec({
      executable: '/bin/hostname',
      name: 'flux golden',
      resources: { nodeCount: 2, processCount: 8, cpuCoresPerProcess: 2 },
      attributes: { duration: '10 min', queueName: 'pdebug', customAttributes: { 'flux.setattr': 'system.bank=x y' } },
    });
    const script = submitScriptFor({
      adapter: fluxScheduler,
      spec,
      files: batchJobFiles('/w', 'k1'),
      workDirectory: '/w',
      jobDirectory: '/j',
      cwd: '/h',
    });
    await expect(script).toMatchFileSnapshot('./__golden__/flux.submit.sh');
    expect(script).toContain('# flux: -N 2\n# flux: -n 8\n# flux: -t 600s\n# flux: -c 2\n');
  });

  it('maps state and result to PSI/J states, exit codes and reasons', () => {
    const out = [
      'fA1|SCHED||||',
      'fA2|RUN||||',
      'fA3|INACTIVE|COMPLETED|0||',
      'fA4|INACTIVE|FAILED|2||',
      'fA5|INACTIVE|TIMEOUT|143|timeout|resource allocation expired',
      'ƒA6|INACTIVE|CANCELED||cancel|',
    ].join('\n');
    const m = parseFluxQuery(ok(out), ['fA1', 'fA2', 'fA3', 'fA4', 'fA5', 'fA6', 'fA7']);
    expect(m.get('fA1')?.state).toBe(JobState.QUEUED);
    expect(m.get('fA2')?.state).toBe(JobState.ACTIVE);
    expect(m.get('fA3')).toMatchObject({ state: JobState.COMPLETED, exitCode: 0 });
    expect(m.get('fA4')).toMatchObject({ state: JobState.FAILED, exitCode: 2 });
    expect(m.get('fA5')).toMatchObject({
      state: JobState.FAILED,
      reason: 'walltime',
      message: 'exception timeout: resource allocation expired',
    });
    expect(m.get('fA6')).toMatchObject({ state: JobState.CANCELED });
    expect(m.has('fA7')).toBe(false);
  });

  it('accepts exit 1 only when the complaints are unknown ids', () => {
    expect(
      parseFluxQuery(ok('fA3|INACTIVE|COMPLETED|0||\n', 1, 'flux-jobs: ERROR: JOBID fA9 not found\n'), ['fA3', 'fA9']).size,
    ).toBe(1);
    expect(() => parseFluxQuery(ok('', 1, 'flux-jobs: ERROR: Unable to connect to Flux: broker socket'), ['fA3'])).toThrow(
      BackendError,
    );
  });

  it('normalises ids to ASCII F58 and refuses a failed flux batch', () => {
    expect(fluxId('ƒ2Cx5BgfdiQou\n')).toBe('f2Cx5BgfdiQou');
    expect(fluxScheduler.parseSubmit(ok('ƒ2Cx5BgfdiQou\n'))).toBe('f2Cx5BgfdiQou');
    expect(() => fluxScheduler.parseSubmit(ok('', 1, "flux-batch: ERROR: invalid queue 'x' specified"))).toThrow(SubmitError);
    expect(fluxScheduler.queryCommand(['f1']).env).toEqual({ FLUX_F58_FORCE_ASCII: '1' });
  });

  it('formats custom directives and refuses reservations, which Flux does not have', () => {
    expect(fluxCustomDirective('setattr', 'system.x=1')).toBe("--setattr='system.x=1'");
    expect(fluxCustomDirective('o', 'cpu-affinity=per-task')).toBe("-o 'cpu-affinity=per-task'");
    const spec = createJobSpec({ executable: '/bin/true', attributes: { reservationId: 'r1' } });
    expect(() =>
      fluxScheduler.directives({ spec, jobName: 'j', walltimeSeconds: 60, schedulerOutput: '/s', workDirectory: '/w' }),
    ).toThrow(SubmitError);
  });
});
