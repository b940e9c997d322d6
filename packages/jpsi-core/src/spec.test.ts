import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError } from './errors.js';
import { specInputArb } from './test-support/arbitraries.js';
import { createJobSpec, customAttributesFor, deriveCounts, jobSpecToInput, stagingApplies, stagingConditions } from './spec.js';

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return [...(err as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

describe('createJobSpec', () => {
  it('fills psij-python defaults', () => {
    const spec = createJobSpec({ executable: '/bin/date' });
    expect(spec).toMatchObject({
      executable: '/bin/date',
      name: '/bin/date',
      arguments: [],
      inheritEnvironment: true,
      environment: {},
      attributes: { duration: 600, customAttributes: {} },
      resources: {
        version: 1,
        exclusiveNodeUse: false,
        computedNodeCount: 1,
        computedProcessCount: 1,
        computedProcessesPerNode: 1,
      },
      cleanupFlags: ['ALWAYS'],
    });
    expect(spec.launcher).toBeUndefined();
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.resources)).toBe(true);
    expect(createJobSpec(spec)).toBe(spec);
  });

  it('writes integer environment values as strings and folds projectName into account', () => {
    const spec = createJobSpec({
      executable: 'x',
      environment: { N: 4 },
      attributes: { projectName: 'p1', duration: '01:00:00' },
    });
    expect(spec.environment.N).toBe('4');
    expect(spec.attributes.account).toBe('p1');
    expect(spec.attributes.duration).toBe(3600);
  });

  it('reports every bad field at once, by path', () => {
    const issues = issuesOf(() =>
      createJobSpec({
        executable: '',
        arguments: ['ok', 'bad\0'],
        environment: { '1BAD': 'x' },
        resources: { nodeCount: 0, cpuCoresPerProcess: 1.5 },
        attributes: { duration: 'soon', customAttributes: { noprefix: 1 } },
        launcher: 'Bad Name',
        // @ts-expect-error unknown field on purpose
        bogus: true,
      }),
    );
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'executable',
        'arguments[1]',
        'environment.1BAD',
        'resources.nodeCount',
        'resources.cpuCoresPerProcess',
        'attributes.duration',
        'attributes.customAttributes.noprefix',
        'launcher',
        'bogus',
      ]),
    );
    for (const i of issues) expect(i.message.length).toBeGreaterThan(3);
    expect(issues.find((i) => i.path === 'environment.1BAD')?.message).toContain('letters, digits and _');
    expect(issues.find((i) => i.path === 'attributes.customAttributes.noprefix')?.message).toContain('executor name, a dot');
  });

  it('rejects inconsistent counts naming the fields', () => {
    const [issue] = issuesOf(() => createJobSpec({ executable: 'x', resources: { nodeCount: 2, processCount: 5 } }));
    expect(issue!.path).toBe('resources.processCount');
    expect(issue!.message).toContain('multiple of nodeCount');
    const [i2] = issuesOf(() =>
      createJobSpec({ executable: 'x', resources: { nodeCount: 2, processCount: 6, processesPerNode: 2 } }),
    );
    expect(i2!.message).toContain('must equal');
  });

  it('rejects account and projectName that differ', () => {
    const [issue] = issuesOf(() => createJobSpec({ executable: 'x', attributes: { account: 'a', projectName: 'b' } }));
    expect(issue!.path).toBe('attributes.projectName');
  });

  it('rejects remote staging URIs but accepts file:// and paths', () => {
    const [issue] = issuesOf(() => createJobSpec({ executable: 'x', stageIn: [{ source: 'https://x/y', target: 'y' }] }));
    expect(issue!.path).toBe('stageIn[0].source');
    const spec = createJobSpec({ executable: 'x', stageIn: [{ source: 'file:///a', target: 'a', mode: 'LINK' }] });
    expect(spec.stageIn[0]).toEqual({ source: 'file:///a', target: 'a', mode: 'LINK' });
  });

  it('selects custom attributes by executor prefix', () => {
    const spec = createJobSpec({
      executable: 'x',
      attributes: { customAttributes: { 'slurm.constraint': 'haswell', 'pbs.l': 'x', 'slurm.qos': 2 } },
    });
    expect(customAttributesFor(spec.attributes, 'slurm')).toEqual({ constraint: 'haswell', qos: 2 });
  });
});

