import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@exaworks/jpsi-core';
import { attributeValue, buildExecutorConfig, buildJobSpec, parseMemory, specInputFromFlags, splitKeyValue } from './options.js';

async function validationIssues(p: Promise<unknown>): Promise<{ path: string; message: string }[]> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return [...(err as ValidationError).issues];
}

describe('parseMemory', () => {
  it.each([
    ['1073741824', 1073741824],
    ['4G', 4 * 1024 ** 3],
    ['4g', 4 * 1024 ** 3],
    ['4GB', 4 * 1024 ** 3],
    ['4GiB', 4 * 1024 ** 3],
    ['512M', 512 * 1024 ** 2],
    ['512 MiB', 512 * 1024 ** 2],
    ['64k', 64 * 1024],
    ['1.5G', 1.5 * 1024 ** 3],
    ['2T', 2 * 1024 ** 4],
    ['100b', 100],
  ])('%s → %d bytes', (text, bytes) => {
    expect(parseMemory(text)).toEqual({ bytes });
  });

  it.each(['', 'G', '4X', '-1G', '0', '0M', 'four', '4 G B', '12iB'])('rejects %j', (text) => {
    expect(parseMemory(text)).toHaveProperty('error');
  });
});

describe('key=value and attribute values', () => {
  it('splits at the first =', () => {
    expect(splitKeyValue('A=b=c')).toEqual(['A', 'b=c']);
    expect(splitKeyValue('A=')).toEqual(['A', '']);
    expect(splitKeyValue('=x')).toBeUndefined();
    expect(splitKeyValue('novalue')).toBeUndefined();
  });

  it('types attribute values only when canonical', () => {
    expect(attributeValue('true')).toBe(true);
    expect(attributeValue('false')).toBe(false);
    expect(attributeValue('8')).toBe(8);
    expect(attributeValue('-2.5')).toBe(-2.5);
    expect(attributeValue('007')).toBe('007');
    expect(attributeValue('1e3')).toBe('1e3');
    expect(attributeValue('haswell')).toBe('haswell');
    expect(attributeValue('')).toBe('');
  });
});

