/**
 * A vitest reporter that ends the run with every skipped test and why (its note), for any other reporter:
 * the default one lists no skipped test at all, and the verbose one (CI) shows notes only beside each test.
 */
import type { Reporter, TestModule } from 'vitest/node';

/** The lines of the summary: one per skipped test, `file > group > test: reason`. */
export function skipSummary(modules: ReadonlyArray<TestModule>): string[] {
  const lines: string[] = [];
  for (const module of modules) {
    for (const test of module.children.allTests('skipped')) {
      const result = test.result();
      const note = (result.state === 'skipped' ? result.note : undefined) ?? 'no reason given';
      lines.push(`  ${module.relativeModuleId} > ${test.fullName}: ${note}`);
    }
  }
  return lines;
}

export default class SkipReasonsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = skipSummary(modules);
    if (lines.length > 0) process.stdout.write(`\n${lines.length} skipped, and why:\n${lines.join('\n')}\n`);
  }
}