describe('deriveCounts (psij-python rules)', () => {
  it.each([
    [{}, [1, 1, 1]],
    [{ processCount: 4 }, [1, 4, 4]],
    [{ nodeCount: 3 }, [3, 3, 1]],
    [{ processesPerNode: 5 }, [1, 5, 5]],
    [{ processCount: 8, processesPerNode: 4 }, [2, 8, 4]],
    [{ processCount: 8, nodeCount: 4 }, [4, 8, 2]],
    [{ nodeCount: 2, processesPerNode: 4 }, [2, 8, 4]],
    [{ nodeCount: 2, processesPerNode: 4, processCount: 8 }, [2, 8, 4]],
  ])('%j → nodes, processes, ppn = %j', (counts, [n, p, k]) => {
    expect(deriveCounts(counts)).toEqual({ ok: { computedNodeCount: n, computedProcessCount: p, computedProcessesPerNode: k } });
  });
  it('always yields processes = nodes × ppn when consistent (property)', () => {
    const opt = fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined });
    fc.assert(
      fc.property(opt, opt, opt, (nodeCount, processCount, processesPerNode) => {
        const d = deriveCounts({ nodeCount, processCount, processesPerNode });
        if ('ok' in d) {
          const { computedNodeCount: n, computedProcessCount: p, computedProcessesPerNode: k } = d.ok;
          expect(p).toBe(n * k);
          if (nodeCount !== undefined) expect(n).toBe(nodeCount);
          if (processCount !== undefined) expect(p).toBe(processCount);
          if (processesPerNode !== undefined) expect(k).toBe(processesPerNode);
        } else {
          expect(processCount).toBeDefined();
        }
      }),
    );
  });
});

describe('staging flags', () => {
  it('treats no outcome flag and ALWAYS as every outcome', () => {
    expect(stagingConditions([])).toEqual({ ifPresent: false, onSuccess: true, onError: true, onCancel: true });
    expect(stagingConditions(['IF_PRESENT'])).toEqual({ ifPresent: true, onSuccess: true, onError: true, onCancel: true });
    const onErr = stagingConditions(['ON_ERROR']);
    expect([stagingApplies(onErr, 'success'), stagingApplies(onErr, 'error'), stagingApplies(onErr, 'cancel')]).toEqual([
      false,
      true,
      false,
    ]);
  });
});

describe('jobSpecToInput', () => {
  it('round-trips every valid spec (property)', () => {
    fc.assert(
      fc.property(specInputArb, (input) => {
        const spec = createJobSpec(input);
        const again = createJobSpec(JSON.parse(JSON.stringify(jobSpecToInput(spec))));
        expect(again).toEqual(spec);
      }),
    );
  });
});

describe('validation never fails unhelpfully (property)', () => {
  const anyValue = fc.oneof(
    fc.string(),
    fc.integer({ min: -3, max: 20 }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 2 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
  );
  const field = fc.constantFrom(
    'executable',
    'arguments',
    'directory',
    'name',
    'inheritEnvironment',
    'environment',
    'stdoutPath',
    'launcher',
    'nope',
  );
  const resourceField = fc.constantFrom(
    'nodeCount',
    'processCount',
    'processesPerNode',
    'cpuCoresPerProcess',
    'memory',
    'exclusiveNodeUse',
  );

  it('either accepts the input or throws a ValidationError whose paths exist in the input', () => {
    fc.assert(
      fc.property(fc.dictionary(field, anyValue), fc.dictionary(resourceField, anyValue), (top, resources) => {
        const input = { executable: '/bin/true', ...top, resources };
        try {
          createJobSpec(input as never);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          const issues = (err as ValidationError).issues;
          expect(issues.length).toBeGreaterThan(0);
          for (const issue of issues) {
            const head = issue.path.split(/[.[]/)[0]!;
            expect(Object.keys(input)).toContain(head);
            expect((err as ValidationError).message).toContain(issue.path);
          }
        }
      }),
    );
  });

  it('rejects every non-positive or fractional count, naming that field', () => {
    fc.assert(
      fc.property(
        resourceField.filter((f) => f !== 'exclusiveNodeUse'),
        fc.oneof(fc.integer({ max: 0 }), fc.double({ min: 0.01, max: 100, noInteger: true })),
        (key, value) => {
          try {
            createJobSpec({ executable: 'x', resources: { [key]: value } });
          } catch (err) {
            expect((err as ValidationError).issues.map((i) => i.path)).toContain(`resources.${key}`);
            return;
          }
          throw new Error(`accepted resources.${key} = ${value}`);
        },
      ),
    );
  });
});
