import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CLI_VERSION, runCli } from './program.js';
import { registerStandInExecutor, standInConfigs } from './test-support/stand-in-executor.js';

/** The psij-python fixtures: ../shared/fixtures/psij from the repository root. */
const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/psij/', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], options: { tty?: boolean; signal?: AbortSignal; cwd?: string } = {}): Promise<Result> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const code = await runCli(argv, {
    stdout: (c) => void out.push(Buffer.from(c)),
    stderr: (c) => void err.push(Buffer.from(c)),
    stderrIsTTY: options.tty ?? false,
    cwd: options.cwd ?? process.cwd(),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

beforeAll(() => registerStandInExecutor());

describe('help, version and usage errors', () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(CLI_VERSION).toBe(pkg.version);
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('has help with examples and exit codes on every command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Examples:/);
    expect(top.stdout).toMatch(/124 +wait --timeout/);
    for (const cmd of [
      ['run'],
      ['submit'],
      ['status'],
      ['wait'],
      ['cancel'],
      ['list'],
      ['info'],
      ['spec', 'check'],
      ['spec', 'convert'],
    ]) {
      const r = await cli([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout, cmd.join(' ')).toMatch(/Examples:\n {2}\$ .*exaworks/);
    }
    const run = await cli(['run', '--help']);
    for (const flag of [
      '--nodes',
      '--processes',
      '--ppn',
      '--cores-per-process',
      '--gpus-per-process',
      '--exclusive',
      '--memory',
      '--duration',
      '--queue',
      '--account',
      '--reservation',
      '--attr',
      '--env',
      '--no-inherit-env',
      '--directory',
      '--stdin',
      '--stdout',
      '--stderr',
      '--launcher',
      '--pre-launch',
      '--post-launch',
      '--name',
      '--spec',
      '--executor',
      '--work-dir',
      '--executor-config',
      '--json',
      '--verbose',
    ]) {
      expect(run.stdout).toContain(flag);
    }
  });

  it('exits 2 on unknown options and commands, with a readable message', async () => {
    const r = await cli(['run', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['spec', 'convert', 'x.json', '--to', 'xml'])).stderr).toMatch(/Allowed choices are json, yaml/);
  });

  it('exits 2 with field paths on bad job flags, before any executor is contacted', async () => {
    const r = await cli(['run', '-x', 'no-such-executor', '--nodes', '0', '--memory', 'lots', '--', '/bin/true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: invalid job spec:\n' +
        '  resources.memory: "lots" is not a memory size (examples: 4G, 512M, 1.5GiB, 1073741824) (from --memory)\n' +
        '  resources.nodeCount: nodeCount must be at least 1 (from --nodes)\n',
    );
    const json = await cli(['submit', '--json', '--processes', '-3', '--', '/bin/true']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { code: 'EXAWORKS_VALIDATION', issues: [{ path: 'resources.processCount' }] },
    });
  });

  it('submit --script: refused with a job too, and by an executor that takes no batch scripts', async () => {
    const both = await cli(['submit', '--script', 'job.sh', '--', '/bin/true']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/script: give either --script or a job/);
    const work = await mkdtemp(path.join(os.tmpdir(), 'exa-cli-script-'));
    const local = await cli(['submit', '-x', 'local', '--work-dir', work, '--script', 'job.sh']);
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/the local executor cannot take a batch script; use a batch executor such as slurm/);
    await rm(work, { recursive: true, force: true });
  });

  it('exits 1 with message and code for an unknown executor; JSON error with --json', async () => {
    const r = await cli(['status', '-x', 'no-such-executor', '42']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Unknown executor "no-such-executor".*\[EXAWORKS_UNKNOWN_EXECUTOR\]\n$/);
    const j = await cli(['list', '--json', '-x', 'no-such-executor']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({
      error: {
        name: 'UnknownExecutorError',
        code: 'EXAWORKS_UNKNOWN_EXECUTOR',
        message: expect.stringContaining('no-such-executor'),
      },
    });
  });
});

