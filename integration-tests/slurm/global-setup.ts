/**
 * Brings up a private one-node Slurm (scripts/slurm-private.sh: its own SLURM_CONF, munge socket,
 * ports, state and pid files in a temp directory) for the real-Slurm suite, and tears it down
 * after. In CI a Slurm that cannot start fails the run; elsewhere the suite is skipped with the reason.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { onPath } from '../support/tools.js';
import { freePort } from '../support/net.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../scripts/slurm-private.sh', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** SLURM_CONF of the private instance, or '' when it could not start. */
    slurmConf: string;
    /** Why Slurm is unavailable ('' when it runs). */
    slurmUnavailable: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The daemons live in /usr/sbin, which is not on every PATH.
  const installed = (t: string) => onPath(t) || existsSync(path.join('/usr/sbin', t));
  const missing = ['sbatch', 'squeue', 'scancel', 'slurmctld', 'slurmd', 'munged'].filter((t) => !installed(t));
  let reason = '';
  if (missing.length > 0) reason = `${missing.join(', ')} not installed (run: sudo bash scripts/install-slurm.sh)`;
  else if (process.getuid?.() !== 0) reason = 'the private Slurm needs root (slurmd starts jobs as their users)';
  // Not under the run's TMPDIR (mode 0700): the munge user must be able to reach its socket directory.
  const dir = mkdtempSync('/tmp/exa-slurm-');
  let started = false;
  if (reason === '') {
    try {
      const [ctld, slurmd] = [await freePort(), await freePort()];
      const { stdout } = await run('bash', [SCRIPT, 'start', dir, String(ctld), String(slurmd)], { timeout: 60_000 });
      const conf = /SLURM_CONF=(.*)/.exec(stdout)?.[1];
      if (!conf) throw new Error(`slurm-private.sh printed no SLURM_CONF: ${stdout}`);
      process.env.SLURM_CONF = conf;
      project.provide('slurmConf', conf);
      started = true;
    } catch (err) {
      reason = `the private Slurm did not start: ${(err as Error).message}`;
    }
  }
  if (!started) {
    if (process.env.CI) throw new Error(`Slurm is required in CI: ${reason}`);
    console.warn(`[skipped] real-Slurm suite: ${reason}`);
    project.provide('slurmConf', '');
  }
  project.provide('slurmUnavailable', reason);
  return async () => {
    if (started) await run('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
}
