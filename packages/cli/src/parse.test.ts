import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeForSignal, interruptedExitCode } from './exit-codes.js';
import { parseAgeSeconds, parseStateOption, parseTimeoutSeconds } from './parse.js';

describe('option parsers', () => {
  it('--older-than takes jpsi-core durations', () => {
    expect(parseAgeSeconds('7d')).toBe(7 * 86_400);
    expect(parseAgeSeconds('12 h')).toBe(12 * 3600);
    expect(parseAgeSeconds('1-00:00:00')).toBe(86_400);
    expect(parseAgeSeconds('30')).toBe(30 * 60); // a bare number is minutes, as everywhere in PSI/J
    expect(() => parseAgeSeconds('soon')).toThrow(/olderThan|older-than/);
  });

  it('--timeout is seconds or a duration; --state a state name in any case', () => {
    expect(parseTimeoutSeconds('0.5')).toBe(0.5);
    expect(parseTimeoutSeconds('2 min')).toBe(120);
    expect(() => parseTimeoutSeconds('-1')).toThrow(/timeout/);
    expect(parseStateOption('active')).toBe('ACTIVE');
    expect(() => parseStateOption('RUNNING')).toThrow(/not a job state/);
  });
});

describe('exit codes for signals', () => {
  it('are 128 + the signal number', () => {
    expect(exitCodeForSignal('SIGINT')).toBe(130);
    expect(exitCodeForSignal('SIGTERM')).toBe(143);
    expect(exitCodeForSignal('SIGHUP')).toBe(129);
    expect(exitCodeForSignal(undefined)).toBe(ExitCode.INTERRUPTED);
    const c = new AbortController();
    c.abort(new Error('SIGTERM'));
    expect(interruptedExitCode(c.signal)).toBe(143);
  });
});
