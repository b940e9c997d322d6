/**
 * Staging for the local executor: files copied, linked or moved in before a job runs and out
 * after, and cleanup, all relative to the job's directory.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, realpath, rename, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stagingApplies, type JobSpec, type StagingMode } from '@exaworks/jpsi-core';

/** How a job ended, for the stage-out and cleanup flags. */
export type Outcome = 'success' | 'error' | 'cancel';

/** A bare path or a `file://` URI as a local path. */
function localPath(location: string, base: string): string {
  const p = location.startsWith('file://') ? fileURLToPath(location) : location;
  return path.resolve(base, p);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Links `target` to `source`, replacing a file or symlink there (atomically: a new link renamed
 * over it) but never a directory, which may be the job directory itself or someone's data.
 */
async function link(source: string, target: string): Promise<void> {
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new Error(`the target ${target} is an existing directory; LINK replaces only a file or a symlink`);
  }
  const tmp = `${target}.${randomBytes(6).toString('hex')}.link`;
  await symlink(source, tmp);
  try {
    await rename(tmp, target); // EISDIR if a directory appeared there meanwhile: still never replaced
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function transfer(source: string, target: string, mode: StagingMode): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  if (mode === 'LINK') {
    await link(source, target);
  } else if (mode === 'MOVE') {
    try {
      await rename(source, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      // across file systems: copy, then remove the original
      await cp(source, target, { recursive: true, force: true, errorOnExist: false });
      await rm(source, { recursive: true, force: true });
    }
  } else {
    await cp(source, target, { recursive: true, force: true, errorOnExist: false });
  }
}

/** Error message text of a failed staging step. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Stages in every `spec.stageIn` entry; relative targets are relative to `jobDir`, relative
 * sources to the submitter's directory `cwd`. Throws an Error saying which entry failed.
 */
export async function stageIn(spec: JobSpec, jobDir: string, cwd: string): Promise<void> {
  for (const s of spec.stageIn) {
    const source = localPath(s.source, cwd);
    const target = localPath(s.target, jobDir);
    if (!(await exists(source))) throw new Error(`stage-in source ${source} does not exist`);
    try {
      await transfer(source, target, s.mode);
    } catch (err) {
      throw new Error(`stage-in of ${source} to ${target} (${s.mode}) failed: ${reason(err)}`, { cause: err });
    }
  }
}

/**
 * Stages out the `spec.stageOut` entries whose flags match `outcome`; a missing source is
 * skipped with IF_PRESENT and an error otherwise. Returns the first failure's message, if any
 * (later entries are still attempted, so one missing file does not hold back the others).
 */
export async function stageOut(spec: JobSpec, jobDir: string, cwd: string, outcome: Outcome): Promise<string | undefined> {
  let failure: string | undefined;
  for (const s of spec.stageOut) {
    if (!stagingApplies(s.when, outcome)) continue;
    const source = localPath(s.source, jobDir);
    const target = localPath(s.target, cwd);
    if (!(await exists(source))) {
      if (!s.when.ifPresent) failure ??= `stage-out source ${source} does not exist`;
      continue;
    }
    try {
      await transfer(source, target, s.mode);
    } catch (err) {
      failure ??= `stage-out of ${source} to ${target} (${s.mode}) failed: ${reason(err)}`;
    }
  }
  return failure;
}

/**
 * Removes `spec.cleanup` paths (relative to `jobDir`) if the cleanup flags match `outcome`.
 * Refuses to remove the job directory itself or anything outside it.
 */
export async function cleanup(spec: JobSpec, jobDir: string, outcome: Outcome): Promise<string | undefined> {
  if (spec.cleanup.length === 0 || !stagingApplies(spec.cleanupWhen, outcome)) return undefined;
  let failure: string | undefined;
  const root = path.resolve(jobDir);
  const realRoot = await realpath(root).catch(() => root);
  for (const entry of spec.cleanup) {
    const target = localPath(entry, root);
    // rm does not follow the last component, but a symlinked directory above it would lead outside.
    const parent = await realpath(path.dirname(target)).catch(() => path.dirname(target));
    const real = path.join(parent, path.basename(target));
    if (target === root || !target.startsWith(root + path.sep) || real === realRoot || !real.startsWith(realRoot + path.sep)) {
      failure ??= `cleanup path ${entry} is not inside the job directory ${root}; not removed`;
      continue;
    }
    try {
      await rm(target, { recursive: true, force: true });
    } catch (err) {
      failure ??= `cleanup of ${target} failed: ${reason(err)}`;
    }
  }
  return failure;
}
