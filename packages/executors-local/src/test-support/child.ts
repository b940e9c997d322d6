// A second process for tests: `node --import tsx child.ts '<json command>'`.
// Commands: submit (submit jobs, print their ids, optionally wait ACTIVE, close, exit),
// submit-and-hang (submit, print ids, then wait to be SIGKILLed), attach-wait, cancel.
// `ledgerJobs` generates many small jobs that append their names to a ledger file.
import { Job, JobState } from '@exaworks/jpsi-core';
import { createLocalExecutor } from '../index.js';

interface Command {
  op: 'submit' | 'submit-and-hang' | 'attach-wait' | 'cancel';
  workDirectory: string;
  maxCores?: number;
  specs?: Record<string, unknown>[];
  waitActive?: boolean;
  nativeId?: string;
  /** Generated jobs (argv cannot carry a big burst): each appends `<prefix><i>` to `ledger`. */
  ledgerJobs?: { ledger: string; prefix: string; count: number; pad: number };
  /** Print `{"open":true}` once the executor exists (its recovery of orphans has begun). */
  announce?: boolean;
}

const cmd = JSON.parse(process.argv[2]!) as Command;
const executor = createLocalExecutor({
  workDirectory: cmd.workDirectory,
  maxCores: cmd.maxCores ?? 2,
  pollInterval: 50,
  killGracePeriod: 500,
});

if (cmd.announce) console.log(JSON.stringify({ open: true }));

if (cmd.op === 'submit' || cmd.op === 'submit-and-hang') {
  const jobs: Job[] = [];
  const specs = cmd.specs ?? [];
  const l = cmd.ledgerJobs;
  if (l) {
    for (let i = 0; i < l.count; i++) {
      const name = `${l.prefix}${i}`;
      specs.push({ executable: '/bin/sh', arguments: ['-c', `echo ${name} >> ${l.ledger}`, 'p'.repeat(l.pad)], name });
    }
  }
  for (const spec of specs) jobs.push(await executor.submit(spec as never));
  if (cmd.waitActive) await jobs[0]!.wait({ targetStates: [JobState.ACTIVE] });
  console.log(JSON.stringify({ ids: jobs.map((j) => j.nativeId), states: jobs.map((j) => j.status.state) }));
  if (cmd.op === 'submit') await executor.close();
  else setInterval(() => undefined, 1000); // stay alive until killed
} else if (cmd.op === 'attach-wait') {
  const job = new Job();
  await executor.attach(job, cmd.nativeId!);
  const status = await job.wait({ timeout: 40_000 });
  console.log(
    JSON.stringify({
      state: status?.state,
      exitCode: status?.exitCode,
      message: status?.message,
      history: job.history.map((s) => s.state),
    }),
  );
  await executor.close();
} else if (cmd.op === 'cancel') {
  const job = new Job();
  await executor.attach(job, cmd.nativeId!);
  await job.cancel();
  console.log(JSON.stringify({ state: job.status.state }));
  await executor.close();
}
