/** Collects warnings as data, one entry per kind with a count, in order of first occurrence. */
import type { Warning } from '../model.ts';

export class WarningSet {
  private readonly byKind = new Map<string, Warning>();

  /** Adds a warning; a kind seen before only increases that entry's count (its first message is kept). */
  add(warning: Warning): void {
    const seen = this.byKind.get(warning.kind);
    const count = warning.count ?? 1;
    if (seen === undefined) {
      this.byKind.set(warning.kind, { ...warning, count });
    } else {
      seen.count = (seen.count ?? 1) + count;
    }
  }

  addAll(warnings: Iterable<Warning>): void {
    for (const w of warnings) this.add(w);
  }

  toArray(): Warning[] {
    return [...this.byKind.values()];
  }
}
