import { describe, expect, it } from 'vitest';
import { ValidationError, type ValidationIssue } from './errors.js';
import { MAX_DURATION_SECONDS, parseDuration } from './duration.js';
import { MAX_ARG_STRLEN, MAX_PROCESS_COUNT, createJobSpec, type JobSpecInput } from './spec.js';
import { envNameProblem } from './shell.js';

function issuesOf(input: JobSpecInput): ValidationIssue[] {
  try {
    createJobSpec(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return [...(err as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

describe('environment names the job script or its shell owns', () => {
  for (const name of [
    'OPTIND',
    'PPID',
    'UID',
    'EUID',
    'IFS',
    'LINENO',
    '_xw_rc',
    '_xw_failure',
    'PSIJ_NODEFILE',
    'EXAWORKS_LAUNCH_FAILURE_FILE',
  ]) {
    it(`refuses ${name} with a ValidationError naming environment.${name}`, () => {
      const issues = issuesOf({ executable: '/bin/true', environment: { [name]: '3' } });
      expect(issues).toHaveLength(1);
      expect(issues[0]!.path).toBe(`environment.${name}`);
      expect(issues[0]!.message).toContain(`"${name}"`);
    });
  }

  it('keeps names the job script honours (PWD, OLDPWD, HOME, PATH, BASH_ENV)', () => {
    const env = { PWD: '/x', OLDPWD: '/y', HOME: '/h', PATH: '/bin', BASH_ENV: '/e' };
    expect(createJobSpec({ executable: '/bin/true', environment: env }).environment).toEqual(env);
    for (const name of Object.keys(env)) expect(envNameProblem(name)).toBeUndefined();
  });

  it('keeps "__proto__" as an ordinary variable name (a JSON spec can hold it), never dropping it', () => {
    const environment = JSON.parse('{"__proto__": "p", "A": "1"}') as Record<string, string>;
    const spec = createJobSpec({ executable: '/bin/true', environment });
    expect(Object.keys(spec.environment).sort()).toEqual(['A', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(spec.environment, '__proto__')?.value).toBe('p');
  });
});

describe('limits', () => {
  it('refuses durations past the maximum (1e308 s, Infinity) and accepts the maximum itself', () => {
    expect(parseDuration('1e308 s')).toHaveProperty('error');
    expect(parseDuration(`${MAX_DURATION_SECONDS + 1} s`)).toMatchObject({ error: expect.stringContaining('at most 365 days') });
    expect(parseDuration(1e308)).toHaveProperty('error');
    expect(parseDuration(`${MAX_DURATION_SECONDS} s`)).toEqual({ seconds: MAX_DURATION_SECONDS });
    const issues = issuesOf({ executable: '/bin/true', attributes: { duration: '1e308 s' } });
    expect(issues.map((i) => i.path)).toEqual(['attributes.duration']);
  });

  it('refuses process counts past MAX_PROCESS_COUNT, given or derived, with a clear message', () => {
    expect(issuesOf({ executable: '/bin/true', resources: { processCount: 1_000_000_000 } })).toEqual([
      { path: 'resources.processCount', message: expect.stringContaining(`at most ${MAX_PROCESS_COUNT}`) },
    ]);
    const derived = issuesOf({ executable: '/bin/true', resources: { nodeCount: 100_000, processesPerNode: 100_000 } });
    expect(derived[0]!.message).toContain(`at most ${MAX_PROCESS_COUNT}`);
    expect(
      createJobSpec({ executable: '/bin/true', resources: { processCount: MAX_PROCESS_COUNT } }).resources.computedProcessCount,
    ).toBe(MAX_PROCESS_COUNT);
  });

  it('refuses an argument, executable or environment entry Linux could not exec (MAX_ARG_STRLEN), naming the limit', () => {
    const big = 'x'.repeat(1024 * 1024);
    const issues = issuesOf({ executable: '/bin/echo', arguments: ['ok', big], environment: { BIG: big } });
    expect(issues.map((i) => i.path).sort()).toEqual(['arguments[1]', 'environment.BIG']);
    for (const i of issues) expect(i.message).toContain(`MAX_ARG_STRLEN, ${MAX_ARG_STRLEN} bytes`);
    // The limit counts bytes with the terminating NUL (and NAME= for a variable).
    expect(() =>
      createJobSpec({ executable: '/bin/echo', arguments: ['é'.repeat(Math.floor((MAX_ARG_STRLEN - 1) / 2))] }),
    ).not.toThrow();
    expect(issuesOf({ executable: '/bin/echo', arguments: ['y'.repeat(MAX_ARG_STRLEN)] })[0]!.path).toBe('arguments[0]');
  });
});
