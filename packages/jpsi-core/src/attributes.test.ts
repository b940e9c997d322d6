import { describe, expect, it } from 'vitest';
import { createJobSpec, ignoredAttributes, ignoredAttributesWarning, type HonouredAttributes } from './spec.js';

const attrs = (attributes: Parameters<typeof createJobSpec>[0]['attributes']) =>
  createJobSpec({ executable: 'x', attributes }).attributes;

describe('ignoredAttributes: the one rule for "attributes I honour"', () => {
  const local: HonouredAttributes = { executor: 'local', standard: ['duration'] };
  const slurm: HonouredAttributes = { executor: 'slurm', standard: ['duration', 'queueName', 'account', 'reservationId'] };
  const given = attrs({
    duration: 60,
    queueName: 'debug',
    projectName: 'p1',
    reservationId: 'r',
    customAttributes: { 'slurm.constraint': 'haswell', 'local.x': 1, 'pbs.c': 'n' },
  });

  it('local ignores queue, account (given as projectName), reservation and custom attributes of other executors', () => {
    expect(ignoredAttributes(given, local)).toEqual([
      'queueName',
      'account',
      'reservationId',
      'customAttributes["pbs.c"]',
      'customAttributes["slurm.constraint"]',
    ]);
  });

  it('a batch executor honouring all standard attributes ignores only other prefixes, or own names it does not know', () => {
    expect(ignoredAttributes(given, slurm)).toEqual(['customAttributes["local.x"]', 'customAttributes["pbs.c"]']);
    expect(ignoredAttributes(given, { ...slurm, custom: ['qos'] })).toEqual([
      'customAttributes["local.x"]',
      'customAttributes["pbs.c"]',
      'customAttributes["slurm.constraint"]',
    ]);
  });

  it('the default walltime is never "ignored"; a set one is, by an executor without walltimes', () => {
    expect(ignoredAttributes(attrs({}), { executor: 'pilot', standard: [] })).toEqual([]);
    expect(ignoredAttributes(attrs({ duration: '1 h' }), { executor: 'pilot', standard: [] })).toEqual(['duration']);
  });

  it('words one sentence, or nothing', () => {
    expect(ignoredAttributesWarning(attrs({ queueName: 'q' }), local)).toBe('the local executor ignores attribute queueName');
    expect(ignoredAttributesWarning(attrs({ duration: 5 }), local)).toBeUndefined();
  });
});
