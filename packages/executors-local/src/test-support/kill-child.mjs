// The process the kill test SIGKILLs: the built executor (dist/, no TypeScript loader, so that
// hundreds of them start quickly). It says `open` once the executor exists (its recovery of
// orphans has begun) and `first` once its first submit resolved, submits `count` jobs that append their names to a ledger, and waits.
// argv[2]: JSON { workDirectory, maxCores, ledger, prefix, count, pad }.
import { createLocalExecutor } from '../../dist/index.js';

const cmd = JSON.parse(process.argv[2]);
const executor = createLocalExecutor({
  workDirectory: cmd.workDirectory,
  maxCores: cmd.maxCores,
  pollInterval: 50,
  killGracePeriod: 500,
});
console.log('open');
for (let i = 0; i < cmd.count; i++) {
  const name = `${cmd.prefix}${i}`;
  await executor.submit({ executable: '/bin/sh', arguments: ['-c', `echo ${name} >> ${cmd.ledger}`, 'p'.repeat(cmd.pad)], name });
  if (i === 0) console.log('first');
}
console.log('submitted');
setInterval(() => undefined, 1000); // stay alive until killed
