import { describe, expect, it } from 'vitest';
import { createJobSpec, JobState, SubmitError, BackendError } from '@exaworks/jpsi-core';
import { batchJobFiles, directivesFor, submitScriptFor } from '@exaworks/executors-batch';
import { SlurmScheduler, exitCodeFromWaitStatus, slurmTime } from './scheduler.js';
import { createSlurmExecutor } from './executor.js';

const slurm = new SlurmScheduler();
const ok = (stdout: string, stderr = '') => ({ exitCode: 0, stdout, stderr });

describe('Slurm directives', () => {
  it('derives #SBATCH lines from resources, attributes and slurm.* custom attributes only', () => {
    const spec = createJobSpec({
      executable: '/bin/hostname',
      name: 'My Job',
      resources: { nodeCount: 2, processesPerNode: 4, cpuCoresPerProcess: 2, gpuCoresPerProcess: 1, memory: 4 * 1024 ** 3 },
      attributes: {
        duration: 5400,
        queueName: 'debug',
        account: 'proj1',
        reservationId: 'resv',
        customAttributes: { 'slurm.constraint': 'haswell', 'slurm.comment': 'two words', 'slurm.requeue': true, 'pbs.l': 'x' },
      },
    });
    expect(directivesFor(slurm, spec, { schedulerOutput: '/w/k.sched' }, '/w')).toEqual([
      '#SBATCH --job-name=My_Job',
      '#SBATCH --output=/w/k.sched',
      '#SBATCH --error=/w/k.sched',
      '#SBATCH --time=1:30:00',
      '#SBATCH --nodes=2',
      '#SBATCH --ntasks=8',
      '#SBATCH --ntasks-per-node=4',
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --mem=2048M',
      '#SBATCH --partition=debug',
      '#SBATCH --account=proj1',
      '#SBATCH --reservation=resv',
      '#SBATCH --constraint=haswell',
      '#SBATCH --comment="two words"',
      '#SBATCH --requeue',
    ]);
  });

  it('matches the golden Slurm submit script', async () => {
    const spec = createJobSpec({ executable: '/bin/echo', arguments: ['hi'], resources: { processCount: 2 }, launcher: 'srun' });
    const script = submitScriptFor({
      adapter: slurm,
      spec,
      files: batchJobFiles('/w', 'k1'),
      workDirectory: '/w',
      jobDirectory: '/home/u',
      cwd: '/home/u',
    });
    await expect(script).toMatchFileSnapshot('./__golden__/srun.submit.sh');
  });

  it('formats walltimes and refuses option names that are not options', () => {
    expect(slurmTime(59)).toBe('0:00:59');
    expect(slurmTime(90061)).toBe('25:01:01');
    expect(() => slurm.customDirective('a b', 'x')).toThrow(SubmitError);
  });
});

