/**
 * Port of psij-python `tests/test_staging.py`: stage-in of files and of a directory, stage-out,
 * stage-out flags and cleanup, in each staging mode. psij-python runs every launcher on `local`
 * (staging must not depend on the launcher) and only `single` elsewhere; so does this port, with
 * {@link PortTarget.launchers} deciding. As in psij-python, stage-out targets that already exist
 * (an empty temporary file) are replaced.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { StagingMode } from '@exaworks/jpsi-core';
import { describeStatus, exists, portedModule, readIfExists, type PortContext, type PortTarget } from './harness.js';

const MODES: readonly StagingMode[] = ['COPY', 'MOVE', 'LINK'];

/** A fresh job directory, an existing empty file for stage-out (as psij-python's `_temppath`), and a stderr file. */
async function layout(c: PortContext): Promise<{ dir: string; out: string; err: string; scratch: string }> {
  const scratch = await c.dir();
  const dir = path.join(scratch, 'job');
  await mkdir(dir);
  const out = path.join(scratch, 'out-target');
  await writeFile(out, '');
  return { dir, out, err: path.join(scratch, 'stderr.txt'), scratch };
}

/** Registers the ported test_staging.py tests for every launcher of `target`. */
export function portedStagingTests(target: PortTarget): void {
  portedModule(target, 'test_staging.py', (c) => {
    for (const mode of MODES) {
      c.it(`test_stagein[${mode}]: two files, one into a new subdirectory, reach the job directory`, async () => {
        const { dir, out, err, scratch } = await layout(c);
        const f1 = path.join(scratch, 'src1');
        const f2 = path.join(scratch, 'src2');
        await writeFile(f1, 'ABCD');
        await writeFile(f2, 'EFGH');
        const { status } = await c.run({
          executable: '/bin/cat',
          arguments: ['in1.txt', 'subdir/in2.txt'],
          directory: dir,
          stdoutPath: out,
          stderrPath: err,
          stageIn: [
            { source: f1, target: 'in1.txt', mode },
            { source: f2, target: 'subdir/in2.txt', mode },
          ],
        });
        expect(status.state, `${describeStatus(status)} stderr=${await readIfExists(err)}`).toBe('COMPLETED');
        expect(await readIfExists(out)).toBe('ABCDEFGH');
      });
    }

    for (const mode of MODES) {
      c.it(`test_dir_stagein[${mode}]: a directory reaches the job directory under a new name`, async () => {
        const { dir, out, err, scratch } = await layout(c);
        const sub = path.join(scratch, 'in', 'subdir');
        await mkdir(sub, { recursive: true });
        await writeFile(path.join(sub, 'in3.txt'), 'IJKL');
        await writeFile(path.join(sub, 'in4.txt'), 'MNOP');
        const { status } = await c.run({
          executable: '/bin/cat',
          arguments: ['indir/in3.txt', 'indir/in4.txt'],
          directory: dir,
          stdoutPath: out,
          stderrPath: err,
          stageIn: [{ source: sub, target: 'indir', mode }],
        });
        expect(status.state, `${describeStatus(status)} stderr=${await readIfExists(err)}`).toBe('COMPLETED');
        expect(await readIfExists(out)).toBe('IJKLMNOP');
      });
    }

    for (const mode of MODES) {
      c.it(`test_stageout[${mode}]: the job's output file is staged out over an existing file`, async () => {
        const { dir, out, err } = await layout(c);
        const { status } = await c.run({
          executable: '/bin/echo',
          arguments: ['-n', 'CDEF'],
          directory: dir,
          stdoutPath: 'out.txt',
          stderrPath: err,
          stageOut: [{ source: 'out.txt', target: out, mode }],
        });
        expect(status.state, describeStatus(status)).toBe('COMPLETED');
        expect(await readIfExists(out)).toBe('CDEF');
      });
    }

    c.it('test_stageout_flags1: IF_PRESENT stages what exists and skips what does not', async () => {
      const { dir, out, err, scratch } = await layout(c);
      const out2 = path.join(scratch, 'out2-target');
      const { status } = await c.run({
        executable: '/bin/echo',
        arguments: ['-n', 'ABC123'],
        directory: dir,
        stdoutPath: 'out1.txt',
        stderrPath: err,
        stageOut: [
          { source: 'out1.txt', target: out, flags: ['IF_PRESENT'] },
          { source: 'out2.txt', target: out2, flags: ['IF_PRESENT'] },
        ],
      });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      expect(await readIfExists(out)).toBe('ABC123');
      expect(await exists(out2)).toBe(false);
    });

    c.it('test_stageout_flags2: ON_SUCCESS stages after success only', async () => {
      const ok = await layout(c);
      const good = await c.run({
        executable: '/bin/echo',
        arguments: ['-n', 'EFG456'],
        directory: ok.dir,
        stdoutPath: 'out.txt',
        stderrPath: ok.err,
        stageOut: [{ source: 'out.txt', target: ok.out, flags: ['ON_SUCCESS'] }],
      });
      expect(good.status.state, describeStatus(good.status)).toBe('COMPLETED');
      expect(await readIfExists(ok.out)).toBe('EFG456');

      const bad = await layout(c);
      const target = path.join(bad.scratch, 'absent-target');
      const failed = await c.run({
        executable: '/bin/bash',
        arguments: ['-c', 'echo -n "ABC" > out.txt; exit 1'],
        directory: bad.dir,
        stderrPath: bad.err,
        stageOut: [{ source: 'out.txt', target, flags: ['ON_SUCCESS'] }],
      });
      expect(failed.status.state, describeStatus(failed.status)).toBe('FAILED');
      expect(await exists(target)).toBe(false);
    });

    c.it('test_stageout_flags3: ON_ERROR stages after failure only', async () => {
      const ok = await layout(c);
      const target = path.join(ok.scratch, 'absent-target');
      const good = await c.run({
        executable: '/bin/echo',
        arguments: ['-n', 'EFG456'],
        directory: ok.dir,
        stdoutPath: 'out.txt',
        stderrPath: ok.err,
        stageOut: [{ source: 'out.txt', target, flags: ['ON_ERROR'] }],
      });
      expect(good.status.state, describeStatus(good.status)).toBe('COMPLETED');
      expect(await exists(target)).toBe(false);

      const bad = await layout(c);
      const failed = await c.run({
        executable: '/bin/bash',
        arguments: ['-c', 'echo -n "ABC" > out.txt; exit 1'],
        directory: bad.dir,
        stderrPath: bad.err,
        stageOut: [{ source: 'out.txt', target: bad.out, flags: ['ON_ERROR'] }],
      });
      expect(failed.status.state, describeStatus(failed.status)).toBe('FAILED');
      expect(failed.status.exitCode).toBe(1);
      expect(await readIfExists(bad.out)).toBe('ABC');
    });

    c.it('test_cleanup: a cleaned-up file is gone after being staged out', async () => {
      const { dir, out, err } = await layout(c);
      const { status } = await c.run({
        executable: '/bin/echo',
        arguments: ['-n', 'ABC'],
        directory: dir,
        stdoutPath: 'out.txt',
        stderrPath: err,
        stageOut: [{ source: 'out.txt', target: out, flags: ['IF_PRESENT'] }],
        cleanup: ['out.txt'],
      });
      expect(status.state, describeStatus(status)).toBe('COMPLETED');
      expect(await readIfExists(out)).toBe('ABC');
      expect(await exists(path.join(dir, 'out.txt'))).toBe(false);
    });

    c.it('test_cleanup2: cleanup ON_SUCCESS leaves the file of a failed job in place', async () => {
      const { dir, out, err } = await layout(c);
      const { status } = await c.run({
        executable: '/bin/bash',
        arguments: ['-c', 'echo -n "ABC" > out.txt; exit 1'],
        directory: dir,
        stderrPath: err,
        stageOut: [{ source: 'out.txt', target: out, flags: ['IF_PRESENT'] }],
        cleanup: ['out.txt'],
        cleanupFlags: ['ON_SUCCESS'],
      });
      expect(status.state, describeStatus(status)).toBe('FAILED');
      expect(await exists(path.join(dir, 'out.txt'))).toBe(true);
      expect(await readIfExists(out)).toBe('ABC');
    });

    // Not in psij-python's test file; what its local executor does (FAILED, exit code 121, "Missing source file: …").
    c.it(
      'test_stageout_missing: a missing stage-out source without IF_PRESENT fails the job with a non-zero exit code',
      async () => {
        const { dir, out, err } = await layout(c);
        const { status } = await c.run({
          executable: '/bin/true',
          directory: dir,
          stderrPath: err,
          stageOut: [{ source: 'missing.txt', target: out }],
        });
        expect(status.state, describeStatus(status)).toBe('FAILED');
        expect(status.exitCode).toBeDefined();
        expect(status.exitCode).not.toBe(0);
        expect(status.message ?? '').toContain('missing.txt');
      },
    );

    c.it('test_stagein_missing: a missing stage-in source fails the job without running it', async () => {
      const { dir, err, scratch } = await layout(c);
      const source = path.join(scratch, 'no-such-source');
      const ran = path.join(scratch, 'ran');
      const { status } = await c.run({
        executable: '/bin/touch',
        arguments: [ran],
        directory: dir,
        stderrPath: err,
        stageIn: [{ source, target: 'x.txt' }],
      });
      expect(status.state, describeStatus(status)).toBe('FAILED');
      if (status.exitCode !== undefined) expect(status.exitCode).not.toBe(0);
      expect(status.message ?? '').toContain(source);
      expect(await exists(ran)).toBe(false);
    });
  });
}
