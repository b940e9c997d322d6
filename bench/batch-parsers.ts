// Benchmark of the batch schedulers' query parsers: `npm run bench -- batch-parsers`.
// One poll reads the queue answer for every active job; this times parsePbsQuery, parseLsfQuery,
// parseCobaltQuery and parseFluxQuery on an answer for BENCH_JOBS jobs (default 1000), against a
// bare JSON.parse of the PBS answer measured in the same run (the floor of any parser). Last line: one JSON object.
import { parseCobaltQuery } from '@exaworks/executors-cobalt';
import { parseFluxQuery } from '@exaworks/executors-flux';
import { parseLsfQuery } from '@exaworks/executors-lsf';
import { parsePbsQuery } from '@exaworks/executors-pbs';

const N = Number(process.env.BENCH_JOBS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const states = ['Q', 'R', 'F'];

const pbsIds = Array.from({ length: N }, (_, i) => `${i + 1}.pbs01.cluster.example.org`);
const pbs = JSON.stringify(
  {
    timestamp: 1,
    pbs_version: '20.0.1',
    pbs_server: 'pbs01',
    Jobs: Object.fromEntries(
      pbsIds.map((id, i) => [
        id,
        {
          Job_Name: `job${i}`,
          Job_Owner: 'u@login1',
          job_state: states[i % 3],
          substate: 42,
          Exit_status: i % 3 === 2 ? 0 : undefined,
          comment: 'Job run at Tue Dec  1 20:00:00 2026 on (n1:ncpus=1)',
          Resource_List: { ncpus: 1, nodect: 1, walltime: '00:10:00' },
        },
      ]),
    ),
  },
  null,
  4,
);
const lsfIds = pbsIds.map((_, i) => String(i + 1));
const lsf = JSON.stringify({
  COMMAND: 'bjobs',
  JOBS: N,
  RECORDS: lsfIds.map((id, i) => ({ JOBID: id, STAT: ['PEND', 'RUN', 'DONE'][i % 3], EXIT_CODE: '', EXIT_REASON: '' })),
});
const cobaltIds = lsfIds.map((id) => String(100000 + Number(id)));
const cobalt = cobaltIds.map((id, i) => `JobID: ${id}\n    State    : ${['queued', 'running', 'exiting'][i % 3]}\n`).join('\n');
const fluxIds = lsfIds.map((id) => `fA${id.replace(/0/g, 'z')}`);
const flux = fluxIds
  .map((id, i) => `${id}|${['SCHED', 'RUN', 'INACTIVE'][i % 3]}|${i % 3 === 2 ? 'COMPLETED' : ''}|${i % 3 === 2 ? '0' : ''}||`)
  .join('\n');
const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });

function msPer(fn: () => unknown): number {
  for (let i = 0; i < 20; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) fn();
  return (performance.now() - t0) / ROUNDS;
}

const check = (size: number, name: string) => {
  if (size !== N) throw new Error(`${name} parsed ${size} of ${N} jobs`);
};
check(parsePbsQuery(ok(pbs), pbsIds).size, 'pbs');
check(parseLsfQuery(ok(lsf), lsfIds).size, 'lsf');
check(parseCobaltQuery(ok(cobalt), cobaltIds).size, 'cobalt');
check(parseFluxQuery(ok(flux), fluxIds).size, 'flux');

const floor = msPer(() => JSON.parse(pbs));
const results = {
  pbs: msPer(() => parsePbsQuery(ok(pbs), pbsIds)),
  lsf: msPer(() => parseLsfQuery(ok(lsf), lsfIds)),
  cobalt: msPer(() => parseCobaltQuery(ok(cobalt), cobaltIds)),
  flux: msPer(() => parseFluxQuery(ok(flux), fluxIds)),
};
const round = (x: number) => Math.round(x * 1000) / 1000;
for (const [name, ms] of Object.entries(results)) {
  console.log(
    `${name.padEnd(7)} ${round(ms)} ms per ${N}-job answer (${round(ms / floor)}× a bare JSON.parse of the PBS answer)`,
  );
}
console.log(
  JSON.stringify({
    bench: 'batch-parsers',
    jobs: N,
    jsonParseFloorMs: round(floor),
    ...Object.fromEntries(
      Object.entries(results).flatMap(([k, v]) => [
        [`${k}Ms`, round(v)],
        [`${k}RatioToJsonParse`, round(v / floor)],
      ]),
    ),
  }),
);
