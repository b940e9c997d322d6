import { describe, expect, it } from 'vitest';
import { BackendError, createJobSpec, JobState, SubmitError, ValidationError } from '@exaworks/jpsi-core';
import { batchJobFiles, submitScriptFor } from '@exaworks/executors-batch';
import { parsePbsQuery, pbsCustomDirective, pbsScheduler, pbsWalltime } from './scheduler.js';

const ok = (stdout: string, exitCode = 0, stderr = '') => ({ exitCode, stdout, stderr });

// A `qstat -f -F json -x` report in PBS Pro 2021 / OpenPBS 20 shape (fields trimmed to what matters).
const REPORT = JSON.stringify({
  timestamp: 1764620000,
  pbs_version: '20.0.1',
  pbs_server: 'pbs01',
  Jobs: {
    '101.pbs01.cluster.example.org': {
      Job_Name: 'a',
      Job_Owner: 'u@login1',
      job_state: 'Q',
      substate: 10,
      comment: 'Not Running: Insufficient amount of resource: ncpus',
    },
    '102.pbs01.cluster.example.org': { job_state: 'R', substate: 42, Job_Owner: 'u@login1' },
    '103.pbs01.cluster.example.org': { job_state: 'F', substate: 92, Exit_status: 0, comment: 'Job run at … and finished' },
    '104.pbs01.cluster.example.org': { job_state: 'F', substate: 92, Exit_status: 3 },
    '105.pbs01.cluster.example.org': {
      job_state: 'F',
      substate: 92,
      Exit_status: -29,
      comment: 'job killed: walltime 65 exceeded limit 60',
    },
    '106.pbs01.cluster.example.org': { job_state: 'F', substate: 91, Exit_status: 271 },
    '107.pbs01.cluster.example.org': { job_state: 'F', substate: 92, Exit_status: 265 },
    '108.pbs01.cluster.example.org': { job_state: 'E', substate: 50 },
  },
});

