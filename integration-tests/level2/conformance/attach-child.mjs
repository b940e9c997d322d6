// Second process for the conformance suite: attaches to a job by native id and reports it.
// argv: executorName configJson nativeId [cancel]
import { Job, getExecutor } from '@exaworks/jpsi-core';

const [name, configJson, nativeId, action] = process.argv.slice(2);
const executor = await getExecutor(name, JSON.parse(configJson));
const job = new Job();
await executor.attach(job, nativeId);
const seenAtAttach = job.status.state;
if (action === 'cancel') await job.cancel();
const status = await job.wait({ timeout: 60_000 });
const listed = (await executor.list()).includes(nativeId);
await executor.close();
const final = status ? { state: status.state, exitCode: status.exitCode ?? null, message: status.message ?? null } : null;
process.stdout.write(`${JSON.stringify({ seenAtAttach, final, listed })}\n`);