describe('flags → JobSpec', () => {
  const cwd = '/home/u/proj';

  it('maps every job flag to its spec field', async () => {
    const spec = await buildJobSpec(
      {
        executable: '/bin/app',
        args: ['-x', '1', 'two words'],
        name: 'my-job',
        nodes: '2',
        ppn: '4',
        processes: '8',
        coresPerProcess: '2',
        gpusPerProcess: '1',
        exclusive: true,
        memory: '4G',
        duration: '01:30:00',
        queue: 'debug',
        account: 'm1234',
        reservation: 'resv1',
        attr: ['slurm.constraint=haswell', 'slurm.nice=10', 'pbs.flag=true'],
        env: ['OMP_NUM_THREADS=4', 'PATHISH=a=b:c'],
        inheritEnv: false,
        directory: 'run dir',
        stdin: 'in.txt',
        stdout: '/abs/out.txt',
        stderr: 'err.txt',
        launcher: 'mpirun',
        preLaunch: 'pre.sh',
        postLaunch: 'post.sh',
      },
      cwd,
    );
    expect(spec.executable).toBe('/bin/app');
    expect(spec.arguments).toEqual(['-x', '1', 'two words']);
    expect(spec.name).toBe('my-job');
    expect(spec.resources).toMatchObject({
      nodeCount: 2,
      processesPerNode: 4,
      processCount: 8,
      cpuCoresPerProcess: 2,
      gpuCoresPerProcess: 1,
      exclusiveNodeUse: true,
      memory: 4 * 1024 ** 3,
      computedNodeCount: 2,
      computedProcessCount: 8,
      computedProcessesPerNode: 4,
    });
    expect(spec.attributes).toEqual({
      duration: 5400,
      queueName: 'debug',
      account: 'm1234',
      reservationId: 'resv1',
      customAttributes: { 'slurm.constraint': 'haswell', 'slurm.nice': 10, 'pbs.flag': true },
    });
    expect(spec.environment).toEqual({ OMP_NUM_THREADS: '4', PATHISH: 'a=b:c' });
    expect(spec.inheritEnvironment).toBe(false);
    // Relative paths are resolved against the directory the command was typed in.
    expect(spec.directory).toBe('/home/u/proj/run dir');
    expect(spec.stdinPath).toBe('/home/u/proj/in.txt');
    expect(spec.stdoutPath).toBe('/abs/out.txt');
    expect(spec.stderrPath).toBe('/home/u/proj/err.txt');
    expect(spec.preLaunch).toBe('/home/u/proj/pre.sh');
    expect(spec.postLaunch).toBe('/home/u/proj/post.sh');
    expect(spec.launcher).toBe('mpirun');
  });

  it('leaves unset flags to the defaults', async () => {
    const spec = await buildJobSpec({ executable: 'echo', args: [] }, cwd);
    expect(spec.name).toBe('echo');
    expect(spec.inheritEnvironment).toBe(true);
    expect(spec.attributes.duration).toBe(600);
    expect(spec.resources.exclusiveNodeUse).toBe(false);
    expect(spec.stdoutPath).toBeUndefined();
    expect(specInputFromFlags({ executable: 'echo' }).input).toEqual({ executable: 'echo' });
  });

  it.each([
    ['90 s', 90],
    ['1.5 h', 5400],
    ['30', 1800],
    ['01:30', 5400],
    ['1-12:00:00', 129600],
    ['5400.0 s', 5400],
  ])('reads --duration %j as %d s', async (duration, seconds) => {
    const spec = await buildJobSpec({ executable: 'x', duration }, cwd);
    expect(spec.attributes.duration).toBe(seconds);
  });

  it('reports every bad flag at once, each with its field path and flag', async () => {
    const issues = await validationIssues(
      buildJobSpec(
        {
          executable: 'x',
          nodes: 'two',
          memory: '4X',
          duration: 'soon',
          env: ['NOEQUALS', '1BAD=x'],
          attr: ['nodot=1'],
          processes: '0',
        },
        cwd,
      ),
    );
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath['resources.memory']).toMatch(/"4X" is not a memory size.*\(from --memory\)/);
    expect(byPath['attributes.duration']).toMatch(/"soon" is not a duration.*\(from --duration\)/);
    expect(byPath.environment).toMatch(/"NOEQUALS" is not NAME=VALUE.*\(from --env\)/);
    expect(byPath['environment.1BAD']).toMatch(/not a variable name.*\(from --env\)/);
    expect(byPath['attributes.customAttributes.nodot']).toMatch(/executor name, a dot.*\(from --attr\)/);
    expect(byPath['resources.nodeCount']).toMatch(/"two" is not a whole number in decimal digits \(from --nodes\)/);
    expect(byPath['resources.processCount']).toMatch(/at least 1 \(from --processes\)/);
  });

  it.each(['0x10', '1e1', '1.0', ' ', '+3', '-2'])('refuses --nodes %j: counts are decimal digits only', async (nodes) => {
    const issues = await validationIssues(buildJobSpec({ executable: 'x', nodes }, cwd));
    expect(issues).toEqual([
      { path: 'resources.nodeCount', message: `"${nodes}" is not a whole number in decimal digits (from --nodes)` },
    ]);
  });

  it('refuses -p past the maximum process count with a ValidationError, not a RangeError', async () => {
    for (const processes of ['100000000', '1000000000']) {
      const issues = await validationIssues(buildJobSpec({ executable: 'x', processes }, cwd));
      expect(issues).toEqual([
        { path: 'resources.processCount', message: expect.stringMatching(/at most 1048576 \(from --processes\)/) },
      ]);
    }
  });

  it('refuses --env names the job shell owns, and keeps __proto__ as a variable', async () => {
    const issues = await validationIssues(buildJobSpec({ executable: 'x', env: ['OPTIND=2', 'PPID=1'] }, cwd));
    expect(issues.map((i) => i.path).sort()).toEqual(['environment.OPTIND', 'environment.PPID']);
    expect(issues[0]!.message).toMatch(/belongs to the job's shell.*\(from --env\)/);
    const spec = await buildJobSpec({ executable: 'x', env: ['__proto__=p', 'A=1'] }, cwd);
    expect(Object.keys(spec.environment).sort()).toEqual(['A', '__proto__']);
  });

  it('names the inconsistent count', async () => {
    const issues = await validationIssues(buildJobSpec({ executable: 'x', nodes: '2', processes: '3' }, cwd));
    expect(issues).toEqual([
      { path: 'resources.processCount', message: 'processCount (3) must be a multiple of nodeCount (2) (from --processes)' },
    ]);
  });

  it('asks for an executable when there is neither one nor --spec', async () => {
    const issues = await validationIssues(buildJobSpec({ args: [] }, cwd));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('executable');
    expect(issues[0]!.message).toMatch(/--spec FILE/);
  });

  it('rejects bad launcher names and empty names', async () => {
    const issues = await validationIssues(buildJobSpec({ executable: 'x', launcher: 'MPI RUN', name: '' }, cwd));
    expect(issues.map((i) => i.path).sort()).toEqual(['launcher', 'name']);
    expect(issues.find((i) => i.path === 'launcher')!.message).toMatch(/\(from --launcher\)/);
  });
});

