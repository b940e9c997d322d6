/**
 * Port of psij-python `tests/test_executor.py` (the executor-independent tests; the batch-only
 * submit-script checks are covered by the batch executors' own suites). Where psij-python lets a
 * short `sleep` race the test, these hold the job until the test releases it.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { Job } from '@exaworks/jpsi-core';
import { MPI_LAUNCHERS, describeStatus, portedModule, type PortTarget } from './harness.js';

/** Registers the ported test_executor.py tests for every launcher of `target`. */
export function portedExecutorTests(target: PortTarget): void {
  portedModule(target, 'test_executor.py', (c) => {
    c.it('test_simple_job: /bin/date completes with exit code 0', async () => {
      const { job, status } = await c.run({ executable: '/bin/date' });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      expect(status.exitCode).toBe(0);
      expect(job.nativeId).toBeTruthy();
    });

    c.it('test_simple_job_redirect: stdout goes to the file, byte for byte', async () => {
      const out = path.join(await c.dir(), 'stdout.txt');
      const { status } = await c.run({ executable: '/bin/echo', arguments: ['-n', '_x_'], stdoutPath: out });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      expect(await readFile(out, 'utf8')).toBe('_x_');
    });

    c.it('test_stderr_redirect: stderr goes to the file, byte for byte', async () => {
      const err = path.join(await c.dir(), 'stderr.txt');
      const { status } = await c.run({ executable: '/bin/bash', arguments: ['-c', 'echo -n _x_ 1>&2'], stderrPath: err });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      expect(await readFile(err, 'utf8')).toBe('_x_');
    });

    c.it('test_attach: a second Job attached on the same executor follows the running job to COMPLETED', async () => {
      const hold = await c.hold();
      const job1 = await c.executor().submit(new Job(c.spec({ executable: hold.executable, arguments: hold.arguments })));
      expect(await job1.wait({ targetStates: ['ACTIVE'], timeout: c.T(60_000) })).toMatchObject({ state: 'ACTIVE' });
      const job2 = new Job();
      await c.executor().attach(job2, job1.nativeId!);
      expect(job2.nativeId).toBe(job1.nativeId);
      // The job is still held: the attached Job must not claim it has finished.
      expect(job2.status.state).not.toMatch(/COMPLETED|FAILED|CANCELED/);
      await hold.release();
      const status2 = await job2.wait({ timeout: c.T(60_000) });
      expect(status2?.state, describeStatus(status2)).toBe('COMPLETED');
      const status1 = await job1.wait({ timeout: c.T(60_000) });
      expect(status1?.state, describeStatus(status1)).toBe('COMPLETED');
    });

    c.it('test_attach2: a Job attached through a second executor instance follows the job to COMPLETED', async () => {
      const hold = await c.hold();
      const job = await c.executor().submit(new Job(c.spec({ executable: hold.executable, arguments: hold.arguments })));
      await job.wait({ targetStates: ['ACTIVE'], timeout: c.T(60_000) });
      const ex2 = await c.target.create();
      try {
        const job2 = new Job();
        await ex2.attach(job2, job.nativeId!);
        expect(job2.status.state).not.toMatch(/COMPLETED|FAILED|CANCELED/);
        await hold.release();
        const status = await job2.wait({ timeout: c.T(60_000) });
        expect(status?.state, describeStatus(status)).toBe('COMPLETED');
        expect((await job.wait({ timeout: c.T(60_000) }))?.state).toBe('COMPLETED');
      } finally {
        await ex2.close();
      }
    });

    c.it('test_cancel: cancelling an ACTIVE job ends it CANCELED', async () => {
      const hold = await c.hold();
      const job = await c.executor().submit(new Job(c.spec({ executable: hold.executable, arguments: hold.arguments })));
      await job.wait({ targetStates: ['ACTIVE'], timeout: c.T(60_000) });
      await hold.started(1);
      await job.cancel();
      const status = await job.wait({ timeout: c.T(30_000) });
      expect(status?.state, describeStatus(status)).toBe('CANCELED');
      await hold.release(); // in case it was not killed: let it go rather than leak it
    });

    c.it('test_failing_job: /bin/false ends FAILED with its exit code', async () => {
      const { status } = await c.run({ executable: '/bin/false' });
      expect(status.state, describeStatus(status)).toBe('FAILED');
      expect(status.exitCode).toBe(1);
    });

    c.it('test_missing_executable: a program that does not exist ends FAILED with a non-zero exit code', async () => {
      const { status } = await c.run({ executable: '/bin/no_such_file_or_directory' });
      expect(status.state, describeStatus(status)).toBe('FAILED');
      expect(status.exitCode).toBeDefined();
      expect(status.exitCode).not.toBe(0);
    });

    c.it('test_parallel_jobs: two jobs of one spec run at the same time and both complete', async () => {
      const hold = await c.hold();
      const spec = c.spec({ executable: hold.executable, arguments: hold.arguments });
      const job1 = await c.executor().submit(new Job(spec));
      const job2 = await c.executor().submit(new Job(spec));
      // Both are running before either is let go: they ran in parallel, not one after the other.
      await hold.started(2);
      expect((await job1.wait({ targetStates: ['ACTIVE'], timeout: c.T(30_000) }))?.state).toBe('ACTIVE');
      expect((await job2.wait({ targetStates: ['ACTIVE'], timeout: c.T(30_000) }))?.state).toBe('ACTIVE');
      await hold.release();
      for (const job of [job1, job2]) {
        const status = await job.wait({ timeout: c.T(60_000) });
        expect(status?.state, describeStatus(status)).toBe('COMPLETED');
      }
    });

    c.it('test_env_var: a string and an integer environment value reach the job', async () => {
      const out = path.join(await c.dir(), 'stdout.txt');
      const { status } = await c.run({
        executable: '/bin/bash',
        arguments: ['-c', 'echo -n $TEST_VAR$TEST_INT'],
        environment: { TEST_INT: 1, TEST_VAR: '_y_' },
        stdoutPath: out,
      });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      expect(await readFile(out, 'utf8')).toBe('_y_1');
    });

    // Not in psij-python's suite, but what its local executor does with every launcher: the job
    // inherits the submitter's environment whole, exported bash functions included (Lmod's
    // `module` reaches jobs this way).
    c.it('test_env_inherited_function: an exported bash function of the submitter reaches the job', async () => {
      const out = path.join(await c.dir(), 'stdout.txt');
      const name = 'BASH_FUNC_exa_psij_fn%%';
      process.env[name] = '() {  echo -n _fn_\n}';
      try {
        const { status } = await c.run({
          executable: '/bin/bash',
          arguments: ['-c', 'exa_psij_fn'],
          stdoutPath: out,
          stderrPath: out,
        });
        expect(status.state, `${describeStatus(status)} output=${await readFile(out, 'utf8')}`).toBe('COMPLETED');
        expect(await readFile(out, 'utf8')).toBe('_fn_');
      } finally {
        delete process.env[name];
      }
    });

    c.it('test_stdin_redirect: the job reads its stdin from the file', async () => {
      const d = await c.dir();
      const input = path.join(d, 'stdin.txt');
      const out = path.join(d, 'stdout.txt');
      const text = randomUUID().replaceAll('-', '');
      await writeFile(input, text);
      const { status } = await c.run({ executable: '/bin/cat', stdinPath: input, stdoutPath: out });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      expect(await readFile(out, 'utf8')).toBe(text);
    });

    // Not in psij-python's suite; what its local executor does: every copy of a `multiple` job
    // reads the stdin file from its start. (Under MPI, stdin is the MPI's business: Open MPI
    // hands it to rank 0 and closes it for the others, MPICH leaves the others reading forever.)
    if (!MPI_LAUNCHERS.has(c.launcher)) {
      c.it('test_stdin_redirect_copies: each of 3 copies reads the whole stdin file', async () => {
        const d = await c.dir();
        const input = path.join(d, 'stdin.txt');
        const out = path.join(d, 'stdout.txt');
        const line = `${'0123456789'.repeat(1000)}\n`;
        await writeFile(input, line);
        const { status } = await c.run({
          executable: '/bin/cat',
          stdinPath: input,
          stdoutPath: out,
          resources: { processCount: 3 },
        });
        expect(status.state, describeStatus(status)).toBe('COMPLETED');
        const readers = c.launcher === 'single' ? 1 : 3;
        expect((await readFile(out, 'utf8')).length / line.length).toBe(readers);
      });
    }

    c.it('test_list: list() names a submitted job while it runs', async () => {
      const hold = await c.hold();
      const job = await c.executor().submit(new Job(c.spec({ executable: hold.executable, arguments: hold.arguments })));
      expect(job.nativeId).toBeTruthy();
      expect(await c.executor().list()).toContain(job.nativeId);
      await hold.release();
      const status = await job.wait({ timeout: c.T(60_000) });
      expect(status?.state, describeStatus(status)).toBe('COMPLETED');
    });
  });
}
