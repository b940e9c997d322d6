// A submitting process for the crash tests: creates an executor and submits one job (spec in
// EXA_CHILD_SPEC), then prints its native id. The tests kill it before the submit returns.
// argv: executorName configJson
import { getExecutor } from '@exaworks/jpsi-core';

const [name, configJson] = process.argv.slice(2);
const executor = await getExecutor(name, JSON.parse(configJson));
const job = await executor.submit(JSON.parse(process.env.EXA_CHILD_SPEC ?? '{}'));
process.stdout.write(`${job.nativeId}\n`);
await executor.close();
