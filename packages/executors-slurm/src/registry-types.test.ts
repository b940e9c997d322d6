// getExecutor is typed by executor name: a misspelt slurm option fails `tsc` (npm run typecheck) and, at run time, validation.
import { ValidationError, getExecutor } from '@exaworks/jpsi-core';
import { describe, expect, it } from 'vitest';
import './index.js'; // brings the ExecutorConfigs augmentation into this program

describe("getExecutor('slurm', config)", () => {
  it('takes the Slurm config type; a misspelt field is a compile error and a ValidationError', async () => {
    // @ts-expect-error pollIntervl is not an option of the Slurm executor (ExecutorConfigs['slurm']).
    await expect(getExecutor('slurm', { pollIntervl: 1000 })).rejects.toBeInstanceOf(ValidationError);
    // @ts-expect-error accounting is true, false or 'auto'.
    await expect(getExecutor('slurm', { accounting: 'yes' })).rejects.toBeInstanceOf(ValidationError);
  });
});
