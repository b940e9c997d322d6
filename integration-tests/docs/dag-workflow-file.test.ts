/**
 * The workflow file of docs/guide/dag.md (the ```yaml block that starts with `# sweep.yaml`) is a
 * real, working file: loaded with @exaworks/dag's file API and run on the local executor, with its
 * /tmp/sweep directory moved into a temp directory of the test.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadWorkflowFile, workflowFromFile } from '@exaworks/dag';
import { createLocalExecutor } from '@exaworks/executors-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PAGE = fileURLToPath(new URL('../../docs/guide/dag.md', import.meta.url));

describe('docs/guide/dag.md: the sweep.yaml workflow file', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'exa-docs-dag-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('parses and runs: a prepare job, a 3 × 2 matrix with outputs, a gather referencing every expansion', async () => {
    const page = await readFile(PAGE, 'utf8');
    const block = /```yaml\n(# sweep\.yaml\n[\s\S]*?)```/.exec(page)?.[1];
    expect(block, 'the ```yaml block starting with "# sweep.yaml"').toBeDefined();
    const dir = path.join(tmp, 'sweep');
    expect(block).toContain('/tmp/sweep');
    const file = path.join(tmp, 'sweep.yaml');
    await writeFile(file, block!.replaceAll('/tmp/sweep', dir));
    const executor = createLocalExecutor({ workDirectory: path.join(tmp, 'work'), pollInterval: 50 });
    try {
      const wf = workflowFromFile(await loadWorkflowFile(file), { executor, journal: path.join(tmp, 'sweep.journal.jsonl') });
      const gather = wf.edges().find((e) => e.name === 'gather');
      expect(gather?.after).toHaveLength(6); // one edge per expansion, from the output references
      const s = await wf.run();
      expect(s.ok, JSON.stringify(s.failures)).toBe(true);
      expect(s.counts.succeeded).toBe(8);
      for (const n of [1, 2, 3]) {
        for (const mode of ['fast', 'exact']) {
          expect(await readFile(path.join(dir, `${n}-${mode}.txt`), 'utf8')).toBe(`${n} ${mode}\n`);
          expect(s.outcome(`simulate[n=${n},mode=${mode}]`)?.state).toBe('succeeded');
        }
      }
    } finally {
      await executor.close();
    }
  }, 60_000);
});
