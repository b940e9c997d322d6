import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobSpec, LauncherError } from '@exaworks/jpsi-core';
import { CLEAN_ENVIRONMENT_PATH, jobScriptFor, parseJobResult } from './job-script.js';
import { SingleLauncher } from './basic.js';
import { alive, cleanup, readIf, runJob, tempDir, until } from './test-support/run-job.js';

const dirs: string[] = [];
const scratch = (): string => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(cleanup));

const sh = (code: string, ...args: string[]) => ({ argv: ['/bin/sh', '-c', code, 'job', ...args], env: {} });

describe('parseJobResult', () => {
  it('reads an exit code and an optional failure line', () => {
    expect(parseJobResult('0\n')).toEqual({ exitCode: 0 });
    expect(parseJobResult('137\n')).toEqual({ exitCode: 137 });
    expect(parseJobResult('1\npre-launch script x failed\n')).toEqual({ exitCode: 1, failure: 'pre-launch script x failed' });
  });
  it('rejects empty, torn and malformed text', () => {
    for (const text of ['', '0', '1\nhalf a line', 'x\n', '-1\n', '1\na\nb\n', '\n', ' 0\n'])
      expect(parseJobResult(text)).toBeUndefined();
  });
});

describe('jobScriptFor (scripts run for real)', () => {
  it('runs the launch command, writes stdout/stderr and a result, and exits with its code', async () => {
    const job = await runJob({ executable: 'x' }, sh('echo out; echo err >&2; exit 7'));
    expect(job.stdout).toBe('out\n');
    expect(job.stderr).toBe('err\n');
    expect(job.resultText).toBe('7\n');
    expect(job.exitCode).toBe(7);
    expect(job.script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(readdirSync(job.dir).filter((f) => f.includes('.tmp.'))).toEqual([]);
  });

  it('reports exit code 0 with no failure line', async () => {
    const job = await runJob({ executable: '/bin/true' }, { argv: ['/bin/true'], env: {} });
    expect(job.result).toEqual({ exitCode: 0 });
    expect(job.exitCode).toBe(0);
  });

  it('runs in spec.directory', async () => {
    const d = scratch();
    const work = path.join(d, 'work dir');
    mkdirSync(work);
    const job = await runJob({ executable: 'x', directory: work }, sh('pwd'));
    expect(job.stdout).toBe(`${work}\n`);
  });

  it('reports a missing directory as a machinery failure without launching', async () => {
    const d = scratch();
    const job = await runJob(
      { executable: 'x', directory: path.join(d, 'missing') },
      sh('echo launched > "$1"', path.join(d, 'marker')),
    );
    expect(job.result?.exitCode).toBe(1);
    expect(job.result?.failure).toMatch(/job directory does not exist.*missing/);
    expect(existsSync(path.join(d, 'marker'))).toBe(false);
  });

  it('uses the spec stdin/stdout/stderr paths (relative to the job directory)', async () => {
    const d = scratch();
    writeFileSync(path.join(d, 'in.txt'), 'line one\nline two\n');
    const job = await runJob(
      { executable: 'x', directory: d, stdinPath: 'in.txt', stdoutPath: 'my out.txt', stderrPath: 'my err.txt' },
      sh('cat; echo oops >&2'),
    );
    expect(readFileSync(path.join(d, 'my out.txt'), 'utf8')).toBe('line one\nline two\n');
    expect(readFileSync(path.join(d, 'my err.txt'), 'utf8')).toBe('oops\n');
    expect(job.result).toEqual({ exitCode: 0 });
  });

  it('gives the job /dev/null as stdin by default', async () => {
    const job = await runJob({ executable: 'x' }, sh('wc -c'));
    expect(job.stdout.trim()).toBe('0');
  });

  it('interleaves stdout and stderr into one file when both name the same path', async () => {
    const d = scratch();
    const both = path.join(d, 'both.txt');
    await runJob({ executable: 'x', stdoutPath: both, stderrPath: both }, sh('echo 1; echo 2 >&2; echo 3'));
    expect(readFileSync(both, 'utf8')).toBe('1\n2\n3\n');
  });

  it('reports an unwritable stdout path as a machinery failure', async () => {
    const d = scratch();
    const job = await runJob({ executable: 'x', stdoutPath: path.join(d, 'no', 'such', 'dir', 'out') }, sh('true'));
    expect(job.result?.exitCode).toBe(1);
    expect(job.result?.failure).toMatch(/cannot write the job's stdout file/);
  });

  it('inherits the environment by default and exports spec and launcher variables', async () => {
    const job = await runJob(
      { executable: 'x', environment: { SPEC_VAR: 'from spec', SHARED: 'spec wins' } },
      {
        argv: ['/bin/sh', '-c', 'echo "$INHERITED|$SPEC_VAR|$LAUNCH_VAR|$SHARED"'],
        env: { LAUNCH_VAR: 'from launcher', SHARED: 'launcher' },
      },
      { env: { ...process.env, INHERITED: 'from parent' } },
    );
    expect(job.stdout).toBe('from parent|from spec|from launcher|spec wins\n');
  });

  it('starts from a clean environment when inheritEnvironment is false', async () => {
    const job = await runJob(
      { executable: 'x', inheritEnvironment: false, environment: { ONLY: "it's $HOME" } },
      { argv: ['/usr/bin/env'], env: { LAUNCH_VAR: 'L' } },
      { env: { ...process.env, INHERITED: 'from parent' } },
    );
    const vars = Object.fromEntries(
      job.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(vars.INHERITED).toBeUndefined();
    expect(vars.HOME).toBeUndefined();
    expect(vars.ONLY).toBe("it's $HOME");
    expect(vars.LAUNCH_VAR).toBe('L');
    expect(vars.PATH).toBe(CLEAN_ENVIRONMENT_PATH);
    // The shell itself sets PWD (and dash nothing else we care about); nothing from the parent leaks.
    expect(Object.keys(vars).sort()).toEqual(expect.arrayContaining(['LAUNCH_VAR', 'ONLY', 'PATH']));
    for (const k of Object.keys(vars)) expect(['LAUNCH_VAR', 'ONLY', 'PATH', 'PWD', 'OLDPWD', 'SHLVL', '_']).toContain(k);
    expect(job.result).toEqual({ exitCode: 0 });
  });

  for (const inheritEnvironment of [true, false]) {
    it(`honours PWD, OLDPWD and HOME from the spec, with a directory (inheritEnvironment ${inheritEnvironment})`, async () => {
      const d = scratch();
      const job = await runJob(
        {
          executable: 'x',
          directory: d,
          inheritEnvironment,
          environment: { PWD: '/spec/pwd', OLDPWD: '/spec/old', HOME: '/spec/home' },
        },
        // printenv, not a shell: a shell started by the job resets PWD to its real directory itself.
        { argv: ['/usr/bin/printenv', 'PWD', 'OLDPWD', 'HOME'], env: {} },
      );
      expect(job.stdout).toBe('/spec/pwd\n/spec/old\n/spec/home\n');
      expect(job.result).toEqual({ exitCode: 0 });
    });
  }

  it('runs a clean-environment job whose values hold the here-document delimiter line and quotes', async () => {
    const tricky = "a\n_XW_SCRIPT_END\n'$(touch /tmp/xw-never)'\n_XW_SCRIPT_END_1";
    const job = await runJob(
      { executable: 'x', inheritEnvironment: false, environment: { TRICKY: tricky } },
      sh('printf "%s" "$TRICKY"'),
    );
    expect(job.stdout).toBe(tricky);
    expect(job.result).toEqual({ exitCode: 0 });
  });

  it('keeps a PATH the spec sets in a clean environment', async () => {
    const job = await runJob(
      { executable: 'x', inheritEnvironment: false, environment: { PATH: '/bin:/usr/bin' } },
      { argv: ['/bin/sh', '-c', 'echo "$PATH"'], env: {} },
    );
    expect(job.stdout).toBe('/bin:/usr/bin\n');
  });

  it('exports PSIJ_NODEFILE when a node file is given', async () => {
    const d = scratch();
    const nodeFile = path.join(d, 'nodes');
    writeFileSync(nodeFile, 'localhost\nlocalhost\n');
    const job = await runJob({ executable: 'x' }, sh('cat "$PSIJ_NODEFILE"'), { nodeFile });
    expect(job.stdout).toBe('localhost\nlocalhost\n');
  });

  it('sources the pre-launch script once, in the job shell, under bash', async () => {
    const d = scratch();
    const count = path.join(d, 'count');
    writeFileSync(path.join(d, 'pre.sh'), `echo pre >> '${count}'\nexport FROM_PRE="set by pre-launch"\nPRE_ARRAY=(a b)\n`);
    // A decoy pre.sh on PATH must not be sourced instead of the job directory's.
    const decoyDir = path.join(d, 'decoy');
    mkdirSync(decoyDir);
    writeFileSync(path.join(decoyDir, 'pre.sh'), 'export FROM_PRE=decoy\n');
    const job = await runJob({ executable: 'x', directory: d, preLaunch: 'pre.sh' }, sh('echo "$FROM_PRE"'), {
      env: { ...process.env, PATH: `${decoyDir}:${process.env.PATH ?? ''}` },
    });
    expect(job.script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(job.stdout).toBe('set by pre-launch\n');
    expect(readFileSync(count, 'utf8')).toBe('pre\n');
    expect(job.result).toEqual({ exitCode: 0 });
  });

  it('does not launch when the pre-launch script fails, and names it with its status', async () => {
    const d = scratch();
    writeFileSync(path.join(d, 'pre.sh'), 'echo setting up\nfalse\n(exit 5)\n');
    const marker = path.join(d, 'launched');
    const job = await runJob({ executable: 'x', preLaunch: path.join(d, 'pre.sh') }, sh('touch "$1"', marker));
    expect(existsSync(marker)).toBe(false);
    expect(job.result?.exitCode).toBe(5);
    expect(job.result?.failure).toBe(
      `pre-launch script ${path.join(d, 'pre.sh')} failed with exit status 5; the job was not launched`,
    );
    expect(job.exitCode).toBe(5);
    expect(job.stdout).toBe('setting up\n');
  });

  it('records a failure when a pre-launch script calls exit', async () => {
    const d = scratch();
    writeFileSync(path.join(d, 'pre.sh'), 'exit 0\n');
    const marker = path.join(d, 'launched');
    const job = await runJob({ executable: 'x', preLaunch: path.join(d, 'pre.sh') }, sh('touch "$1"', marker));
    expect(existsSync(marker)).toBe(false);
    expect(job.result?.exitCode).toBe(1);
    expect(job.result?.failure).toMatch(/pre-launch script .*pre\.sh exited the job shell/);
  });

  it('a missing pre-launch script fails the job', async () => {
    const d = scratch();
    const job = await runJob({ executable: 'x', preLaunch: path.join(d, 'nope.sh') }, sh('true'));
    expect(job.result?.exitCode).not.toBe(0);
    expect(job.result?.failure).toMatch(/pre-launch script .*nope\.sh failed/);
  });

  it('a pre-launch `set -e` does not stop the script from recording a failing launch', async () => {
    const d = scratch();
    writeFileSync(path.join(d, 'pre.sh'), 'set -eu\n');
    const job = await runJob({ executable: 'x', preLaunch: path.join(d, 'pre.sh') }, sh('exit 3'));
    expect(job.result).toEqual({ exitCode: 3 });
  });

  it('sources the post-launch script once after launch; its failure fails the job', async () => {
    const d = scratch();
    const count = path.join(d, 'count');
    writeFileSync(path.join(d, 'post.sh'), `echo "post after $(cat '${path.join(d, 'launched')}')" >> '${count}'\n(exit 4)\n`);
    const ok = await runJob(
      { executable: 'x', postLaunch: path.join(d, 'post.sh') },
      sh('echo yes > "$1"', path.join(d, 'launched')),
    );
    expect(readFileSync(count, 'utf8')).toBe('post after yes\n');
    expect(ok.result).toEqual({
      exitCode: 4,
      failure: `post-launch script ${path.join(d, 'post.sh')} failed with exit status 4`,
    });

    // The launch's own non-zero code is what is reported when both fail.
    const both = await runJob(
      { executable: 'x', postLaunch: path.join(d, 'post.sh') },
      sh('echo yes > "$1"; exit 9', path.join(d, 'launched')),
    );
    expect(both.result?.exitCode).toBe(9);
    expect(both.result?.failure).toMatch(/post-launch script .* failed with exit status 4/);
    expect(both.exitCode).toBe(9);
  });

  it('a successful post-launch keeps the launch exit code and sees the pre-launch variables', async () => {
    const d = scratch();
    writeFileSync(path.join(d, 'pre.sh'), 'export FROM_PRE=p\n');
    writeFileSync(path.join(d, 'post.sh'), 'echo "post sees $FROM_PRE"\n');
    const job = await runJob(
      { executable: 'x', preLaunch: path.join(d, 'pre.sh'), postLaunch: path.join(d, 'post.sh') },
      sh('echo launch; exit 2'),
    );
    expect(job.stdout).toBe('launch\npost sees p\n');
    expect(job.result).toEqual({ exitCode: 2 });
  });

  it('reports a program that does not exist', async () => {
    const job = await runJob({ executable: '/no/such/program' }, { argv: ['/no/such/program', 'a'], env: {} });
    expect(job.result).toEqual({ exitCode: 127, failure: 'program not found: /no/such/program' });
  });

  it('reports a signal-killed program as 128+N', async () => {
    const job = await runJob({ executable: 'x' }, sh('kill -KILL $$'));
    expect(job.result).toEqual({ exitCode: 137 });
  });

  it('runs with the single launcher: arguments with spaces, quotes, $(), backticks, newlines, non-ASCII', async () => {
    const args = [
      'a b',
      "it's",
      '"dq"',
      '$(touch pwned)',
      '`touch pwned`',
      'line1\nline2',
      'ünïcødé ✓ 🚀',
      '*',
      '',
      '-n',
      '; rm -rf /',
      '$HOME',
      '\\',
    ];
    const spec = createJobSpec({ executable: '/usr/bin/printf', arguments: ['%s\\0', ...args] });
    const d = scratch();
    const job = await runJob(
      { executable: spec.executable, arguments: [...spec.arguments], directory: d },
      await new SingleLauncher().launchCommand(spec),
    );
    expect(job.stdout.split('\0').slice(0, -1)).toEqual(args);
    expect(existsSync(path.join(d, 'pwned'))).toBe(false);
  });

  it('property: arbitrary arguments and environment values reach the program exactly (sh and bash scripts)', async () => {
    const d = scratch();
    const pre = path.join(d, 'pre.sh');
    writeFileSync(pre, ':\n');
    const word = fc.string({ unit: 'binary', maxLength: 24 }).filter((s) => !s.includes('\0'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(word, { maxLength: 5 }),
        fc.dictionary(fc.stringMatching(/^XW_[A-Z0-9_]{1,8}$/), word, { maxKeys: 3 }),
        fc.boolean(),
        fc.boolean(),
        async (args, environment, inherit, withPre) => {
          const job = await runJob(
            { executable: '/bin/sh', environment, inheritEnvironment: inherit, ...(withPre ? { preLaunch: pre } : {}) },
            { argv: ['/bin/sh', '-c', 'for a; do printf "%s\\0" "$a"; done; env -0 >&2', 'job', ...args], env: {} },
            { dir: d },
          );
          expect(job.result).toEqual({ exitCode: 0 });
          expect(job.stdout.split('\0').slice(0, -1)).toEqual(args);
          const env = new Map(
            job.stderr
              .split('\0')
              .slice(0, -1)
              .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
          );
          for (const [k, v] of Object.entries(environment)) expect(env.get(k)).toBe(v);
        },
      ),
      { numRuns: 60 },
    );
  }, 180_000); // 60 real shells: a minute and more on a loaded 2-core machine

  it('a SIGTERM to the process group stops the job and leaves no result file', async () => {
    const d = scratch();
    const pidFile = path.join(d, 'pid');
    let group = 0;
    const running = runJob({ executable: 'x' }, sh('echo $$ > "$1"; exec sleep 30', pidFile), {
      dir: d,
      detached: true,
      onSpawn: (pid) => (group = pid),
    });
    expect(await until(() => readIf(pidFile)?.endsWith('\n') === true)).toBe(true);
    const programPid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(-group, 'SIGTERM');
    const job = await running;
    expect(job.signal).toBe('SIGTERM');
    expect(job.resultText).toBeUndefined();
    expect(await until(() => !alive(programPid))).toBe(true);
    expect(readdirSync(d).filter((f) => f.startsWith('job.result'))).toEqual([]);
  });

  it('a SIGTERM to the process group during a bash pre-launch script records nothing', async () => {
    const d = scratch();
    const pidFile = path.join(d, 'pid');
    const sleepPidFile = path.join(d, 'sleep-pid');
    // `wait` (not a foreground sleep): bash runs a trap only once a foreground child ends, and a
    // SIGTERM that hits that child between fork and exec is lost, so it would sleep on.
    writeFileSync(path.join(d, 'pre.sh'), `sleep 30 &\necho $! > '${sleepPidFile}'\necho $$ > '${pidFile}'\nwait\n`);
    let group = 0;
    const running = runJob({ executable: 'x', preLaunch: path.join(d, 'pre.sh') }, sh('true'), {
      dir: d,
      detached: true,
      onSpawn: (pid) => (group = pid),
    });
    expect(await until(() => readIf(pidFile)?.endsWith('\n') === true)).toBe(true);
    // Signal only once the sleep has exec'd, so the whole group is in place.
    const sleepPid = Number(readFileSync(sleepPidFile, 'utf8'));
    expect(await until(() => readIf(`/proc/${sleepPid}/cmdline`)?.startsWith('sleep\0') === true)).toBe(true);
    process.kill(-group, 'SIGTERM');
    const job = await running;
    expect(job.signal).toBe('SIGTERM');
    // bash would run the EXIT trap on SIGTERM; the script re-raises the signal instead.
    expect(job.resultText).toBeUndefined();
  });

  it('a SIGKILL of the script leaves no partial result file', async () => {
    const d = scratch();
    const pidFile = path.join(d, 'pid');
    let group = 0;
    const running = runJob({ executable: 'x' }, sh('echo $$ > "$1"; exec sleep 30', pidFile), {
      dir: d,
      detached: true,
      onSpawn: (pid) => (group = pid),
    });
    expect(await until(() => readIf(pidFile)?.endsWith('\n') === true)).toBe(true);
    process.kill(-group, 'SIGKILL');
    const job = await running;
    expect(job.signal).toBe('SIGKILL');
    expect(job.resultText).toBeUndefined();
  });

  it('discards stdout and stderr when neither the spec nor the caller names a file (as psij-python does)', () => {
    const d = scratch();
    const resultFile = path.join(d, 'r');
    const script = jobScriptFor(createJobSpec({ executable: 'x' }), sh('echo out; echo err >&2; exit 3'), { resultFile });
    const run = spawnSync('/bin/sh', ['-c', script, 'exaworks-job'], { cwd: d, encoding: 'utf8' });
    expect(run.status).toBe(3);
    expect(run.stdout + run.stderr).toBe('');
    expect(readFileSync(resultFile, 'utf8')).toBe('3\n');
    expect(readdirSync(d)).toEqual(['r']); // no output files, no temp file
  });

  it('run as `sh -c <script> <name>`, a clean-environment job keeps <name> in its command line', () => {
    const d = scratch();
    const resultFile = path.join(d, 'r');
    const out = path.join(d, 'out');
    const spec = createJobSpec({ executable: 'x', inheritEnvironment: false, stdoutPath: out });
    // The launched program prints its parent's (the job shell's) command line.
    const script = jobScriptFor(
      spec,
      { argv: ['/bin/sh', '-c', 'tr "\\0" "\\n" < /proc/$PPID/cmdline'], env: {} },
      { resultFile },
    );
    const run = spawnSync('/bin/sh', ['-c', script, 'exaworks-job:abc-1'], { cwd: d, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')).toContain('exaworks-job:abc-1');
  });

  it('rejects an empty launch command and invalid launcher variable names', () => {
    const spec = createJobSpec({ executable: 'x' });
    const files = { resultFile: '/tmp/r', stdout: '/tmp/o', stderr: '/tmp/e' };
    expect(() => jobScriptFor(spec, { argv: [], env: {} }, files)).toThrow(LauncherError);
    expect(() => jobScriptFor(spec, { argv: ['x'], env: { 'BAD-NAME': '1' } }, files)).toThrow(
      /invalid environment variable name "BAD-NAME"/,
    );
  });
});
