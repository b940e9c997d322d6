import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobSpec, SubmitError, type JobSpecInput } from '@exaworks/jpsi-core';
import { batchJobFiles, prepareScripts, submitScriptFor } from './script.js';
import { textAdapter } from './test-support/text-adapter.js';

const run = promisify(execFile);
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'exa-batch-script-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes both scripts of a spec into a fresh work directory and runs the submit script with bash, as a scheduler would. */
async function runScripts(input: JobSpecInput, cwd: string, env: Record<string, string> = {}) {
  const work = await mkdtemp(path.join(tmp, 'w-'));
  const files = batchJobFiles(work, 'k1');
  const { jobScript, submitScript, jobScriptFile } = await prepareScripts(textAdapter, createJobSpec(input), files, {
    workDirectory: work,
    cwd,
  });
  if (jobScriptFile) await writeFile(files.jobScript, jobScript, { mode: 0o700 });
  await writeFile(files.submitScript, submitScript, { mode: 0o700 });
  const exitCode = await run('bash', [files.submitScript], { cwd: work, env: { ...process.env, ...env } }).then(
    () => 0,
    (e: { code?: number }) => e.code ?? -1,
  );
  const lines = (await readFile(files.stateFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  // The `ID <native id>` line (for crash recovery) comes first; the rest are states.
  const id = lines.find((l) => l.startsWith('ID '))?.slice(3);
  const states = lines.filter((l) => !l.startsWith('ID ')).map((l) => l.split(' ')[0]);
  const ec = await readFile(files.exitCodeFile, 'utf8').catch(() => undefined);
  return { exitCode, states, ec, files, id };
}

describe('submit script (golden)', () => {
  it('matches the golden script for a spec with directives, staging and cleanup', async () => {
    const spec = createJobSpec({
      executable: '/bin/echo',
      arguments: ['a b', "it's", '$HOME'],
      name: 'my job: "x"',
      directory: '/data/run 1',
      environment: { GREETING: 'hi there' },
      resources: { nodeCount: 2, processesPerNode: 4 },
      attributes: { duration: '01:30:00', customAttributes: { 'xw.color': 'blue', 'slurm.constraint': 'ignored' } },
      stageIn: [{ source: 'in.dat', target: 'input/in.dat', mode: 'COPY' }],
      stageOut: [
        { source: 'out.dat', target: '/results/out.dat', mode: 'MOVE', flags: ['IF_PRESENT', 'ON_SUCCESS'] },
        { source: 'log', target: 'logs/log', mode: 'LINK' },
      ],
      cleanup: ['scratch'],
      cleanupFlags: ['ON_SUCCESS'],
    });
    const script = submitScriptFor({
      adapter: textAdapter,
      spec,
      files: batchJobFiles('/w', 'k1'),
      workDirectory: '/w',
      jobDirectory: '/data/run 1',
      cwd: '/home/u',
    });
    await expect(script).toMatchFileSnapshot('./__golden__/staging.submit.sh');
  });

  it('refuses a directive with a line break and a cleanup path outside the job directory', () => {
    const base = { adapter: textAdapter, files: batchJobFiles('/w', 'k'), workDirectory: '/w', jobDirectory: '/j', cwd: '/c' };
    const bad = createJobSpec({ executable: '/bin/true', attributes: { customAttributes: { 'xw.x': 'a\n#!/bin/rm' } } });
    expect(() => submitScriptFor({ ...base, spec: bad })).toThrow(SubmitError);
    const outside = createJobSpec({ executable: '/bin/true', cleanup: ['../etc'] });
    expect(() => submitScriptFor({ ...base, spec: outside })).toThrow(/not inside the job directory/);
  });
});

describe('submit script (run with bash)', () => {
  it('records the states, writes the exit code and exits with the job’s own code', async () => {
    const r = await runScripts({ executable: '/bin/sh', arguments: ['-c', 'exit 7'] }, tmp, { XW_JOB_ID: '4242.x' });
    expect(r.exitCode).toBe(7);
    expect(r.ec).toBe('7\n');
    expect(r.states).toEqual(['STAGE_IN', 'ACTIVE', 'STAGE_OUT', 'CLEANUP']);
    expect(r.id).toBe('4242.x');
  });

  it('stages in (COPY, LINK, MOVE), stages out under IF_PRESENT/ON_SUCCESS/ON_ERROR, and cleans up', async () => {
    const cwd = await mkdtemp(path.join(tmp, 'cwd-'));
    const jobDir = path.join(cwd, 'job dir');
    await mkdir(jobDir);
    await writeFile(path.join(cwd, 'a.txt'), 'A');
    await writeFile(path.join(cwd, 'b.txt'), 'B');
    await writeFile(path.join(cwd, 'c.txt'), 'C');
    const r = await runScripts(
      {
        executable: '/bin/sh',
        arguments: ['-c', 'cat in/a.txt b.txt c.txt > result.txt; mkdir scratch'],
        directory: jobDir,
        stageIn: [
          { source: 'a.txt', target: 'in/a.txt', mode: 'COPY' },
          { source: `file://${path.join(cwd, 'b.txt')}`, target: 'b.txt', mode: 'LINK' },
          { source: 'c.txt', target: 'c.txt', mode: 'MOVE' },
        ],
        stageOut: [
          { source: 'result.txt', target: 'out/result.txt', flags: ['ON_SUCCESS'] },
          { source: 'result.txt', target: 'on-error.txt', flags: ['ON_ERROR'] },
          { source: 'missing.txt', target: 'missing.txt', flags: ['IF_PRESENT'] },
        ],
        cleanup: ['scratch'],
      },
      cwd,
    );
    expect(r).toMatchObject({ exitCode: 0, ec: '0\n' });
    expect(await readFile(path.join(cwd, 'out/result.txt'), 'utf8')).toBe('ABC');
    await expect(stat(path.join(cwd, 'on-error.txt'))).rejects.toThrow();
    await expect(stat(path.join(cwd, 'c.txt'))).rejects.toThrow(); // moved
    expect(await readlink(path.join(jobDir, 'b.txt'))).toBe(path.join(cwd, 'b.txt'));
    await expect(stat(path.join(jobDir, 'scratch'))).rejects.toThrow();
  });

  it('fails a job without running it when stage-in fails, and a missing stage-out source fails it', async () => {
    const cwd = await mkdtemp(path.join(tmp, 'cwd-'));
    const ran = path.join(cwd, 'ran');
    const noInput = await runScripts(
      { executable: '/usr/bin/touch', arguments: [ran], stageIn: [{ source: 'nope', target: 'nope' }] },
      cwd,
    );
    expect(noInput.exitCode).toBe(1);
    expect(noInput.ec).toMatch(/^1\nstage-in of .*nope.*failed; the job was not run\n$/);
    expect(noInput.states).toEqual(['STAGE_IN']);
    await expect(stat(ran)).rejects.toThrow();
    const noOutput = await runScripts({ executable: '/bin/true', stageOut: [{ source: 'absent', target: 'x' }] }, cwd);
    expect(noOutput.exitCode).toBe(1);
    expect(noOutput.ec).toMatch(/^1\nstage-out source .*absent does not exist\n$/);
  });

  it('treats a TERM after cancel() as a cancel (ON_CANCEL stage-out) and exits with the killed code', async () => {
    const cwd = await mkdtemp(path.join(tmp, 'cwd-'));
    const work = await mkdtemp(path.join(tmp, 'w-'));
    const files = batchJobFiles(work, 'k2');
    const spec = createJobSpec({
      executable: '/bin/sh',
      arguments: ['-c', 'echo partial > part.txt; exec sleep 60'],
      stageOut: [
        { source: 'part.txt', target: 'canceled.txt', flags: ['ON_CANCEL'] },
        { source: 'part.txt', target: 'errored.txt', flags: ['ON_ERROR'] },
      ],
    });
    const { submitScript } = await prepareScripts(textAdapter, spec, files, { workDirectory: work, cwd });
    await writeFile(files.submitScript, submitScript, { mode: 0o700 });
    const child = execFile('bash', [files.submitScript], { cwd: work });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 400 && !(await readFile(path.join(cwd, 'part.txt'), 'utf8').catch(() => '')); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await writeFile(files.cancelMarker, '');
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    // The executor waits for the scheduler's word on why a signaled job ended (cancel, walltime, preemption).
    expect(await readFile(files.stateFile, 'utf8')).toMatch(/^SIGNALED /m);
    expect(await readFile(path.join(cwd, 'canceled.txt'), 'utf8')).toBe('partial\n');
    await expect(stat(path.join(cwd, 'errored.txt'))).rejects.toThrow();
  }, 30_000);
});

describe('submit script and secrets', () => {
  it("keeps the job's environment out of every command line while the job runs (embedded job script)", async () => {
    const cwd = await mkdtemp(path.join(tmp, 's-'));
    const seen = path.join(cwd, 'cmdlines');
    // The job itself reads every process's command line: its job shell and the submit script are running then.
    const r = await runScripts(
      {
        executable: '/bin/sh',
        arguments: [
          '-c',
          `for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <"$f"; echo; done >${seen} 2>/dev/null; [ "\${#API_TOKEN}" = 11 ]`,
        ],
        environment: { API_TOKEN: 's3cr3t-b47c' },
      },
      cwd,
    );
    expect(r.exitCode).toBe(0);
    const lines = (await readFile(seen, 'utf8')).split('\n');
    expect(lines.some((l) => l.includes(' -s '))).toBe(true); // the job shell was seen
    expect(lines.filter((l) => l.includes('s3cr3t-b47c'))).toEqual([]);
  });
});

describe('submit script with a long job script', () => {
  it('writes the job script to its own file when it is too long to embed, and still runs it', async () => {
    // 30 variables of 5 KiB (one variable may not pass 128 KiB: Linux's limit on one environment string).
    const big = 'x'.repeat(5 * 1024);
    const environment = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`XW_BIG${i}`, big]));
    const work = await mkdtemp(path.join(tmp, 'w-'));
    const files = batchJobFiles(work, 'big');
    const spec = createJobSpec({ executable: '/bin/sh', arguments: ['-c', '[ "${#XW_BIG29}" = 5120 ]'], environment });
    const p = await prepareScripts(textAdapter, spec, files, { workDirectory: work, cwd: tmp });
    expect(p.jobScriptFile).toBe(true);
    expect(p.submitScript).not.toContain('XW_BIG0');
    await writeFile(files.jobScript, p.jobScript, { mode: 0o700 });
    await writeFile(files.submitScript, p.submitScript, { mode: 0o700 });
    await run('bash', [files.submitScript], { cwd: work });
    expect(await readFile(files.exitCodeFile, 'utf8')).toBe('0\n');
  });
});

