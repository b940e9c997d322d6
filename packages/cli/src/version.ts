/**
 * The CLI's version, read without jpsi-core so `exaworks --version` loads commander alone.
 * @module
 */
import { readFileSync } from 'node:fs';

/** The version of this CLI package. */
export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
