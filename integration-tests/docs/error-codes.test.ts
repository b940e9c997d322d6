/** The error-code table in docs/guide/concepts.md lists every `ErrorCode`, and nothing that is not one. */
import { readFileSync } from 'node:fs';
import { ErrorCode } from '@exaworks/jpsi-core';
import { describe, expect, it } from 'vitest';

const page = readFileSync(new URL('../../docs/guide/concepts.md', import.meta.url), 'utf8');
const tableCodes = [...page.matchAll(/^\| `(EXAWORKS_[A-Z_]+)` \|/gm)].map((m) => m[1]);

describe('docs/guide/concepts.md error codes', () => {
  it('has one row per ErrorCode value', () => {
    expect([...tableCodes].sort()).toEqual(Object.values(ErrorCode).sort());
  });
});