describe('submit script quoting (property)', () => {
  // Any text but NUL (which no argv or environment can carry).
  const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
  const name = fc
    .string({ unit: 'binary', minLength: 1, maxLength: 20 })
    .filter((s) => !/[\0/]/.test(s) && s !== '.' && s !== '..');

  it('passes every argument, environment value and path through unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(text, { maxLength: 6 }), text, name, name, async (args, value, dirName, outName) => {
        const cwd = await mkdtemp(path.join(tmp, 'p-'));
        const dir = path.join(cwd, dirName);
        await mkdir(dir, { recursive: true });
        const argsOut = path.join(cwd, 'args.bin');
        const envOut = path.join(cwd, 'env.bin');
        const r = await runScripts(
          {
            executable: '/bin/sh',
            arguments: [
              '-c',
              ': >"$XW_ARGS"; for a; do printf "%s\\0" "$a" >>"$XW_ARGS"; done; printf "%s" "$XW_VALUE" >"$XW_ENV"; pwd',
              'rec',
              ...args,
            ],
            environment: { XW_ARGS: argsOut, XW_ENV: envOut, XW_VALUE: value },
            directory: dir,
            stdoutPath: path.join(cwd, `${outName}.out`),
          },
          cwd,
        );
        expect(r.exitCode).toBe(0);
        const got = (await readFile(argsOut, 'utf8')).split('\0').slice(0, -1);
        expect(got).toEqual(args);
        expect(await readFile(envOut, 'utf8')).toBe(value);
        expect(await readFile(path.join(cwd, `${outName}.out`), 'utf8')).toBe(`${dir}\n`);
        await rm(cwd, { recursive: true, force: true });
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