describe('--verbose', () => {
  it('writes structured debug logs and the stack of an error', async () => {
    const r = await cli(['status', '--verbose', '-x', 'no-such-executor', '42']);
    expect(r.code).toBe(1);
    const log = JSON.parse(r.stderr.split('\n')[0]!) as Record<string, unknown>;
    expect(log).toMatchObject({ level: 'debug', component: 'cli', msg: 'opening executor', executor: 'no-such-executor' });
    expect(r.stderr).toMatch(/UnknownExecutorError: Unknown executor[^\n]*\n\s+at /);
  });

  it('is quiet without it (and EXAWORKS_LOG_LEVEL turns logs on)', async () => {
    const saved = process.env.EXAWORKS_LOG_LEVEL;
    try {
      delete process.env.EXAWORKS_LOG_LEVEL;
      const r = await cli(['status', '-x', 'no-such-executor', '42']);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      process.env.EXAWORKS_LOG_LEVEL = 'debug';
      const logged = await cli(['status', '-x', 'no-such-executor', '42']);
      expect(logged.stderr).toMatch(/"msg":"opening executor"/);
    } finally {
      if (saved === undefined) delete process.env.EXAWORKS_LOG_LEVEL;
      else process.env.EXAWORKS_LOG_LEVEL = saved;
    }
  });
});

