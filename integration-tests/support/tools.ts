import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** True if `command` is an executable on PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Whether a suite that needs a real tool should run. In CI a missing tool is an error, never a
 * silent skip; on a developer machine the suite is skipped with the reason printed.
 */
export function requireTool(command: string, installHint: string): boolean {
  if (onPath(command)) return true;
  if (process.env.CI) throw new Error(`${command} is required in CI but is not on PATH (${installHint})`);
  console.warn(`[skipped] ${command} not on PATH; ${installHint}`);
  return false;
}
