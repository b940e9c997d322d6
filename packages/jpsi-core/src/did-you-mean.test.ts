import { describe, expect, it } from 'vitest';
import { ValidationError, type ValidationIssue } from './errors.js';
import { jobSpecFromDocument, jobSpecFromPsijJson, specDocumentForm } from './psij-json.js';
import { createJobSpec, type JobSpecInput } from './spec.js';
import { didYouMean, editDistance } from './validation.js';

function issuesOf(fn: () => unknown): ValidationIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return [...(err as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}
const camel = (doc: Record<string, unknown>) => issuesOf(() => createJobSpec(doc as unknown as JobSpecInput));

describe('edit distance and suggestions', () => {
  it.each([
    ['executible', 'executable', 1],
    ['stdout_pth', 'stdout_path', 1],
    ['porcessCount', 'processCount', 1], // a swap of neighbours costs 1
    ['', 'abc', 3],
    ['same', 'same', 0],
  ])('editDistance(%j, %j) = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('suggests the same name in the other case style first, then the nearest, else nothing', () => {
    expect(didYouMean('stdout_path', ['stdinPath', 'stdoutPath'])).toBe('stdoutPath');
    expect(didYouMean('executible', ['arguments', 'executable', 'name'])).toBe('executable');
    expect(didYouMean('nme', ['name', 'nodeCount'])).toBe('name');
    expect(didYouMean('bogus', ['executable', 'arguments', 'name'])).toBeUndefined();
  });
});

describe('unknown fields get a "did you mean", at any depth', () => {
  it('top level: executible → executable', () => {
    expect(camel({ executible: '/bin/date' })).toEqual(
      expect.arrayContaining([{ path: 'executible', message: 'unknown field (did you mean "executable"?)' }]),
    );
  });

  it('in resources, attributes and staging entries, one issue per field', () => {
    const issues = camel({
      executable: 'x',
      resources: { procesCount: 2, nodes: 1 },
      attributes: { queuename: 'q', acount: 'a' },
      stageOut: [
        { source: 'a', target: 'b' },
        { source: 'a', target: 'b', flag: ['ALWAYS'] },
      ],
    });
    expect(issues).toEqual([
      { path: 'resources.procesCount', message: 'unknown field (did you mean "processCount"?)' },
      { path: 'resources.nodes', message: 'unknown field' },
      { path: 'attributes.queuename', message: 'unknown field (did you mean "queueName"?)' },
      { path: 'attributes.acount', message: 'unknown field (did you mean "account"?)' },
      { path: 'stageOut[1].flag', message: 'unknown field (did you mean "flags"?)' },
    ]);
  });

  it('psij-python JSON suggests its own snake_case names', () => {
    const issues = issuesOf(() => jobSpecFromPsijJson({ executable: 'x', stdout_pth: 'o', resources: { node_cont: 1 } }));
    expect(issues).toHaveLength(2);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'stdout_pth', message: 'unknown field (did you mean "stdout_path"?)' },
        { path: 'resources.node_cont', message: 'unknown field (did you mean "node_count"?)' },
      ]),
    );
  });
});

describe('a document’s form is decided by the majority of its keys', () => {
  it('counts only keys spelt differently in the two forms', () => {
    expect(specDocumentForm({ executable: 'x', arguments: [], resources: { memory: 1 } }).form).toBe('either');
    expect(specDocumentForm({ executable: 'x', stdoutPath: 'o', resources: { nodeCount: 1, __version: 1 } })).toEqual({
      form: 'camel',
      snakeKeys: ['resources.__version'],
      camelKeys: ['stdoutPath', 'resources.nodeCount'],
    });
  });

  it('a mostly psij-python document is read as psij-python; its camelCase key is named with the snake_case meant', () => {
    const doc = { executable: 'x', stdout_path: 'o', stderr_path: 'e', stdinPath: 'i' };
    expect(issuesOf(() => jobSpecFromDocument(doc))).toEqual([
      { path: 'stdinPath', message: 'unknown field (did you mean "stdin_path"?)' },
    ]);
  });

  it('a mostly camelCase document is read as camelCase; its snake_case key is named with the camelCase meant', () => {
    const doc = { executable: 'x', stdoutPath: 'o', stderrPath: 'e', resources: { node_count: 2 } };
    expect(issuesOf(() => jobSpecFromDocument(doc))).toEqual([
      { path: 'resources.node_count', message: 'unknown field (did you mean "nodeCount"?)' },
    ]);
  });

  it('a tie is a clear error naming the keys of each form', () => {
    const issues = issuesOf(() => jobSpecFromDocument({ executable: 'x', stdoutPath: 'o', stderr_path: 'e' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('');
    expect(issues[0]!.message).toMatch(
      /mixes the two spec forms equally: psij-python \(stderr_path\) and camelCase \(stdoutPath\)/,
    );
  });

  it('one snake_case key alone makes a psij-python document (as before)', () => {
    expect(jobSpecFromDocument({ executable: 'x', stdout_path: 'o' }).stdoutPath).toBe('o');
    expect(jobSpecFromDocument({ executable: 'x', stdoutPath: 'o' }).stdoutPath).toBe('o');
  });
});
