/** `exaworks spec check|convert|schema`: spec files. @module */
import { Option, type Command } from 'commander';
import { lazyAction } from '../action.js';
import { addOutputOptions } from '../flags.js';
import type { CliIO } from '../io.js';

/** Registers `spec` and its subcommands on `program`. */
export function register(program: Command, io: CliIO): void {
  const spec = program
    .command('spec')
    .summary('check and convert job spec files')
    .description('Check and convert job spec files (JSON or YAML; camelCase or psij-python form).');
  const check = spec
    .command('check')
    .description('Validate a spec file; print OK and the derived resources, or every error with its field path (exit 2).')
    .argument('<file>', 'spec file');
  addOutputOptions(check);
  check.addHelpText(
    'after',
    `
Examples:
  $ exaworks spec check job.yaml
  $ exaworks spec check --json psij-job.json`,
  );
  check.action(lazyAction(io, async () => (await import('../actions/spec.js')).check));
  const convert = spec
    .command('convert')
    .description(
      "Print a spec file as psij-python-compatible JSON (what psij-python's JSONSerializer reads and writes), or as YAML of the same document.",
    )
    .argument('<file>', 'spec file')
    .addOption(new Option('--to <format>', 'output format').choices(['json', 'yaml']).default('json'));
  addOutputOptions(convert);
  convert.addHelpText(
    'after',
    `
Examples:
  $ exaworks spec convert job.yaml --to json > job.json
  $ exaworks spec convert psij-job.json --to yaml`,
  );
  convert.action(lazyAction(io, async () => (await import('../actions/spec.js')).convert));
  const schema = spec
    .command('schema')
    .description(
      'Print the JSON Schema of spec files (camelCase and psij-python forms), for editors that validate YAML/JSON as you type.',
    );
  schema.addHelpText(
    'after',
    `
Examples:
  $ exaworks spec schema > jobspec.schema.json
  # then, at the top of job.yaml (yaml-language-server):
  # yaml-language-server: $schema=./jobspec.schema.json`,
  );
  schema.action(lazyAction(io, async () => (await import('../actions/spec-schema.js')).schema));
}
