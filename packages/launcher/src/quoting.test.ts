// jpsi-core's shellQuote/shellJoin (the one escaping function) against real shells: bash and dash.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '@exaworks/jpsi-core';
import { cleanup, tempDir } from './test-support/run-job.js';

const dir = tempDir('xw-quoting-');
const marker = path.join(dir, 'INJECTED');
afterAll(() => cleanup(dir));

/** What `shell` reads back from a command line built with shellJoin, split on NUL. */
function roundTrip(shell: string, words: readonly string[]): string[] {
  const script = `for a in ${shellJoin(words)}; do printf '%s\\0' "$a"; done`;
  const r = spawnSync(shell, ['-c', script], { cwd: dir, encoding: 'buffer', env: { PATH: '/usr/bin:/bin', LC_ALL: 'C.UTF-8' } });
  expect(r.status, r.stderr.toString()).toBe(0);
  return r.stdout.toString('utf8').split('\0').slice(0, -1);
}

// Words aimed at breaking out of quoting: each would create the marker if it were executed.
const injection = fc.constantFrom(
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `'; touch ${marker}; '`,
  `"; touch ${marker}; "`,
  `\n touch ${marker}\n`,
  `| touch ${marker}`,
  `&& touch ${marker}`,
  `'$(touch ${marker})'`,
  `\\'; touch ${marker} #`,
  `$'\\x27'; touch ${marker}`,
  `> ${marker}`,
  `\${x:=$(touch ${marker})}`,
);
const anyWord = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
const word = fc.oneof(
  anyWord,
  injection,
  fc.tuple(anyWord, injection, anyWord).map(([a, b, c]) => a + b + c),
);

describe.each(['/bin/bash', '/bin/dash'])('shellQuote through real %s', (shell) => {
  it('round-trips arbitrary unicode words exactly and never executes anything', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), (words) => {
        expect(roundTrip(shell, words)).toEqual(words);
        expect(existsSync(marker)).toBe(false);
      }),
      { numRuns: 200 },
    );
  }, 180_000);

  it('keeps special edge cases as one word each', () => {
    const words = [
      '',
      ' ',
      "'",
      "''",
      '"',
      '\\',
      '$',
      '!',
      '#',
      '~',
      '*',
      '?',
      '[a]',
      '{a,b}',
      'A=b',
      '-e',
      '\n',
      '\t',
      'é',
      '🚀',
      '\u202e',
    ];
    expect(roundTrip(shell, words)).toEqual(words);
  });
});

describe('shellQuote', () => {
  it('leaves plain words alone and quotes everything else', () => {
    expect(shellQuote('abc/def-1.2')).toBe('abc/def-1.2');
    expect(shellQuote('A=b')).toBe("'A=b'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
  it('rejects NUL', () => {
    expect(() => shellQuote('a\0b')).toThrow(TypeError);
  });
});
