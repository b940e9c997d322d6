// A separate process for the ported user-guide attach example (psij-python's submit.py / attach.py).
// argv: submit <executor> <configJson> <specJson>  -> prints the native id, then exits
//       attach <executor> <configJson> <nativeId>  -> waits for QUEUED, ACTIVE or COMPLETED, prints the status
import { Job, getExecutor, registerLauncher } from '@exaworks/jpsi-core';
import { MpirunLauncher } from '@exaworks/launcher';

// The MPICH variant of local-target.ts's launchers, which this process must know too.
registerLauncher({ name: 'mpirun-mpich', create: () => new MpirunLauncher({ program: 'mpirun.mpich' }) });

const [mode, name, configJson, arg] = process.argv.slice(2);
const executor = await getExecutor(name, JSON.parse(configJson));
if (mode === 'submit') {
  const job = await executor.submit(new Job(JSON.parse(arg)));
  process.stdout.write(`${job.nativeId}\n`);
} else {
  const job = new Job();
  await executor.attach(job, arg.trim());
  const status = await job.wait({ targetStates: ['QUEUED', 'ACTIVE', 'COMPLETED'], timeout: 60_000 });
  process.stdout.write(`${JSON.stringify(status ? { state: status.state, exitCode: status.exitCode ?? null } : null)}\n`);
}
await executor.close();
