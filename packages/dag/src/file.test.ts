import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalExecutor } from '@exaworks/executors-local';
import { ValidationError } from '@exaworks/jpsi-core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWorkflowFile, parseWorkflowFile, workflowFromFile, workflowJsonSchema } from './file.js';
import { renderGraph } from './render.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'xw-dag-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues.map((i) => `${i.path} | ${i.message}`);
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('workflow files', () => {
  it('expands a matrix, resolves output references (with implicit edges) and reads both spec forms', () => {
    const loaded = parseWorkflowFile(
      `
name: sweep
jobs:
  prepare:
    spec: { executable: /bin/true }
    outputs: { dir: /tmp/data }
  sim:
    after: [prepare]
    matrix: { n: [1, 2], mode: [fast, slow] }
    spec:
      executable: /bin/echo
      arguments: ['\${{ matrix.n }}-\${{ matrix.mode }}', '\${{ jobs.prepare.outputs.dir }}']
    outputs: { out: '/tmp/data/\${{ matrix.n }}-\${{ matrix.mode }}.txt' }
    retries: 2
    timeout: 10 min
  gather:
    spec:
      executable: /bin/cat
      arguments: ['\${{ jobs.sim.outputs.out }}']
      resources: { process_count: 1 }
`,
      'sweep.yaml',
    );
    const names = loaded.jobs.map((j) => j.name);
    expect(names).toEqual([
      'prepare',
      'sim[n=1,mode=fast]',
      'sim[n=1,mode=slow]',
      'sim[n=2,mode=fast]',
      'sim[n=2,mode=slow]',
      'gather',
    ]);
    const sim = loaded.jobs[2]!;
    expect(sim.spec.arguments).toEqual(['1-slow', '/tmp/data']);
    expect(sim.after).toEqual(['prepare']);
    expect(sim).toMatchObject({ retries: 2, timeoutMs: 600_000 });
    const gather = loaded.jobs.at(-1)!;
    expect(gather.spec.arguments).toEqual([
      '/tmp/data/1-fast.txt',
      '/tmp/data/1-slow.txt',
      '/tmp/data/2-fast.txt',
      '/tmp/data/2-slow.txt',
    ]);
    expect(gather.after).toHaveLength(4);
    const graph = renderGraph(workflowFromFile(loaded).edges(), 'mermaid');
    expect(graph).toContain('n0 --> n1');
    expect(graph.split('\n')[0]).toBe('graph TD');
    expect(renderGraph(workflowFromFile(loaded).edges(), 'dot')).toMatch(/n1 -> n5;/);
  });

  it('points every error at its line and path', () => {
    const issues = issuesOf(() =>
      parseWorkflowFile(
        [
          'jobs:',
          '  a:',
          '    spec: { executable: /bin/true }',
          '    retries: -1',
          '  b:',
          '    after: [ghost]',
          '    spec:',
          '      executable: ""',
          '    extra: 1',
          '',
        ].join('\n'),
        'bad.yaml',
      ),
    );
    expect(issues).toContain('jobs.a.retries | bad.yaml:4:14: must be 0 or more');
    expect(issues).toContain('jobs.b.extra | bad.yaml:9:5: unknown field');
    const specIssues = issuesOf(() =>
      parseWorkflowFile(['jobs:', '  b:', '    after: [ghost]', '    spec:', '      executable: ""', ''].join('\n'), 'bad.yaml'),
    );
    expect(specIssues.some((i) => /^jobs\.b\.after\[0\] \| bad\.yaml:3:13: unknown job "ghost"/.test(i))).toBe(true);
    expect(specIssues.some((i) => /^jobs\.b\.spec\.executable \| bad\.yaml:5:19: /.test(i))).toBe(true);
    expect(issuesOf(() => parseWorkflowFile('jobs: [1, 2\n', 'x.yaml'))[0]).toMatch(/x\.yaml:\d+:\d+: /);
    expect(
      issuesOf(() => parseWorkflowFile('jobs:\n  a:\n    spec:\n      executable: "${{ matrix.n }}"\n', 'm.yaml'))[0],
    ).toMatch(/m\.yaml:4:19: .*no matrix key "n"/);
  });

  it('the shipped JSON Schema is the one zod generates', () => {
    const shipped = JSON.parse(readFileSync(new URL('../schema/workflow.schema.json', import.meta.url), 'utf8'));
    const { $id, title, ...rest } = shipped;
    expect($id).toMatch(/workflow\.schema\.json$/);
    expect(title).toBeTruthy();
    expect(rest).toEqual(workflowJsonSchema());
  });

  it('runs a JSON workflow file on the local executor', async () => {
    const file = path.join(root, 'wf.json');
    const out = path.join(root, 'out');
    writeFileSync(
      file,
      JSON.stringify({
        jobs: {
          make: { spec: { executable: '/bin/mkdir', arguments: ['-p', out] }, outputs: { dir: out } },
          touch: {
            matrix: { i: [1, 2, 3] },
            after: ['make'],
            spec: { executable: '/bin/touch', arguments: [`${out}/f\${{ matrix.i }}`] },
          },
        },
      }),
    );
    const executor = createLocalExecutor({ workDirectory: path.join(root, 'work'), pollInterval: 50 });
    try {
      const wf = workflowFromFile(await loadWorkflowFile(file), { executor, journal: path.join(root, 'wf.journal.jsonl') });
      const s = await wf.run();
      expect(s.ok).toBe(true);
      expect(s.total).toBe(4);
      expect(readFileSync(path.join(root, 'wf.journal.jsonl'), 'utf8')).toContain(`"file":"${file}"`);
    } finally {
      await executor.close();
    }
  }, 30_000);
});
