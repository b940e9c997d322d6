/** The implementation of `exaworks spec check|convert`. @module */
import path from 'node:path';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { jobSpecToPsijJson, psijDerivedResources, type JobSpec } from '@exaworks/jpsi-core';
import { formatClockDuration } from '@exaworks/jpsi-core/internal';
import type { Context } from '../context.js';
import { formatBytes, toJsonText } from '../format.js';
import { readSpecFile } from '../options.js';

function describeSpec(spec: JobSpec): string {
  const r = spec.resources;
  const a = spec.attributes;
  const lines: [string, string][] = [
    ['executable', spec.executable],
    ['arguments', spec.arguments.length ? JSON.stringify(spec.arguments) : '-'],
    ['name', spec.name],
    ['directory', spec.directory ?? '-'],
    ['nodes', String(r.computedNodeCount)],
    ['processes', String(r.computedProcessCount)],
    ['processes/node', String(r.computedProcessesPerNode)],
    ['cores/process', r.cpuCoresPerProcess === undefined ? '-' : String(r.cpuCoresPerProcess)],
    ['gpus/process', r.gpuCoresPerProcess === undefined ? '-' : String(r.gpuCoresPerProcess)],
    ['exclusive', r.exclusiveNodeUse ? 'yes' : 'no'],
    ['memory', r.memory === undefined ? '-' : `${r.memory} bytes (${formatBytes(r.memory)})`],
    ['duration', `${a.duration} s (${formatClockDuration(a.duration)})`],
    ['queue', a.queueName ?? '-'],
    ['account', a.account ?? '-'],
    ['reservation', a.reservationId ?? '-'],
    ['launcher', spec.launcher ?? '(executor default)'],
  ];
  for (const [k, v] of Object.entries(a.customAttributes)) lines.push([`attr ${k}`, String(v)]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}\n`).join('');
}

/** `exaworks spec check <file>`. */
export async function check(ctx: Context, _cmd: Command, file: string): Promise<void> {
  const parsed = await readSpecFile(path.resolve(ctx.io.cwd, file));
  if (ctx.json) ctx.out(toJsonText({ ok: true, file, spec: jobSpecToPsijJson(parsed), derived: psijDerivedResources(parsed) }));
  else ctx.out(`OK ${file}\n${describeSpec(parsed)}`);
}

/** `exaworks spec convert <file> [--to json|yaml]`. */
export async function convert(ctx: Context, cmd: Command, file: string): Promise<void> {
  const o = cmd.opts<{ to: 'json' | 'yaml' }>();
  const doc = jobSpecToPsijJson(await readSpecFile(path.resolve(ctx.io.cwd, file)));
  ctx.out(o.to === 'yaml' ? toYaml(doc) : toJsonText(doc));
}
