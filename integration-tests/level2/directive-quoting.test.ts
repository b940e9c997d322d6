// Property test: a value given to the pbs, lsf, cobalt or flux executor (queue, account, custom
// attribute) comes back unchanged when its directive line is split into words by bash, so no value
// can break out of its directive.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJobSpec } from '@exaworks/jpsi-core';
import type { SchedulerAdapter } from '@exaworks/executors-batch';
import { cobaltScheduler } from '@exaworks/executors-cobalt';
import { fluxScheduler } from '@exaworks/executors-flux';
import { lsfScheduler } from '@exaworks/executors-lsf';
import { pbsScheduler } from '@exaworks/executors-pbs';

const value = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 24 })
  .filter((s) => Buffer.from(s, 'utf8').toString('utf8') === s && !/[\0\r\n]/.test(s));

/** Splits each directive body with bash and returns the words of each (NUL-separated, each body led by its word count). */
function bashWords(bodies: readonly string[]): string[][] {
  const script = bodies.map((b) => `set -- ${b}; printf '%s\\0' "$#" "$@"`).join('\n');
  const fields = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\0');
  const out: string[][] = [];
  for (let i = 0; i < fields.length - 1; ) {
    const n = Number(fields[i]);
    out.push(fields.slice(i + 1, i + 1 + n));
    i += n + 1;
  }
  return out;
}

/** The option's value from the words of one body: `-q v` → v, `--queue=v` → v. */
function optionValue(words: string[]): string | undefined {
  if (words.length === 2) return words[1];
  if (words.length === 1 && words[0]!.includes('=')) return words[0]!.slice(words[0]!.indexOf('=') + 1);
  return undefined;
}

const ADAPTERS: Record<string, SchedulerAdapter> = {
  pbs: pbsScheduler,
  lsf: lsfScheduler,
  cobalt: cobaltScheduler,
  flux: fluxScheduler,
};

describe.each(Object.keys(ADAPTERS))('%s directives quote every value', (name) => {
  const adapter = ADAPTERS[name]!;
  it('keeps queue, account and custom attribute values whole and unchanged', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 10 }), (values) => {
        const bodies: string[] = [];
        const expected: string[] = [];
        for (const v of values) {
          const spec = createJobSpec({ executable: '/bin/true', attributes: { queueName: v, account: v } });
          const dirs = adapter.directives({
            spec,
            jobName: 'j',
            walltimeSeconds: 60,
            schedulerOutput: '/w/k.sched',
            workDirectory: '/w',
          });
          const queue = dirs.find((d) => /^(-q |--queue=)/.test(d))!;
          const account = dirs.find((d) => /^(-A |-P |--bank=)/.test(d))!;
          bodies.push(queue, account, adapter.customDirective('x', v));
          expected.push(v, v, v);
        }
        const words = bashWords(bodies);
        expect(words.map(optionValue)).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });
});