describe('Slurm command output', () => {
  it('maps batch output paths to job ids for crash recovery (squeue -O StdOut as Slurm 22.05 prints it)', () => {
    const m = slurm.parseRecover(ok('1|/tmp/w/k1.sched|\n2|/tmp/bg dir/k|2.sched|\n\n'));
    expect(m.get('/tmp/w/k1.sched')).toBe('1');
    expect(m.get('/tmp/bg dir/k|2.sched')).toBe('2');
    expect(() => slurm.parseRecover({ exitCode: 1, stdout: '', stderr: 'squeue: error: down' })).toThrow(/down/);
  });

  it('reads the job id from sbatch --parsable, with or without a cluster name', () => {
    expect(slurm.parseSubmit(ok('1234\n'))).toBe('1234');
    expect(slurm.parseSubmit(ok('1234;cluster\n'))).toBe('1234');
  });

  it("turns a refused submission into a SubmitError carrying Slurm's own message", () => {
    const refused = {
      exitCode: 1,
      stdout: '',
      stderr:
        'sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified\n',
    };
    expect(() => slurm.parseSubmit(refused)).toThrow(SubmitError);
    expect(() => slurm.parseSubmit(refused)).toThrow(/Invalid partition name specified/);
  });

  it('maps squeue states, exit codes and end reasons, keeping only the asked ids', () => {
    const out = [
      '10|PENDING|0|Priority',
      '11|RUNNING|0|None',
      '12|COMPLETED|0|None',
      '13|FAILED|1024|NonZeroExitCode',
      '14|TIMEOUT|15|TimeLimit',
      '15|CANCELLED|0|None',
      '16|OUT_OF_MEMORY|0|OutOfMemory',
      '17|NODE_FAIL|0|None',
      '18|PREEMPTED|0|None',
      '19|BOOT_FAIL|0|None',
      '20|DEADLINE|0|None',
      '21|SOME_NEW_STATE|0|None',
      '99|RUNNING|0|None',
    ].join('\n');
    const ids = Array.from({ length: 12 }, (_, i) => String(10 + i));
    const m = slurm.parseQuery(ok(out), ids);
    expect(m.has('99')).toBe(false);
    expect(m.get('10')).toEqual({ state: JobState.QUEUED, nativeState: 'PENDING', message: 'Priority' });
    expect(m.get('11')).toMatchObject({ state: JobState.ACTIVE });
    expect(m.get('13')).toMatchObject({ state: JobState.FAILED, exitCode: 4 });
    expect(m.get('14')).toMatchObject({ state: JobState.FAILED, reason: 'walltime', exitCode: 143 });
    expect(m.get('15')).toMatchObject({ state: JobState.CANCELED });
    expect(m.get('16')).toMatchObject({ state: JobState.FAILED, reason: 'out_of_memory' });
    expect(m.get('17')?.reason).toBe('node_fail');
    expect(m.get('18')?.reason).toBe('preempted');
    expect(m.get('19')?.reason).toBe('boot_fail');
    expect(m.get('20')?.reason).toBe('deadline');
    // An unknown word from a job Slurm still lists never becomes an end.
    expect(m.get('21')).toMatchObject({ state: JobState.QUEUED, nativeState: 'SOME_NEW_STATE' });
  });

  it('refuses to read a failed squeue, so jobs keep their last state', () => {
    expect(() =>
      slurm.parseQuery({ exitCode: 1, stdout: '', stderr: 'squeue: error: Unable to contact slurm controller' }, ['1']),
    ).toThrow(BackendError);
  });

  it('reads sacct, and stops asking it once accounting is disabled', () => {
    const s = new SlurmScheduler();
    const h = s.parseHistory(ok('5|CANCELLED by 0|0:15|None\n6|COMPLETED|0:0|None\n7|FAILED|3:0|NonZeroExitCode\n'), [
      '5',
      '6',
      '7',
    ]);
    expect(h.get('5')).toMatchObject({ state: JobState.CANCELED, nativeState: 'CANCELLED', exitCode: 143 });
    expect(h.get('7')).toMatchObject({ state: JobState.FAILED, exitCode: 3 });
    expect(s.historyCommand(['1'])?.argv[0]).toBe('sacct');
    expect(() => s.parseHistory({ exitCode: 1, stdout: '', stderr: 'Slurm accounting storage is disabled\n' }, ['1'])).toThrow(
      BackendError,
    );
    expect(s.historyCommand(['1'])).toBeUndefined();
    expect(new SlurmScheduler({ accounting: false }).historyCommand(['1'])).toBeUndefined();
  });

  it('decodes wait statuses', () => {
    expect(exitCodeFromWaitStatus(0)).toBe(0);
    expect(exitCodeFromWaitStatus(3 << 8)).toBe(3);
    expect(exitCodeFromWaitStatus(9)).toBe(137);
  });
});

describe('Slurm executor config', () => {
  it('names a wrong field', () => {
    expect(() => createSlurmExecutor({ pollInterval: -1 } as never)).toThrow(/pollInterval/);
    expect(() => createSlurmExecutor({ accounting: 'sometimes' } as never)).toThrow(/accounting/);
  });
});
