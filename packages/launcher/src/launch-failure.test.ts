// The LaunchCommand.reportsFailures protocol of the job script, with a stand-in launcher program (no MPI needed).
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, runJob, tempDir } from './test-support/run-job.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const dir = () => {
  const d = tempDir('xw-launch-failure-');
  dirs.push(d);
  return d;
};

// A "launcher" that reports its own failure the way report-launch.sh does, then exits 5.
const failingLauncher = [
  '/bin/sh',
  '-c',
  'printf "%s\\n" "fake-launcher could not place 8 ranks" >"$EXAWORKS_LAUNCH_FAILURE_FILE"; exit 5',
];

describe('job script: launchers that report their own failures', () => {
  it("puts the launcher's report in the result's failure line, with its exit code", async () => {
    const job = await runJob({ executable: 'x' }, { argv: failingLauncher, env: {}, reportsFailures: true }, { dir: dir() });
    expect(job.result).toEqual({ exitCode: 5, failure: 'fake-launcher could not place 8 ranks' });
  }, 30_000);

  it('in a clean environment too', async () => {
    const job = await runJob(
      { executable: 'x', inheritEnvironment: false },
      { argv: failingLauncher, env: {}, reportsFailures: true },
      { dir: dir() },
    );
    expect(job.result).toEqual({ exitCode: 5, failure: 'fake-launcher could not place 8 ranks' });
  }, 30_000);

  it('a launcher that reports nothing leaves only its exit code; without reportsFailures the variable is not set', async () => {
    const quiet = await runJob(
      { executable: 'x' },
      { argv: ['/bin/sh', '-c', 'exit 4'], env: {}, reportsFailures: true },
      { dir: dir() },
    );
    expect(quiet.result).toEqual({ exitCode: 4 });
    const plain = await runJob(
      { executable: 'x' },
      { argv: ['/bin/sh', '-c', 'echo "[${EXAWORKS_LAUNCH_FAILURE_FILE-unset}]"'], env: {} },
      { dir: dir() },
    );
    expect(plain.stdout).toBe('[unset]\n');
  }, 30_000);
});