describe('pbs scheduler adapter', () => {
  it('writes the golden submit script', async () => {
    const spec = createJobSpec({
      executable: '/bin/hostname',
      name: 'pbs golden',
      resources: { nodeCount: 2, processesPerNode: 4, cpuCoresPerProcess: 2, exclusiveNodeUse: true },
      attributes: {
        duration: '25:30:00',
        queueName: 'workq',
        account: 'abc',
        customAttributes: { 'pbs.l': 'filesystems=home:eagle', 'slurm.x': 'ignored' },
      },
    });
    const script = submitScriptFor({
      adapter: pbsScheduler,
      spec,
      files: batchJobFiles('/w', 'k1'),
      workDirectory: '/w',
      jobDirectory: '/home/u/run',
      cwd: '/home/u',
    });
    await expect(script).toMatchFileSnapshot('./__golden__/pbs.submit.sh');
    expect(script).toContain('#PBS -l select=2:ncpus=8:mpiprocs=4\n#PBS -l walltime=25:30:00\n');
  });

  it('asks PBS to pass the environment only when the job inherits it, and sends a reservation to its queue', () => {
    const dirs = (input: Parameters<typeof createJobSpec>[0]) =>
      pbsScheduler.directives({
        spec: createJobSpec(input),
        jobName: 'j',
        walltimeSeconds: 60,
        schedulerOutput: '/w/k.sched',
        workDirectory: '/w',
      });
    expect(dirs({ executable: '/bin/true' })).toContain('-V');
    expect(dirs({ executable: '/bin/true', inheritEnvironment: false })).not.toContain('-V');
    const r = dirs({ executable: '/bin/true', attributes: { queueName: 'workq', reservationId: 'R123' } });
    expect(r.filter((d) => d.startsWith('-q'))).toEqual(['-q R123']);
  });

  it('maps job_state, substate and Exit_status to PSI/J states, exit codes and reasons', () => {
    const ids = [101, 102, 103, 104, 105, 106, 107, 108, 109].map((n) => `${n}.pbs01.cluster.example.org`);
    const m = parsePbsQuery(ok(REPORT), ids);
    const at = (n: number) => m.get(`${n}.pbs01.cluster.example.org`);
    expect(at(101)).toMatchObject({ state: JobState.QUEUED, nativeState: 'Q', message: expect.stringMatching(/Insufficient/) });
    expect(at(102)?.state).toBe(JobState.ACTIVE);
    expect(at(103)).toMatchObject({ state: JobState.COMPLETED, exitCode: 0 });
    expect(at(104)).toMatchObject({ state: JobState.FAILED, exitCode: 3 });
    expect(at(105)).toMatchObject({ state: JobState.FAILED, reason: 'walltime' });
    expect(at(106)).toMatchObject({ state: JobState.CANCELED, exitCode: 143 });
    expect(at(107)).toMatchObject({ state: JobState.FAILED, exitCode: 137 });
    expect(at(108)?.state).toBe(JobState.ACTIVE);
    expect(m.has('109.pbs01.cluster.example.org')).toBe(false);
  });

  it('matches ids by sequence number when PBS prints a longer server name, and accepts exit 153 (some ids purged)', () => {
    const m = parsePbsQuery(ok(REPORT, 153, 'qstat: Unknown Job Id 99.pbs01\n'), ['103.pbs01', '99.pbs01']);
    expect(m.get('103.pbs01')?.state).toBe(JobState.COMPLETED);
    expect(m.size).toBe(1);
    expect(parsePbsQuery(ok('', 153, 'qstat: Unknown Job Id 99.pbs01\n'), ['99.pbs01']).size).toBe(0);
  });

  it('never turns a failed or garbled query into states', () => {
    expect(() => parsePbsQuery(ok('', 1, 'cannot connect to server pbs01 (errno=111)'), ['1.x'])).toThrow(BackendError);
    expect(() => parsePbsQuery(ok('{"Jobs": {'), ['1.x'])).toThrow(BackendError);
  });

  it('reads qsub output and turns a refusal into a SubmitError with PBS’s words', () => {
    expect(pbsScheduler.parseSubmit(ok('4242.pbs01.cluster.example.org\n'))).toBe('4242.pbs01.cluster.example.org');
    expect(() => pbsScheduler.parseSubmit(ok('', 170, 'qsub: Unknown queue\n'))).toThrow(SubmitError);
    expect(() => pbsScheduler.parseSubmit(ok('', 170, 'qsub: Unknown queue\n'))).toThrow(/Unknown queue/);
  });

  it('treats qdel of a finished job as gone, and formats walltimes and custom directives', () => {
    expect(pbsScheduler.parseCancel?.(ok('', 35, 'qdel: Job has finished 1.x'))).toBe('gone');
    expect(pbsScheduler.parseCancel?.(ok('', 1, 'qdel: Unauthorized Request 1.x'))).toMatch(/Unauthorized/);
    expect(pbsWalltime(2)).toBe('0:00:02');
    expect(pbsWalltime(90061)).toBe('25:01:01');
    expect(pbsCustomDirective('l', 'mem=4gb')).toBe("-l 'mem=4gb'");
    expect(pbsCustomDirective('W', 'depend=afterok:1 x')).toBe("-W 'depend=afterok:1 x'");
    expect(pbsCustomDirective('r', true)).toBe('-r');
    expect(() => pbsCustomDirective('l;rm', 'x')).toThrow(ValidationError);
  });

  it('lists the current user’s jobs from one qstat', () => {
    const user = (process.env.USER ?? '').length > 0 ? process.env.USER : undefined;
    const ids = pbsScheduler.parseList(ok(REPORT));
    if (user === 'u') expect(ids).toContain('101.pbs01.cluster.example.org');
    else expect(ids).not.toContain('101.pbs01.cluster.example.org');
    expect(() => pbsScheduler.parseList(ok('', 1, 'down'))).toThrow(BackendError);
  });
});
