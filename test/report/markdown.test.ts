import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../bench/report/markdown.ts';
import { appendStepSummary } from '../../bench/cli/step-summary.ts';
import { checkSummary, HOSTILE, hostileResults, noCaptureResults, sampleResults } from './fixtures.ts';
import { tempDir } from './helpers.ts';
import { buildReportModel } from '../../bench/report/model.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('summary.md', () => {
  it('has the answer, the headline table and the invalid and failed scenarios', () => {
    const md = renderMarkdown(buildReportModel(sampleResults()));
    const lines = md.split('\n');
    expect(lines[2]).toBe('**Reusing connections saved 67% of downstream bytes: 50.7 kB → 16.9 kB per endpoint-minute.**');
    expect(lines[4]).toBe('**Reusing connections saved 45% of upstream bytes: 34.8 kB → 19.2 kB per endpoint-minute.**');
    expect(md).toContain('| persistent/tls1.3/rsa2048/loopback/node | 19.2 kB | 16.9 kB | 44.8% | 66.6% |');
    expect(md).toContain('- resumed/tls1.2/ecdsa-p256/loopback/node: **failed**: the node server exited during the scenario (SIGKILL)');
    expect(md).toContain('- persistent/tls1.2/ecdsa-p256/loopback/node: **invalid**: tcpdump reported 3 packets dropped by the kernel;');
    expect(md).not.toContain('### Check');
    // Short enough for a PR comment.
    expect(lines.length).toBeLessThan(40);
  });

  it('adds the check verdict and table when given one', () => {
    const md = renderMarkdown(buildReportModel(noCaptureResults(), checkSummary('regression', '| metric | limit |\n| --- | --- |\n| down saved | 1% |\n')));
    expect(md).toContain('### Check: REGRESSION\n\n| metric | limit |\n| --- | --- |\n| down saved | 1% |\n');
    expect(md).toContain('of downstream TCP payload bytes');
    expect(renderMarkdown(buildReportModel(noCaptureResults(), checkSummary('pass', 'all within limits')))).toContain('### Check: PASS\n\nall within limits');
  });

  it('makes text from the results inert', () => {
    const md = renderMarkdown(buildReportModel(hostileResults()));
    expect(md).not.toContain(HOSTILE);
    expect(md).not.toMatch(/[^\\]</);
    expect(md).toContain('fresh\\</script\\>\\<img src=x onerror="window.\\_\\_pwned=1"\\>&\\<b\\>');
  });
});

describe('appendStepSummary', () => {
  it('appends to $GITHUB_STEP_SUMMARY when set, and does nothing otherwise', async () => {
    const file = path.join(tmp.dir, 'step-summary.md');
    writeFileSync(file, '# earlier step\n');
    expect(await appendStepSummary('## ours', { GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(await appendStepSummary('## again\n', { GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('# earlier step\n## ours\n## again\n');
    expect(await appendStepSummary('## nowhere', {})).toBe(false);
    expect(await appendStepSummary('## nowhere', { GITHUB_STEP_SUMMARY: '' })).toBe(false);
  });
});
