/**
 * Skipping with a reason. A test is skipped only through these (or `context.skip(reason)` inside a test), so
 * every skip carries a note; the skip-reasons reporter prints each with it at the end of `npm test`, and
 * test/support/skip-reasons.test.ts holds the test files to that.
 */
import { describe, it } from 'vitest';

/** `describe(name, body)`, or, when `reason` is not null, the group reduced to one test skipped with that reason (its hooks never run). */
export function describeUnless(reason: string | null, name: string, body: () => void): void {
  if (reason === null) describe(name, body);
  else describe(name, () => it('(every test of this group)', (context) => context.skip(reason)));
}

/** `it(name, fn)`, skipped with `reason` when that is not null. */
export function itUnless(reason: string | null, name: string, fn: () => Promise<void> | void, timeout?: number): void {
  it(
    name,
    async (context) => {
      if (reason !== null) context.skip(reason);
      await fn();
    },
    timeout,
  );
}
