// A second real user for the shared-directory tests: created by the test if missing (root is the
// user here and in CI), and commands run as it through runuser.
import { execFileSync } from 'node:child_process';

/** The test's second user. */
export const OTHER_USER = 'xw-intruder';

/** Why the tests with a second user cannot run here, or undefined when they can. */
export function otherUserUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'creating a second user needs root';
  try {
    execFileSync('which', ['useradd', 'runuser'], { stdio: 'ignore' });
  } catch {
    return 'useradd or runuser is missing';
  }
  return undefined;
}

function lookup(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', OTHER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const gid = Number(execFileSync('id', ['-g', OTHER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** The second user's uid and gid, creating it (a system user with no home) if it does not exist. */
export function ensureOtherUser(): { uid: number; gid: number } {
  const found = lookup();
  if (found) return found;
  try {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER], { stdio: 'ignore' });
  } catch {
    // created by a test file running in parallel: looked up again below
  }
  const made = lookup();
  if (!made) throw new Error(`could not create the test user ${OTHER_USER}`);
  return made;
}

/** Runs `sh -c script` as the second user; returns its stdout. */
export function asOtherUser(script: string): string {
  return execFileSync('runuser', ['-u', OTHER_USER, '--', '/bin/sh', '-c', script], { encoding: 'utf8' });
}
