import { describe, expect, it } from 'vitest';
import { buildCharts } from '../../bench/report/charts/index.ts';
import { fileHref, jsonForScript, loadPageAssets, renderHtml, type PageAssets } from '../../bench/report/html.ts';
import { HOSTILE, hostileResults, noCaptureResults, results, sampleResults, scenario } from './fixtures.ts';
import type { Results } from '../../bench/model/index.ts';
import { buildReportModel } from '../../bench/report/model.ts';

const assets: PageAssets = await loadPageAssets();
const where = { resultsDir: '/runs/r1', outDir: '/runs/r1' };

/** The text of every `<script …>` element, with its opening tag. */
function scripts(html: string): { tag: string; body: string }[] {
  return [...html.matchAll(/(<script[^>]*>)([\s\S]*?)<\/script>/g)].map((m) => ({ tag: m[1]!, body: m[2]! }));
}

describe('report.html', () => {
  it('inlines Chart.js and the plugins, and embeds the same chart configurations as JSON', () => {
    const results = sampleResults();
    const charts = buildCharts(buildReportModel(results));
    const html = renderHtml(buildReportModel(results), charts, assets, where);
    const found = scripts(html);
    expect(found.map((s) => s.tag)).toEqual([
      '<script>',
      '<script type="application/json" id="report-charts">',
      '<script type="application/json" id="report-results">',
      '<script type="module">',
    ]);
    expect(found[0]!.body).toBe(assets.chartJs);
    expect(JSON.parse(found[1]!.body)).toEqual(charts.map((c) => ({ name: c.name, config: c.config, units: c.units })));
    expect(JSON.parse(found[2]!.body)).toEqual(results);
    expect(found[3]!.body).toContain(assets.plugins);
    for (const chart of charts) expect(html).toContain(`<canvas id="chart-${chart.name}" width="${chart.width}" height="${chart.height}"`);
    // Nothing is fetched: outside the inlined scripts, no src attribute, stylesheet link or remote URL.
    const markup = html.replace(/(<script[^>]*>)[\s\S]*?<\/script>/g, '$1</script>');
    expect(markup).not.toMatch(/\ssrc=|<link|https?:\/\//);
  });

  it('puts the answer first, one sentence per direction', () => {
    const html = renderHtml(buildReportModel(sampleResults()), buildCharts(buildReportModel(sampleResults())), assets, where);
    const answer = html.indexOf('Reusing connections saved 67% of downstream bytes: 50.7 kB → 16.9 kB per <span class="nowrap">endpoint-minute</span>.');
    expect(answer).toBeGreaterThan(0);
    expect(html.indexOf('Reusing connections saved 45% of upstream bytes')).toBeGreaterThan(answer);
    expect(answer).toBeLessThan(html.indexOf('<canvas'));
  });

  it('has the tables, the scenario matrix, environment, capture health, warnings and file links', () => {
    const html = renderHtml(buildReportModel(sampleResults()), buildCharts(buildReportModel(sampleResults())), assets, where);
    for (const id of ['headline', 'scenarios', 'environment', 'capture', 'warnings', 'files']) expect(html).toContain(`<section id="${id}">`);
    expect(html).toContain('capture with tcpdump --immediate-mode -U -s 0 and check its &#34;dropped by kernel&#34; count');
    expect(html).toContain('failed: the node server exited during the scenario (SIGKILL)');
    expect(html).toContain(
      '<a href="scenarios/persistent_tls1.3_rsa2048_loopback_node/capture.pcap">capture</a> <code>scenarios/persistent_tls1.3_rsa2048_loopback_node/capture.pcap</code>',
    );
    expect(html).toContain('<td class="num">3</td><td>NO</td>');
  });

  it('says when the run had no capture', () => {
    const html = renderHtml(buildReportModel(noCaptureResults()), buildCharts(buildReportModel(noCaptureResults())), assets, where);
    expect(html).toContain('This run had no packet capture');
    expect(html).toContain('of downstream TCP payload bytes');
  });

  it('escapes every string from the results, in markup and in the embedded JSON', () => {
    const results = hostileResults();
    const html = renderHtml(buildReportModel(results), buildCharts(buildReportModel(results)), assets, where);
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    // Escaped, with a break opportunity after the slash (ids are long words): the only markup the page adds.
    expect(html).toContain('<td>fresh&#60;/<wbr>script&#62;&#60;img src=x onerror=&#34;window.__pwned=1&#34;&#62;&#38;&#60;b&#62;</td>');
    // Exactly the page's own four script elements: no id, warning or path closed one and opened another.
    expect(scripts(html)).toHaveLength(4);
    expect(html.match(/<\/script>/g)).toHaveLength(4);
    const data = scripts(html)[2]!.body;
    expect(data).not.toMatch(/[<>&]/);
    expect(JSON.parse(data)).toEqual(results);
    // A pcap "path" with a URL scheme is shown, never linked.
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('<code>javascript:alert(1)</code> <span class="muted">(not a relative path: not linked)</span>');
  });
});

describe('the page on every screen (issue 14)', () => {
  const charts = (r: Results) => buildCharts(buildReportModel(r));
  const page = (r: Results) => renderHtml(buildReportModel(r), charts(r), assets, where);

  it('leads with the comparison across configurations and folds every configuration but the primary one', () => {
    const html = page(sampleResults());
    const across = html.indexOf('<section id="across">');
    const primary = html.indexOf('<section class="group-section" id="group-tls1.3-rsa2048">');
    const folded = html.indexOf('<section class="group-section folded" id="group-tls1.2-ecdsa-p256"><details><summary>');
    expect(across).toBeGreaterThan(0);
    expect(primary).toBeGreaterThan(across);
    expect(folded).toBeGreaterThan(primary);
    // Closed: no open attribute on the folded configuration's details.
    expect(html.slice(folded, folded + 200)).not.toContain('open');
    expect(html.slice(folded, html.indexOf('</section>', folded))).toContain('<canvas id="chart-headline-tls1.2-ecdsa-p256"');
  });

  it("prints a chart's finding and context as text above its canvas, where they wrap", () => {
    const html = page(sampleResults());
    const figure = html.slice(html.indexOf('<figure id="figure-server-cpu">'));
    const finding = figure.match(/<p class="finding">([^<]*)<\/p>/)?.[1];
    expect(finding).toMatch(/^The server spends [\d.]+ ms of CPU per fresh request; persistent/);
    expect(figure.indexOf('class="finding"')).toBeLessThan(figure.indexOf('<canvas'));
  });

  it('has no note column when no scenario has a note, and the note when one does', () => {
    const clean = results([scenario({ mode: 'fresh' }), scenario({ mode: 'persistent' })]);
    const matrix = (html: string) => html.slice(html.indexOf('<section id="scenarios">'), html.indexOf('</section>', html.indexOf('<section id="scenarios">')));
    expect(matrix(page(clean))).not.toContain('<th>note</th>');
    expect(matrix(page(sampleResults()))).toContain('<th>note</th>');
  });

  it('puts socket and capture bytes of a direction in one capture-health column', () => {
    const html = page(sampleResults());
    const capture = html.slice(html.indexOf('<section id="capture">'));
    const header = capture.slice(0, capture.indexOf('</tr>'));
    expect([...header.matchAll(/<th[ >]/g)]).toHaveLength(8);
    expect(capture).toContain('<td class="num">68,663 /<wbr> 69,180</td>');
  });

  it('groups a warning repeated across scenarios into one row with where and how often', () => {
    const gap = { kind: 'capture-gap' as const, message: 'the capture missed part of a TCP stream', fix: 'capture with --immediate-mode', count: 2 };
    const r = results([scenario({ mode: 'fresh', warnings: [gap] }), scenario({ mode: 'persistent', warnings: [gap] }), scenario({ mode: 'resumed' })]);
    const html = page(r);
    const table = html.slice(html.indexOf('<table class="warnings">'), html.indexOf('</table>', html.indexOf('<table class="warnings">')));
    expect([...table.matchAll(/<tr>/g)]).toHaveLength(2);
    expect(table).toContain('<details><summary>2 scenarios</summary>');
    expect(table).toContain('<td class="num">4</td>');
  });
});

describe('links and embedding', () => {
  it('links files relative to the page, percent-encoded, and refuses anything but relative paths', () => {
    expect(fileHref('scenarios/a b/capture.pcap', where)).toBe('scenarios/a%20b/capture.pcap');
    expect(fileHref('scenarios/x/keylog.txt', { resultsDir: '/runs/r1', outDir: '/tmp/out' })).toBe('../../runs/r1/scenarios/x/keylog.txt');
    expect(fileHref('x"><script>', where)).toBe('x%22%3E%3Cscript%3E');
    for (const bad of ['javascript:alert(1)', 'JavaScript:x', 'data:text/html,x', '/etc/passwd', '//evil.example/x', 'a\\b']) {
      expect(fileHref(bad, where), bad).toBeNull();
    }
  });

  it('turns <, > and & into \\u escapes inside script-embedded JSON', () => {
    const text = jsonForScript({ s: '</script><!--&\u2028' });
    expect(text).toBe('{"s":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028"}');
    expect(JSON.parse(text)).toEqual({ s: '</script><!--&\u2028' });
  });
});
