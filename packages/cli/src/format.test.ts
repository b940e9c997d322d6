import { describe, expect, it } from 'vitest';
import { ExaworksError, JobNotFoundError, ValidationError } from '@exaworks/jpsi-core';
import {
  CLEAR_LINE,
  ExitCode,
  errorToJson,
  exitCodeForError,
  exitCodeForJob,
  formatBytes,
  formatElapsed,
  formatError,
  formatJobTable,
  formatStatusLine,
  formatTable,
} from './format.js';

describe('exit codes', () => {
  it('passes on a job exit code and maps jobs without one', () => {
    expect(exitCodeForJob('COMPLETED', 0)).toBe(0);
    expect(exitCodeForJob('FAILED', 3)).toBe(3);
    expect(exitCodeForJob('FAILED', 255)).toBe(255);
    expect(exitCodeForJob('FAILED', null)).toBe(1);
    expect(exitCodeForJob('FAILED', 0)).toBe(1); // a machinery failure is never success
    expect(exitCodeForJob('FAILED', 300)).toBe(1);
    expect(exitCodeForJob('FAILED', -9)).toBe(1);
    expect(exitCodeForJob('CANCELED', undefined)).toBe(1);
    expect(exitCodeForJob('CANCELED', 143)).toBe(143);
  });

  it('uses 2 for invalid input and 1 for other errors', () => {
    expect(exitCodeForError(new ValidationError('job spec', [{ path: 'a', message: 'b' }]))).toBe(ExitCode.USAGE);
    expect(exitCodeForError(new JobNotFoundError('42', 'local'))).toBe(ExitCode.FAILURE);
    expect(exitCodeForError(new Error('boom'))).toBe(ExitCode.FAILURE);
  });
});

describe('errors', () => {
  const invalid = new ValidationError('job spec', [
    { path: 'resources.nodeCount', message: 'nodeCount must be at least 1' },
    { path: '', message: 'a job spec must be an object' },
  ]);

  it('prints one line per field, no stack', () => {
    const text = formatError(invalid);
    expect(text).toBe(
      'error: invalid job spec:\n  resources.nodeCount: nodeCount must be at least 1\n  (root): a job spec must be an object\n',
    );
    expect(text).not.toMatch(/at .*\.js/);
  });

  it('prints message and code for other ExaworksErrors; the stack only when verbose', () => {
    const err = new JobNotFoundError('42', 'local');
    expect(formatError(err)).toBe('error: The local executor has no job with native id "42". [EXAWORKS_JOB_NOT_FOUND]\n');
    const verbose = formatError(new ExaworksError('EXAWORKS_BACKEND', 'down', { cause: new Error('ECONNREFUSED') }), true);
    expect(verbose).toMatch(/error: down \[EXAWORKS_BACKEND\]/);
    expect(verbose).toMatch(/at .*format\.test/);
    expect(verbose).toMatch(/caused by: Error: ECONNREFUSED/);
  });

  it('marks unexpected errors and hints at --verbose', () => {
    expect(formatError(new TypeError('x is undefined'))).toBe(
      'error: x is undefined [EXAWORKS_INTERNAL]\n(run with --verbose for details)\n',
    );
  });

  it('has a JSON form with code and issues', () => {
    expect(errorToJson(invalid)).toMatchObject({ name: 'ValidationError', code: 'EXAWORKS_VALIDATION', issues: invalid.issues });
    expect(errorToJson(new RangeError('r'))).toEqual({ name: 'RangeError', code: 'EXAWORKS_INTERNAL', message: 'r' });
    expect(errorToJson('weird')).toEqual({ name: 'Error', code: 'EXAWORKS_INTERNAL', message: 'weird' });
  });
});

describe('tables and lines', () => {
  it('aligns columns', () => {
    expect(
      formatTable(
        ['A', 'BB'],
        [
          ['xxx', 'y'],
          ['z', 'wwww'],
        ],
      ),
    ).toBe('A    BB\nxxx  y\nz    wwww\n');
  });

  it('lays out jobs and error rows', () => {
    const text = formatJobTable([
      { id: 'i', nativeId: '123', executor: 'local', name: 'echo', state: 'COMPLETED', exitCode: 0, message: null, time: '' },
      {
        id: 'j',
        nativeId: '1234567',
        executor: 'local',
        name: null,
        state: 'FAILED',
        exitCode: null,
        message: 'pre-launch\nfailed',
        time: '',
      },
      { nativeId: 'nope', error: { name: 'JobNotFoundError', code: 'EXAWORKS_JOB_NOT_FOUND', message: 'no such job' } },
    ]);
    expect(text.split('\n')).toEqual([
      'NATIVE ID  STATE      EXIT  NAME  MESSAGE',
      '123        COMPLETED  0     echo',
      '1234567    FAILED     -     -     pre-launch failed',
      'nope       ERROR      -     -     no such job',
      '',
    ]);
  });

  it('formats the status line', () => {
    expect(formatStatusLine({ nativeId: '7', state: 'ACTIVE', exitCode: null, message: null }, 65_000)).toBe(
      'job 7 ACTIVE 01:05',
    );
    expect(formatStatusLine({ nativeId: '7', state: 'FAILED', exitCode: 3, message: null }, 3_723_000)).toBe(
      'job 7 FAILED exit 3 1:02:03',
    );
    expect(formatStatusLine({ nativeId: null, state: 'NEW', exitCode: null, message: null }, 0)).toBe(
      'job (submitting) NEW 00:00',
    );
    expect(formatElapsed(-5)).toBe('00:00');
    expect(CLEAR_LINE).toBe('\r\x1b[2K');
  });

  it('formats byte counts', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(4 * 1024 ** 3)).toBe('4.0 GiB');
  });
});
