import fc from 'fast-check';

// Arbitrary valid inputs, used for the round-trip property.
const word = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\0'));
const count = fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined });
/** Arbitrary valid JobSpec inputs (camelCase form). */
export const specInputArb = fc
  .record(
    {
      executable: word,
      arguments: fc.array(
        fc.string().filter((s) => !s.includes('\0')),
        { maxLength: 4 },
      ),
      directory: word,
      name: word,
      inheritEnvironment: fc.boolean(),
      environment: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/), word, { maxKeys: 3 }),
      stdoutPath: word,
      resources: fc.record({
        nodeCount: count,
        processesPerNode: count,
        cpuCoresPerProcess: count,
        exclusiveNodeUse: fc.boolean(),
      }),
      attributes: fc.record(
        {
          duration: fc.integer({ min: 1, max: 100_000 }),
          queueName: word,
          account: word,
          customAttributes: fc.dictionary(
            fc.stringMatching(/^(slurm|pbs)\.[a-z]{1,5}$/),
            fc.oneof(word, fc.integer(), fc.boolean()),
            { maxKeys: 2 },
          ),
        },
        { requiredKeys: [] },
      ),
      launcher: fc.constantFrom('single', 'mpirun', 'srun'),
    },
    { requiredKeys: ['executable'] },
  )
  .map((r) => {
    const res = r.resources as Record<string, unknown> | undefined;
    if (res) for (const k of Object.keys(res)) if (res[k] === undefined) delete res[k];
    return r;
  });
