import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { BackendError, createJobSpec, JobState, SubmitError } from '@exaworks/jpsi-core';
import { batchJobFiles, submitScriptFor } from '@exaworks/executors-batch';
import { pbsFlavourFromVersion } from './executor.js';
import { parseTorqueFull, parseTorqueQuery, torqueScheduler } from './torque.js';

const ok = (stdout: string, exitCode = 0, stderr = '') => ({ exitCode, stdout, stderr });

// Torque 6 `qstat -f` text (attributes trimmed to what matters; a long value wraps after a tab).
const ME = os.userInfo().username;
const FULL = `Job Id: 11.torque01
    Job_Name = a
    Job_Owner = ${ME}@login1
    job_state = Q
    Output_Path = login1:/home/u/.exaworks/work/pbs/k-11.s
\tched
    comment = Not Running: waiting for resources

Job Id: 12.torque01
    Job_Owner = someone-else@login1
    job_state = R
    Walltime.Remaining = 50

Job Id: 13.torque01
    job_state = C
    exit_status = 0

Job Id: 14.torque01
    job_state = C
    exit_status = 3

Job Id: 15.torque01
    job_state = C
    exit_status = -11
    resources_used.walltime = 00:01:02

Job Id: 16.torque01
    job_state = C
    exit_status = 271

Job Id: 17.torque01
    job_state = C

Job Id: 18.torque01
    job_state = E
`;

describe('pbs scheduler adapter, Torque flavour', () => {
  it('writes the golden submit script with -l nodes=N:ppn=M', async () => {
    const spec = createJobSpec({
      executable: '/bin/hostname',
      name: 'torque golden',
      resources: { nodeCount: 2, processesPerNode: 4, cpuCoresPerProcess: 2, exclusiveNodeUse: true, memory: 8 * 1024 * 1024 },
      attributes: { duration: '1:30:00', queueName: 'batch', account: 'abc', customAttributes: { 'pbs.W': 'group_list=g1' } },
    });
    const script = submitScriptFor({
      adapter: torqueScheduler,
      spec,
      files: batchJobFiles('/w', 'k1'),
      workDirectory: '/w',
      jobDirectory: '/home/u/run',
      cwd: '/home/u',
    });
    await expect(script).toMatchFileSnapshot('./__golden__/torque.submit.sh');
    expect(script).toContain('#PBS -l nodes=2:ppn=8\n#PBS -l walltime=1:30:00\n#PBS -l mem=8192kb\n#PBS -n\n');
    expect(script).not.toContain('select=');
  });

  it('reads qstat -f text, joining continued lines, and maps C + exit_status to PSI/J states', () => {
    const jobs = parseTorqueFull(FULL);
    expect(jobs.get('11.torque01')?.Output_Path).toBe('login1:/home/u/.exaworks/work/pbs/k-11.sched');
    const ids = [11, 12, 13, 14, 15, 16, 17, 18, 19].map((n) => `${n}.torque01`);
    const m = parseTorqueQuery(ok(FULL), ids);
    const at = (n: number) => m.get(`${n}.torque01`);
    expect(at(11)).toMatchObject({ state: JobState.QUEUED, nativeState: 'Q', message: expect.stringMatching(/waiting/) });
    expect(at(12)?.state).toBe(JobState.ACTIVE);
    expect(at(13)).toMatchObject({ state: JobState.COMPLETED, exitCode: 0 });
    expect(at(14)).toMatchObject({ state: JobState.FAILED, exitCode: 3 });
    expect(at(15)).toMatchObject({ state: JobState.FAILED, reason: 'walltime' });
    // Torque has no "deleted" state: a killed job is FAILED here; the executor's cancel marker makes it CANCELED.
    expect(at(16)).toMatchObject({ state: JobState.FAILED, exitCode: 143 });
    expect(at(17)).toMatchObject({ state: JobState.FAILED, message: expect.stringMatching(/without an exit status/) });
    expect(at(18)?.state).toBe(JobState.ACTIVE);
    expect(m.has('19.torque01')).toBe(false);
  });

  it('accepts exit 153 (some ids purged), refuses failed or garbled output', () => {
    const m = parseTorqueQuery(ok(FULL, 153, 'qstat: Unknown Job Id Error 99.torque01\n'), ['13.torque01', '99.torque01']);
    expect(m.size).toBe(1);
    expect(() => parseTorqueQuery(ok('', 1, 'cannot connect to server torque01'), ['1.x'])).toThrow(BackendError);
    expect(() => parseTorqueQuery(ok('job_state = C\n'), ['1.x'])).toThrow(BackendError);
  });

  it('finds jobs by their batch output path for recovery, and turns refusals into SubmitErrors', () => {
    const r = torqueScheduler.parseRecover?.(ok(FULL));
    expect(r?.get('/home/u/.exaworks/work/pbs/k-11.sched')).toBe('11.torque01');
    expect(torqueScheduler.parseList(ok(FULL))).toEqual(['11.torque01']);
    expect(() =>
      torqueScheduler.parseSubmit(ok('', 1, 'qsub: submit error (Unknown queue MSG=requested queue not found)')),
    ).toThrow(SubmitError);
    expect(torqueScheduler.parseCancel?.(ok('', 168, 'qdel: Invalid state for job - COMPLETE 1.x'))).toBe('gone');
  });

  it('tells Torque from PBS Pro by `qstat --version`', () => {
    expect(pbsFlavourFromVersion('Version: 6.1.3\nCommit: 0a1b2c3\n')).toBe('torque');
    expect(pbsFlavourFromVersion('pbs_version = 2022.1.1\n')).toBe('pro');
    expect(pbsFlavourFromVersion('qstat: command not found')).toBeUndefined();
  });
});
