/**
 * Ported tests that fail on today's code because of a defect in it (not in the test). Each is
 * registered as `it.todo` naming the defect, so the green suite holds only real passes; run
 * them for real with `EXA_PSIJ_PORTS_DEFECTS=run` (e.g. on a branch that fixes one), and delete
 * the entry once it passes.
 */
export interface KnownDefect {
  /** The test's psij-python name (the part of the test title before the colon). */
  readonly test: string;
  /** Target names it fails on. */
  readonly targets: readonly string[];
  /** Launchers it fails with. */
  readonly launchers: readonly string[];
  /** What happens instead of what should, in one line. */
  readonly defect: string;
}

/** The known defects, by test. */
export const KNOWN_DEFECTS: readonly KnownDefect[] = [];

/** The defect that keeps `test` on `target`/`launcher` out of the green suite, if any. */
export function knownDefect(target: string, launcher: string, test: string): KnownDefect | undefined {
  if (process.env.EXA_PSIJ_PORTS_DEFECTS === 'run') return undefined;
  return KNOWN_DEFECTS.find((d) => d.test === test && d.targets.includes(target) && d.launchers.includes(launcher));
}
