/**
 * Type-level checks shared by the packages that pair a hand-written documented type with its zod schema.
 * @module
 */

/**
 * `true` when `A` and `B` are the same type (not merely assignable either way), else `false`.
 * Used as `const check: Same<z.input<typeof schema>, DocumentedType> = true` so drift fails `tsc`.
 */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
