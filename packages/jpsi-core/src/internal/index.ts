/**
 * `@exaworks/jpsi-core/internal`: the executor core and plumbing that SDK packages share and users
 * should not call (durable writes, the on-disk layout helper). Not covered by semver: it changes
 * with the packages that use it.
 *
 * @internal
 * @module
 */
export {
  ensureDirectory,
  jobPaths,
  readJsonLines,
  writeFileAtomic,
  writeFileExclusiveSync,
  type JobPaths,
} from '../workdir.js';
export { generateJobSpecJsonSchema, type FieldDescriber } from '../json-schema.js';
