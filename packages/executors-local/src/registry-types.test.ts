// getExecutor is typed by executor name: a misspelt local option fails `tsc` (npm run typecheck) and, at run time, validation.
import { describe, expect, it } from 'vitest';
import { ValidationError, getExecutor } from '@exaworks/jpsi-core';
import './index.js'; // brings the ExecutorConfigs augmentation into this program
import { tempDir } from './test-support/helpers.js';

describe("getExecutor('local', config)", () => {
  it('takes the local config type; a misspelt field is a compile error and a ValidationError', async () => {
    const e = await getExecutor('local', { maxCores: 1, workDirectory: tempDir() });
    // The registry loads the built package, so compare by name and config rather than class identity.
    expect(e.name).toBe('local');
    expect((e.config as { maxCores?: number }).maxCores).toBe(1);
    await e.close();
    // @ts-expect-error maxCorez is not an option of the local executor (ExecutorConfigs['local']).
    const typo = getExecutor('local', { maxCorez: 4 });
    await expect(typo).rejects.toBeInstanceOf(ValidationError);
    // @ts-expect-error maxCores is a number.
    await expect(getExecutor('local', { maxCores: '4' })).rejects.toBeInstanceOf(ValidationError);
    // A name that no package declares takes any config (checked by its provider at run time).
    const name: string = 'no-such-executor-for-types';
    await expect(getExecutor(name, { anything: 1 })).rejects.toThrow(/no-such-executor-for-types/);
  });
});
