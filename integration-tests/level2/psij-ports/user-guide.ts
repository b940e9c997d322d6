/**
 * Port of psij-python's user-guide examples (`tests/user_guide/*.py`, `tests/getting_started/`):
 * each example as a user would write it with this SDK, run with every launcher. psij-python
 * mostly checks only that the job completes; where the example's point can be seen in its
 * output (the time zone, `--utc`, the number of processes), that is checked too.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { Job, createJobSpec, type JobSpecInput, type JobStatus } from '@exaworks/jpsi-core';
import { describeStatus, portedModule, readIfExists, type PortTarget } from './harness.js';

const run = promisify(execFile);
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'user-guide-child.mjs');

// psij-python's user_guide/pre_launch.sh: defines an exported bash function, as `module` systems do.
const PRE_LAUNCH = `xmodule() {
    case "$1" in
        load) export MODULE_TEST_LOADED="1" ;;
        is-loaded) if [ "$MODULE_TEST_LOADED" != "1" ]; then exit 2; fi ;;
        *) exit 3 ;;
    esac
}
export -f xmodule
xmodule load test`;

/** Registers the ported user-guide and getting-started examples for every launcher of `target`. */
export function portedUserGuideTests(target: PortTarget): void {
  portedModule(target, 'tests/user_guide + tests/getting_started', (c) => {
    const completed = async (spec: JobSpecInput): Promise<JobStatus> => {
      const { status } = await c.run(spec);
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      return status;
    };
    const output = async (): Promise<string> => path.join(await c.dir(), 'stdout.txt');

    c.it('test_getting_started_single_job: /bin/date completes', async () => {
      await completed({ executable: '/bin/date' });
    });

    c.it('test_user_guide_plain_job: /bin/date completes', async () => {
      await completed({ executable: '/bin/date' });
    });

    c.it('test_user_guide_job_wait: wait() returns COMPLETED', async () => {
      const job = await c.executor().submit(new Job(c.spec({ executable: '/bin/date' })));
      expect((await job.wait({ timeout: c.T(60_000) }))?.state).toBe('COMPLETED');
    });

    c.it('test_user_guide_job_arguments: arguments reach the program (date --utc prints UTC)', async () => {
      const out = await output();
      await completed({ executable: '/bin/date', arguments: ['--utc'], stdoutPath: out });
      expect(await readFile(out, 'utf8')).toMatch(/\bUTC\b/);
    });

    c.it('test_user_guide_simple_job_with_props: a spec built field by field', async () => {
      const out = await output();
      const spec: JobSpecInput = { executable: '' };
      spec.executable = '/bin/date';
      spec.arguments = ['--utc'];
      spec.stdoutPath = out;
      await completed(spec);
      expect(await readFile(out, 'utf8')).toMatch(/\bUTC\b/);
    });

    c.it('test_user_guide_environment: TZ from the spec changes what date prints', async () => {
      const out = await output();
      await completed({
        executable: '/bin/date',
        arguments: ['+%Z'],
        environment: { TZ: 'America/Los_Angeles' },
        stdoutPath: out,
      });
      expect((await readFile(out, 'utf8')).trim()).toMatch(/^P[SD]T$/);
    });

    c.it('test_user_guide_redirect: stdout and stderr go to their files', async () => {
      const d = await c.dir();
      const out = path.join(d, 'date.out');
      const err = path.join(d, 'date.err');
      await completed({ executable: '/bin/date', stdoutPath: out, stderrPath: err });
      expect(await readFile(out, 'utf8')).toMatch(/\d\d:\d\d:\d\d/);
      expect(await readFile(err, 'utf8')).toBe('');
    });

    c.it('test_user_guide_doc_callbacks: a job listener hears ACTIVE and the end', async () => {
      const heard: string[] = [];
      const job = new Job(c.spec({ executable: '/bin/date' }));
      job.onStatus((_job, status) => {
        if (status.state === 'ACTIVE') heard.push('running');
        else if (['COMPLETED', 'FAILED', 'CANCELED'].includes(status.state)) heard.push('finished');
      });
      await c.executor().submit(job);
      expect((await job.wait({ timeout: c.T(60_000) }))?.state).toBe('COMPLETED');
      expect(heard).toEqual(['running', 'finished']);
    });

    c.it('test_user_guide_job_wait_active: wait for ACTIVE returns ACTIVE while the job runs', async () => {
      const hold = await c.hold();
      const job = await c.executor().submit(new Job(c.spec({ executable: hold.executable, arguments: hold.arguments })));
      expect(await job.wait({ targetStates: ['ACTIVE'], timeout: c.T(60_000) })).toMatchObject({ state: 'ACTIVE' });
      await hold.release();
      expect((await job.wait({ timeout: c.T(60_000) }))?.state).toBe('COMPLETED');
    });

    c.it('test_user_guide_multiple_jobs: two Jobs of one JobSpec both complete', async () => {
      const spec = createJobSpec(c.spec({ executable: '/bin/sleep', arguments: ['1'] }));
      const job1 = await c.executor().submit(new Job(spec));
      const job2 = await c.executor().submit(new Job(spec));
      expect(job1.nativeId).not.toBe(job2.nativeId);
      for (const job of [job1, job2]) {
        const status = await job.wait({ timeout: c.T(60_000) });
        expect(status?.state, describeStatus(status)).toBe('COMPLETED');
      }
    });

    c.it('test_user_guide_resourcespec: 2 nodes × 4 processes per node run', async () => {
      const log = path.join(await c.dir(), 'copies');
      await completed({
        executable: '/bin/sh',
        arguments: ['-c', 'date >> "$1"', 'sh', log],
        resources: { nodeCount: 2, processesPerNode: 4 },
      });
      // One host here: every process runs on it. `single` starts one process whatever the counts.
      const copies = c.launcher === 'single' ? 1 : 8;
      expect(((await readIfExists(log)) ?? '').trim().split('\n')).toHaveLength(copies);
    });

    c.it('test_user_guide_scheduling_info: queue and account do not stop the job', async () => {
      const { job, status } = await c.run({ executable: '/bin/date', attributes: { queueName: 'debug', account: 'project' } });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      if (c.target.name === 'local') {
        // local has no queues or accounts: it says so (on QUEUED) instead of dropping them silently.
        const queued = job.history.find((s) => s.state === 'QUEUED');
        expect(queued?.message ?? '').toMatch(/ignores.*queueName.*account/);
      }
    });

    c.it('test_user_guide_pre_launch: a pre-launch script exports a shell function the job calls', async () => {
      const pre = await c.script('pre_launch.sh', PRE_LAUNCH, '/bin/bash');
      const err = path.join(await c.dir(), 'stderr.txt');
      const { status } = await c.run({
        executable: '/bin/bash',
        arguments: ['-c', 'xmodule is-loaded test'],
        preLaunch: pre,
        stderrPath: err,
      });
      expect(status.state, `${describeStatus(status)} stderr=${await readIfExists(err)}`).toBe('COMPLETED');
    });

    c.it(
      'test_user_guide_attach: one process submits and exits, another attaches by native id',
      async () => {
        const hold = await c.hold();
        const config = JSON.stringify(c.target.config);
        const spec = JSON.stringify(c.spec({ executable: hold.executable, arguments: hold.arguments }));
        const submitted = await run(process.execPath, [CHILD, 'submit', c.target.name, config, spec], { timeout: c.T(60_000) });
        const nativeId = submitted.stdout.trim();
        expect(nativeId).toBeTruthy();
        const attached = await run(process.execPath, [CHILD, 'attach', c.target.name, config, nativeId], {
          timeout: c.T(90_000),
        });
        // Held, so the attaching process must see it queued or running, not finished.
        expect(['QUEUED', 'ACTIVE']).toContain(JSON.parse(attached.stdout).state);
        await hold.release();
        const job = new Job();
        await c.executor().attach(job, nativeId);
        const status = await job.wait({ timeout: c.T(60_000) });
        expect(status?.state, describeStatus(status)).toBe('COMPLETED');
      },
      c.T(180_000),
    );
  });
}
