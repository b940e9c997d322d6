import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isValidEnvName, shellJoin, shellQuote } from './shell.js';

// The real-shell round-trip property test lives in @exaworks/launcher (it runs bash and dash);
// these check the quoting rules themselves.
describe('shellQuote', () => {
  it('leaves plain words alone and quotes everything else', () => {
    expect(shellQuote('abc/def-1.2')).toBe('abc/def-1.2');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$(id)')).toBe("'$(id)'");
    expect(shellQuote('A=b')).toBe("'A=b'");
    expect(shellQuote('~')).toBe("'~'");
    expect(shellJoin(['echo', 'a b'])).toBe("echo 'a b'");
  });
  it('rejects NUL', () => {
    expect(() => shellQuote('a\0b')).toThrow(TypeError);
  });
  it('output outside single quotes only ever contains escaped quotes (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\0')),
        (s) => {
          const q = shellQuote(s);
          if (q === s) {
            expect(s).toMatch(/^[A-Za-z0-9_@%+:,./-]+$/);
            return;
          }
          // Quoted form: '…' with each embedded ' written as '\'' and no other quote inside.
          expect(q.startsWith("'") && q.endsWith("'")).toBe(true);
          const pieces = q.slice(1, -1).split("'\\''");
          for (const piece of pieces) expect(piece).not.toContain("'");
          expect(pieces.join("'")).toBe(s);
        },
      ),
    );
  });
  it('validates environment names', () => {
    expect(isValidEnvName('OMP_NUM_THREADS')).toBe(true);
    expect(isValidEnvName('1X')).toBe(false);
    expect(isValidEnvName('A-B')).toBe(false);
  });
});
