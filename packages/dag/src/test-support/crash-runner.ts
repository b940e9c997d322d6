// A workflow run in a child process by the crash tests: `node --import tsx crash-runner.ts <dir>`.
// Jobs append their name to <dir>/jobs.log when they start; in-process tasks append to <dir>/tasks.log.
// The last stdout line is the run's outcome (names, states, values without native ids) as JSON.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { createLocalExecutor } from '@exaworks/executors-local';
import { Workflow } from '../index.js';

const dir = process.argv[2]!;
const jobsLog = path.join(dir, 'jobs.log');
const tasksLog = path.join(dir, 'tasks.log');
const executor = createLocalExecutor({ workDirectory: path.join(dir, 'work'), pollInterval: 50, killGracePeriod: 200 });
const wf = new Workflow({ executor, journal: path.join(dir, 'wf.jsonl'), concurrency: 3, onFailure: 'continue' });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logTask = (name: string) => appendFileSync(tasksLog, `${name}\n`);
const job = (name: string) => ({
  executable: '/bin/sh',
  arguments: ['-c', 'echo "$NAME" >> "$LOG"; sleep 0.3'],
  environment: { NAME: name, LOG: jobsLog },
});

wf.task('numbers', async () => {
  logTask('numbers');
  await pause(30);
  return [1, 2, 3, 4];
});
wf.job('prepare', job('prepare'));
wf.task(
  'plan',
  (inputs, ctx) => {
    logTask('plan');
    const parts = (inputs.numbers as number[]).map((x) =>
      ctx.task(`square-${x}`, async () => {
        logTask(`square-${x}`);
        await pause(40);
        return x * x;
      }),
    );
    ctx.task('sum', (ins) => Object.values(ins).reduce((a: number, b) => a + (b as number), 0), { after: parts });
    return parts.length;
  },
  { after: ['numbers'] },
);
for (let i = 0; i < 4; i++) wf.job(`sim-${i}`, job(`sim-${i}`), { after: ['prepare'] });
wf.job('collect', job('collect'), { after: ['sim-0', 'sim-1', 'sim-2', 'sim-3'] });
wf.job('fails', { executable: '/bin/sh', arguments: ['-c', 'echo fails >> "$LOG"; exit 4'], environment: { LOG: jobsLog } });
wf.task('never', () => logTask('never'), { after: ['fails'] });
wf.task(
  'report',
  async (inputs) => {
    logTask('report');
    await pause(20);
    return { collected: (inputs.collect as { exitCode: number }).exitCode, planned: inputs.plan };
  },
  { after: ['collect', 'plan'] },
);

const summary = await wf.run();
await executor.close();
const outcome = [...summary.outcomes()].map((o) => ({
  name: o.name,
  state: o.state,
  cause: o.cause,
  value: o.value && typeof o.value === 'object' && 'nativeId' in o.value ? { ...o.value, nativeId: 'x' } : o.value,
}));
console.log(JSON.stringify({ ok: summary.ok, resumed: summary.resumed, outcome }));