describe('--spec files with flags on top', () => {
  async function tempFile(name: string, text: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-test-'));
    const file = path.join(dir, name);
    await writeFile(file, text);
    return file;
  }

  it('refuses a spec file that is not UTF-8 with a ValidationError naming the line (never U+FFFD in its place)', async () => {
    const file = await tempFile('latin1.json', '');
    await writeFile(
      file,
      Buffer.concat([
        Buffer.from('{\n  "executable": "/bin/echo",\n  "arguments": ["caf'),
        Buffer.from([0xe9]),
        Buffer.from('"]\n}\n'),
      ]),
    );
    const issues = await validationIssues(buildJobSpec({ spec: file }, path.dirname(file)));
    expect(issues).toEqual([{ path: '', message: 'line 3 is not UTF-8 text (save the file as UTF-8)' }]);
  });

  it('reads YAML in camelCase form and lets flags override and merge', async () => {
    const file = await tempFile(
      'job.yaml',
      [
        'executable: /bin/sim',
        'arguments: [--steps, "10"]',
        'environment: { A: "1", B: "2" }',
        'resources: { nodeCount: 2, processesPerNode: 2 }',
        'attributes:',
        '  duration: 1 h',
        '  queueName: regular',
        '  customAttributes: { slurm.qos: high }',
        '',
      ].join('\n'),
    );
    const spec = await buildJobSpec({ spec: file, queue: 'debug', env: ['B=3'], attr: ['slurm.constraint=knl'], ppn: '4' });
    expect(spec.executable).toBe('/bin/sim');
    expect(spec.arguments).toEqual(['--steps', '10']);
    expect(spec.environment).toEqual({ A: '1', B: '3' });
    expect(spec.resources).toMatchObject({ nodeCount: 2, processesPerNode: 4, computedProcessCount: 8 });
    expect(spec.attributes).toMatchObject({
      duration: 3600,
      queueName: 'debug',
      customAttributes: { 'slurm.qos': 'high', 'slurm.constraint': 'knl' },
    });
  });

  it('reads psij-python JSON; a positional executable replaces executable, arguments and the derived name', async () => {
    const file = await tempFile(
      'job.json',
      JSON.stringify({
        executable: '/bin/echo',
        arguments: ['a'],
        inherit_environment: false,
        attributes: { duration: '5400.0 s' },
      }),
    );
    const spec = await buildJobSpec({ spec: file, executable: '/bin/date', args: [] });
    expect(spec.executable).toBe('/bin/date');
    expect(spec.arguments).toEqual([]);
    expect(spec.name).toBe('/bin/date');
    expect(spec.inheritEnvironment).toBe(false);
    expect(spec.attributes.duration).toBe(5400);
  });

  it('--no-inherit-env not given keeps the file value; --account replaces the deprecated project_name', async () => {
    const file = await tempFile(
      'job.json',
      JSON.stringify({ executable: 'x', inherit_environment: false, attributes: { account: 'a1', project_name: 'a1' } }),
    );
    const spec = await buildJobSpec({ spec: file, account: 'b2' });
    expect(spec.inheritEnvironment).toBe(false);
    expect(spec.attributes.account).toBe('b2');
  });

  it('names fields as the file spells them and says which file', async () => {
    const file = await tempFile('bad.json', JSON.stringify({ executable: 'x', resources: { node_count: 0, process_count: 3 } }));
    const err = await buildJobSpec({ spec: file }).then(
      () => undefined,
      (e: unknown) => e as ValidationError,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect(err!.subject).toContain(file);
    expect(err!.issues.map((i) => i.path)).toContain('resources.node_count');
  });

  it('reports unreadable and unparsable files as validation errors', async () => {
    const missing = await validationIssues(buildJobSpec({ spec: '/nonexistent/job.yaml' }));
    expect(missing[0]!.message).toMatch(/cannot read .*ENOENT/);
    const file = await tempFile('broken.yaml', 'executable: [unclosed\n');
    const broken = await validationIssues(buildJobSpec({ spec: file }));
    expect(broken[0]!.message).toMatch(/not valid JSON or YAML/);
  });
});

describe('executor config', () => {
  it('takes inline JSON, then --work-dir on top (resolved)', async () => {
    const config = await buildExecutorConfig(
      { executorConfig: '{"keepFiles": true, "workDirectory": "x"}', workDir: 'w' },
      '/base',
    );
    expect(config).toEqual({ keepFiles: true, workDirectory: '/base/w' });
  });

  it('reads a YAML file and resolves its workDirectory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-test-'));
    await writeFile(path.join(dir, 'exec.yaml'), 'keepFiles: true\nworkDirectory: work\n');
    expect(await buildExecutorConfig({ executorConfig: 'exec.yaml' }, dir)).toEqual({
      keepFiles: true,
      workDirectory: path.join(dir, 'work'),
    });
  });

  it('rejects a config that is not an object', async () => {
    const issues = await validationIssues(buildExecutorConfig({ executorConfig: '{oops' }));
    expect(issues[0]!.message).toMatch(/not valid JSON or YAML/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'exaworks-cli-test-'));
    await writeFile(path.join(dir, 'list.yaml'), '- 1\n- 2\n');
    const notObject = await validationIssues(buildExecutorConfig({ executorConfig: 'list.yaml' }, dir));
    expect(notObject[0]!.message).toMatch(/must be an object/);
  });
});
