import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Job } from '@exaworks/jpsi-core';
import { tempDir, useExecutors } from './test-support/helpers.js';

const executor = useExecutors({ maxCores: 2, pollInterval: 50 });

function dirs(): { src: string; job: string; out: string } {
  const root = tempDir('xw-stage-');
  const d = { src: path.join(root, 'src'), job: path.join(root, 'job'), out: path.join(root, 'out') };
  for (const p of Object.values(d)) mkdirSync(p);
  return d;
}

describe('LocalExecutor: staging', () => {
  it('stages in by COPY, LINK and MOVE before the job runs (relative targets in the job directory)', async () => {
    const e = executor();
    const d = dirs();
    for (const f of ['c', 'l', 'm']) writeFileSync(path.join(d.src, f), `content ${f}\n`);
    const job = await e.submit(
      new Job({
        executable: '/bin/sh',
        arguments: ['-c', 'cat in/c linked moved'],
        directory: d.job,
        stdoutPath: path.join(d.out, 'stdout'),
        stageIn: [
          { source: path.join(d.src, 'c'), target: 'in/c' },
          { source: pathToFileURL(path.join(d.src, 'l')).href, target: 'linked', mode: 'LINK' },
          { source: path.join(d.src, 'm'), target: 'moved', mode: 'MOVE' },
        ],
      }),
    );
    const status = await job.wait();
    expect(status?.state).toBe('COMPLETED');
    expect(readFileSync(path.join(d.out, 'stdout'), 'utf8')).toBe('content c\ncontent l\ncontent m\n');
    expect(existsSync(path.join(d.src, 'c'))).toBe(true);
    expect(lstatSync(path.join(d.job, 'linked')).isSymbolicLink()).toBe(true);
    expect(existsSync(path.join(d.src, 'm'))).toBe(false);
  });

  it('fails the job without running it when stage-in fails', async () => {
    const e = executor();
    const d = dirs();
    const job = await e.submit(
      new Job({
        executable: '/bin/touch',
        arguments: ['ran'],
        directory: d.job,
        stageIn: [{ source: path.join(d.src, 'missing'), target: 'x' }],
      }),
    );
    const status = await job.wait();
    expect(status?.state).toBe('FAILED');
    expect(status?.message).toMatch(/stage-in.*does not exist/i);
    expect(job.history.map((s) => s.state)).toEqual(['NEW', 'QUEUED', 'STAGE_IN', 'FAILED']);
    expect(existsSync(path.join(d.job, 'ran'))).toBe(false);
  });

  it('stages out after the job, honouring IF_PRESENT, ON_SUCCESS and ON_ERROR', async () => {
    const e = executor();
    const d = dirs();
    const job = await e.submit(
      new Job({
        executable: '/bin/sh',
        arguments: ['-c', 'echo result > result.txt'],
        directory: d.job,
        stageOut: [
          { source: 'result.txt', target: path.join(d.out, 'copied.txt') },
          { source: 'result.txt', target: path.join(d.out, 'on-error.txt'), flags: ['ON_ERROR'] },
          { source: 'absent.txt', target: path.join(d.out, 'absent.txt'), flags: ['IF_PRESENT'] },
          {
            source: 'result.txt',
            target: pathToFileURL(path.join(d.out, 'moved.txt')).href,
            mode: 'MOVE',
            flags: ['ON_SUCCESS'],
          },
        ],
      }),
    );
    expect((await job.wait())?.state).toBe('COMPLETED');
    expect(readFileSync(path.join(d.out, 'copied.txt'), 'utf8')).toBe('result\n');
    expect(readFileSync(path.join(d.out, 'moved.txt'), 'utf8')).toBe('result\n');
    expect(existsSync(path.join(d.out, 'on-error.txt'))).toBe(false);
    expect(existsSync(path.join(d.out, 'absent.txt'))).toBe(false);
    expect(existsSync(path.join(d.job, 'result.txt'))).toBe(false);
  });

  it('fails a successful job whose stage-out source is missing without IF_PRESENT, with a non-zero exit code (1)', async () => {
    const e = executor();
    const d = dirs();
    const job = await e.submit(
      new Job({ executable: '/bin/true', directory: d.job, stageOut: [{ source: 'never-made', target: path.join(d.out, 'x') }] }),
    );
    const status = await job.wait();
    expect(status?.state).toBe('FAILED');
    expect(status?.exitCode).toBe(1); // psij-python's FAILED always carries a non-zero code
    expect(status?.message).toMatch(/stage-out source .*never-made does not exist/);
  });

  it('stages out ON_ERROR files of a failed job and cleans up by its flags', async () => {
    const e = executor();
    const d = dirs();
    const job = await e.submit(
      new Job({
        executable: '/bin/sh',
        arguments: ['-c', 'echo log > debug.log; mkdir scratch; touch scratch/a keep; exit 3'],
        directory: d.job,
        stageOut: [
          { source: 'debug.log', target: path.join(d.out, 'debug.log'), flags: ['ON_ERROR'] },
          { source: 'debug.log', target: path.join(d.out, 'success-only.log'), flags: ['ON_SUCCESS'] },
        ],
        cleanup: ['scratch', 'debug.log'],
        cleanupFlags: ['ON_ERROR'],
      }),
    );
    const status = await job.wait();
    expect(status).toMatchObject({ state: 'FAILED', exitCode: 3 });
    expect(readFileSync(path.join(d.out, 'debug.log'), 'utf8')).toBe('log\n');
    expect(existsSync(path.join(d.out, 'success-only.log'))).toBe(false);
    expect(existsSync(path.join(d.job, 'scratch'))).toBe(false);
    expect(existsSync(path.join(d.job, 'debug.log'))).toBe(false);
    expect(existsSync(path.join(d.job, 'keep'))).toBe(true);
  });

  it('skips cleanup whose flags do not match, and refuses paths outside the job directory', async () => {
    const e = executor();
    const d = dirs();
    writeFileSync(path.join(d.out, 'precious'), 'x');
    const job = await e.submit(
      new Job({
        executable: '/bin/sh',
        arguments: ['-c', 'touch t'],
        directory: d.job,
        cleanup: ['t', path.join(d.out, 'precious')],
        cleanupFlags: ['ON_SUCCESS'],
      }),
    );
    const status = await job.wait();
    expect(status?.state).toBe('COMPLETED');
    expect(status?.message).toMatch(/not inside the job directory/);
    expect(existsSync(path.join(d.job, 't'))).toBe(false);
    expect(existsSync(path.join(d.out, 'precious'))).toBe(true);
    const canceledStyle = await e.submit(
      new Job({
        executable: '/bin/sh',
        arguments: ['-c', 'touch u'],
        directory: d.job,
        cleanup: ['u'],
        cleanupFlags: ['ON_ERROR'],
      }),
    );
    await canceledStyle.wait();
    expect(existsSync(path.join(d.job, 'u'))).toBe(true);
  });

  it('LINK stage-in onto an existing directory (target ".") fails the job without running it and keeps the directory', async () => {
    const e = executor();
    const d = dirs();
    writeFileSync(path.join(d.src, 'data'), 'data\n');
    writeFileSync(path.join(d.job, 'keep'), 'kept\n');
    const job = await e.submit(
      new Job({
        executable: '/bin/touch',
        arguments: ['ran'],
        directory: d.job,
        stageIn: [{ source: path.join(d.src, 'data'), target: '.', mode: 'LINK' }],
      }),
    );
    const status = await job.wait();
    expect(status?.state).toBe('FAILED');
    expect(status?.message).toMatch(/is an existing directory; LINK replaces only a file or a symlink/);
    expect(lstatSync(d.job).isDirectory()).toBe(true);
    expect(readFileSync(path.join(d.job, 'keep'), 'utf8')).toBe('kept\n');
    expect(existsSync(path.join(d.job, 'ran'))).toBe(false);
  });

  it('LINK stage-out onto an existing directory fails the job (exit 1) and leaves that directory alone', async () => {
    const e = executor();
    const d = dirs();
    const precious = path.join(d.out, 'precious');
    mkdirSync(precious);
    writeFileSync(path.join(precious, 'file'), 'mine\n');
    const job = await e.submit(
      new Job({
        executable: '/bin/sh',
        arguments: ['-c', 'echo out > result'],
        directory: d.job,
        stageOut: [{ source: 'result', target: precious, mode: 'LINK' }],
      }),
    );
    const status = await job.wait();
    expect(status).toMatchObject({ state: 'FAILED', exitCode: 1 });
    expect(status?.message).toMatch(/stage-out .* is an existing directory/);
    expect(lstatSync(precious).isDirectory()).toBe(true);
    expect(readFileSync(path.join(precious, 'file'), 'utf8')).toBe('mine\n');
  });

  it('LINK replaces an existing file or symlink at the target', async () => {
    const e = executor();
    const d = dirs();
    writeFileSync(path.join(d.src, 'a'), 'new\n');
    writeFileSync(path.join(d.job, 'file'), 'old\n');
    symlinkSync(path.join(d.src, 'nowhere'), path.join(d.job, 'link'));
    const job = await e.submit(
      new Job({
        executable: '/bin/sh',
        arguments: ['-c', 'cat file link'],
        directory: d.job,
        stdoutPath: path.join(d.out, 'stdout'),
        stageIn: [
          { source: path.join(d.src, 'a'), target: 'file', mode: 'LINK' },
          { source: path.join(d.src, 'a'), target: 'link', mode: 'LINK' },
        ],
      }),
    );
    expect((await job.wait())?.state).toBe('COMPLETED');
    expect(readFileSync(path.join(d.out, 'stdout'), 'utf8')).toBe('new\nnew\n');
    expect(lstatSync(path.join(d.job, 'file')).isSymbolicLink()).toBe(true);
  });
});
