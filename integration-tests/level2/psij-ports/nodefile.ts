/**
 * Port of psij-python `tests/test_nodefile.py` (and its `test_nodefile.sh`): a 4-process job sees
 * `PSIJ_NODEFILE` naming one host per process. psij-python skips the `single` launcher (it starts
 * one process); here `single` runs too, asserting that the node file still describes the 4 slots
 * asked for and that exactly one process ran, while the other launchers run 4.
 */
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { describeStatus, portedModule, readIfExists, type PortTarget } from './harness.js';

const N_PROC = 4;

// Exits 2 (failing the job) if the node file does not have the expected number of lines.
const CHECK_NODEFILE = `set -e
expected="$1"
report="$2"
actual=$(wc -l < "$PSIJ_NODEFILE")
echo "$actual" >> "$report"
if [ "$expected" != "$actual" ]; then
  echo "node file $PSIJ_NODEFILE has $actual lines, expected $expected:"
  cat "$PSIJ_NODEFILE"
  exit 2
fi
cat "$PSIJ_NODEFILE" > "$report.hosts"`;

/** Registers the ported test_nodefile.py test for every launcher of `target`. */
export function portedNodefileTests(target: PortTarget): void {
  portedModule(target, 'test_nodefile.py', (c) => {
    c.it(`test_nodefile: a ${N_PROC}-process job gets a node file of ${N_PROC} host lines`, async () => {
      const program = await c.script('test_nodefile.sh', CHECK_NODEFILE, '/bin/bash');
      const d = await c.dir();
      const report = path.join(d, 'report');
      const out = path.join(d, 'stdout.txt');
      const { status } = await c.run({
        executable: '/bin/bash',
        arguments: [program, String(N_PROC), report],
        resources: { processCount: N_PROC },
        stdoutPath: out,
      });
      expect(status.state, `${describeStatus(status)} stdout=${await readIfExists(out)}`).toBe('COMPLETED');
      const copies = c.launcher === 'single' ? 1 : N_PROC;
      expect(((await readIfExists(report)) ?? '').trim().split('\n')).toEqual(Array(copies).fill(String(N_PROC)));
      // Every slot is on this machine (psij-python's local executor writes "localhost").
      const hosts = ((await readIfExists(`${report}.hosts`)) ?? '').trim().split('\n');
      expect(hosts).toHaveLength(N_PROC);
      for (const host of hosts) expect([os.hostname(), 'localhost']).toContain(host);
    });
  });
}