describe('spec check / convert on the psij-python fixtures', () => {
  let fixtures: string[] = [];
  beforeAll(async () => {
    fixtures = (await readdir(FIXTURES)).filter((f) => f.endsWith('.json') && !f.endsWith('.derived.json')).sort();
  });

  it('finds the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(14);
  });

  it('checks every fixture: OK, and the derived resources psij-python computed', async () => {
    for (const f of fixtures) {
      const file = path.join(FIXTURES, f);
      const text = await cli(['spec', 'check', file]);
      expect(text.code, f).toBe(0);
      expect(text.stdout, f).toMatch(new RegExp(`^OK ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
      const json = await cli(['spec', 'check', '--json', file]);
      const parsed = JSON.parse(json.stdout) as { ok: boolean; derived: unknown; spec: unknown };
      expect(parsed.ok).toBe(true);
      const derivedFile = path.join(FIXTURES, f.replace(/\.json$/, '.derived.json'));
      const expected = await readFile(derivedFile, 'utf8').then(JSON.parse, () => undefined);
      if (expected !== undefined) expect(parsed.derived, f).toEqual(expected);
    }
  });

  it('converts every fixture back to the document psij-python wrote, as JSON and YAML', async () => {
    for (const f of fixtures) {
      const file = path.join(FIXTURES, f);
      const original: unknown = JSON.parse(await readFile(file, 'utf8'));
      const json = await cli(['spec', 'convert', file, '--to', 'json']);
      expect(json.code, f).toBe(0);
      expect(JSON.parse(json.stdout), f).toEqual(original);
      const yaml = await cli(['spec', 'convert', file, '--to', 'yaml']);
      expect(parseYaml(yaml.stdout), f).toEqual(original);
    }
  });

  it('reads a camelCase YAML spec and converts it to psij-python JSON', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-test-'));
    await writeFile(
      path.join(dir, 'job.yaml'),
      'executable: /bin/sim\nresources:\n  processCount: 4\n  cpuCoresPerProcess: 2\nattributes:\n  duration: 90 m\n',
    );
    const r = await cli(['spec', 'convert', 'job.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      executable: '/bin/sim',
      name: '/bin/sim',
      resources: { process_count: 4, cpu_cores_per_process: 2, __version: 1 },
      attributes: { duration: '5400.0 s' },
    });
    const check = await cli(['spec', 'check', 'job.yaml'], { cwd: dir });
    expect(check.stdout).toMatch(/processes +4\n/);
    expect(check.stdout).toMatch(/duration +5400 s \(01:30:00\)/);
  });

  it('reports each error with its field path and exits 2', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-test-'));
    await writeFile(
      path.join(dir, 'bad.json'),
      JSON.stringify({
        executable: '',
        resources: { node_count: 2, process_count: 3 },
        attributes: { queue_name: '' },
        bogus: 1,
      }),
    );
    const r = await cli(['spec', 'check', 'bad.json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`error: invalid psij-python job spec in ${path.join(dir, 'bad.json')}:`);
    const paths = lines.slice(1).map((l) => l.trim().split(':')[0]);
    expect(paths).toEqual(expect.arrayContaining(['executable', 'resources.process_count', 'attributes.queue_name', 'bogus']));
    const json = await cli(['spec', 'check', '--json', 'bad.json'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.issues.length).toBe(lines.length - 1);
    const missing = await cli(['spec', 'check', path.join(dir, 'missing.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*missing\.yaml: ENOENT/);
  });
});

describe('job commands through a stand-in executor (in-process)', () => {
  it('run: streams output, shows states, exits with the job exit code', async () => {
    const r = await cli(['run', '-x', 'standin', '--', '/bin/sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('to-out\n');
    expect(r.stderr).toContain('to-err\n');
    expect(r.stderr).toMatch(/exaworks: job standin-\S+ QUEUED/);
    expect(r.stderr).toMatch(/exaworks: job standin-\S+ FAILED exit 3/);
    expect(r.stderr).not.toContain('\x1b[2K');
  });

  it('run --json: only the final job JSON on stdout', async () => {
    const r = await cli(['run', '-x', 'standin', '--json', '--', '/bin/sh', '-c', 'echo hidden; exit 4']);
    expect(r.code).toBe(4);
    const job = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(job).toMatchObject({ state: 'FAILED', exitCode: 4, executor: 'standin', name: '/bin/sh', message: null });
    expect(job.nativeId).toMatch(/^standin-/);
    expect(r.stderr).toBe('');
  });

  it("run --stdout FILE: output goes to the file, not the terminal; options after the executable are the job's", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-test-'));
    const r = await cli(['run', '-x', 'standin', '--quiet', '--stdout', 'out.txt', '/bin/echo', '-n', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(await readFile(path.join(dir, 'out.txt'), 'utf8')).toBe('--json');
  });

  it('run --spec with flags on top; --no-inherit-env reaches the job', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-test-'));
    await writeFile(path.join(dir, 'job.yaml'), 'executable: /usr/bin/env\nenvironment:\n  A: from-file\n  B: from-file\n');
    const r = await cli(['run', '-x', 'standin', '--quiet', '--spec', 'job.yaml', '--env', 'B=from-flag', '--no-inherit-env'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['A=from-file', 'B=from-flag']);
    const inherited = await cli(['run', '-x', 'standin', '--quiet', '--spec', 'job.yaml'], { cwd: dir });
    expect(inherited.stdout).toMatch(/^PATH=/m);
  });

  it('run on a TTY redraws the status line in place and ends it with a newline', async () => {
    const r = await cli(['run', '-x', 'standin', '--', '/bin/true'], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('\r\x1b[2K');
    expect(r.stderr).toMatch(/COMPLETED exit 0 \d\d:\d\d\n$/);
  });

  it('run: Ctrl-C cancels the job and exits 130', async () => {
    const ac = new AbortController();
    const pending = cli(['run', '-x', 'standin', '--', '/bin/sleep', '30'], { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 300));
    ac.abort(new Error('SIGINT'));
    const r = await pending;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted; canceling job standin-/);
    expect(r.stderr).toMatch(/CANCELED/);
  });

  it('submit, status, wait, list and cancel by native id', async () => {
    const sub = await cli(['submit', '-x', 'standin', '--name', 'sleeper', '--', '/bin/sleep', '30']);
    expect(sub.code).toBe(0);
    const id = sub.stdout.trim();
    expect(id).toMatch(/^standin-\d+-\d+$/);

    const status = await cli(['status', '-x', 'standin', '--json', id]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ nativeId: id, state: 'ACTIVE', name: 'sleeper', exitCode: null }),
    ]);

    const timedOut = await cli(['wait', '-x', 'standin', '--timeout', '0.2', id]);
    expect(timedOut.code).toBe(124);
    expect(timedOut.stderr).toMatch(/timed out after 0.2 s/);

    const reached = await cli(['wait', '-x', 'standin', '--state', 'active', id]);
    expect(reached.code).toBe(0);

    const list = await cli(['list', '-x', 'standin', '--state', 'ACTIVE']);
    expect(list.stdout).toMatch(new RegExp(`^NATIVE ID +STATE +EXIT +NAME +MESSAGE\n(.*\n)*${id} +ACTIVE +- +sleeper`));

    const cancel = await cli(['cancel', '-x', 'standin', id]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`${id} +CANCELED`));

    const waited = await cli(['wait', '-x', 'standin', '--json', id]);
    expect(waited.code).toBe(1);
    expect(JSON.parse(waited.stdout)[0]).toMatchObject({ nativeId: id, state: 'CANCELED' });
  });

  it('wait exits with the exit code of a failed job', async () => {
    const id = (await cli(['submit', '-x', 'standin', '--', '/bin/sh', '-c', 'exit 7'])).stdout.trim();
    const r = await cli(['wait', '-x', 'standin', id]);
    expect(r.code).toBe(7);
    expect(r.stdout).toMatch(new RegExp(`${id} +FAILED +7`));
  });

  it('unknown native ids: an error row and exit 1; bad --state / --timeout: exit 2', async () => {
    const r = await cli(['status', '-x', 'standin', 'no-such-id']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no-such-id +ERROR +- +- +The standin executor has no job with native id "no-such-id"\./);
    const j = await cli(['status', '-x', 'standin', '--json', 'no-such-id']);
    expect(JSON.parse(j.stdout)).toEqual([
      { nativeId: 'no-such-id', error: expect.objectContaining({ code: 'EXAWORKS_JOB_NOT_FOUND' }) },
    ]);
    const badState = await cli(['wait', '-x', 'standin', '--state', 'DONE', 'x']);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toMatch(/state: "DONE" is not a job state/);
    expect((await cli(['wait', '-x', 'standin', '--timeout', 'soon', 'x'])).code).toBe(2);
  });

  it('passes --work-dir and --executor-config to the executor', async () => {
    standInConfigs.length = 0;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-test-'));
    const r = await cli(['list', '-x', 'standin', '--work-dir', 'wd', '--executor-config', '{"keepFiles":true}'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(standInConfigs).toHaveLength(1);
    expect(standInConfigs[0]).toMatchObject({ keepFiles: true, workDirectory: path.join(dir, 'wd') });
  });
});

describe('info', () => {
  it('reports packages, system and executors', async () => {
    const r = await cli(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as {
      cli: string;
      node: { version: string };
      cpus: number;
      registry: { executors: string[]; launchers: string[] };
      packages: { name: string }[];
      launchers: Record<string, string | null>;
    };
    expect(info.cli).toBe(CLI_VERSION);
    expect(info.node.version).toBe(process.version);
    expect(info.cpus).toBeGreaterThan(0);
    expect(info.registry.executors).toContain('standin');
    expect(Array.isArray(info.registry.launchers)).toBe(true);
    expect(info.packages.map((p) => p.name)).toContain('@exaworks/jpsi-core');
    expect(Object.keys(info.launchers)).toContain('mpirun');
    const text = await cli(['info']);
    expect(text.stdout).toMatch(/^exaworks \d+\.\d+\.\d+\n/);
    expect(text.stdout).toMatch(/Executors: .*standin/);
  });
});
