import { describe, expect, it } from 'vitest';
import { buildCharts } from '../../bench/report/charts/index.ts';
import { fileHref, jsonForScript, loadPageAssets, renderHtml, type PageAssets } from '../../bench/report/html.ts';
import { HOSTILE, hostileResults, noCaptureResults, sampleResults } from './fixtures.ts';
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
    expect(JSON.parse(found[1]!.body)).toEqual(charts.map((c) => ({ name: c.name, config: c.config })));
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
    expect(html).toContain('<td>fresh&#60;/script&#62;&#60;img src=x onerror=&#34;window.__pwned=1&#34;&#62;&#38;&#60;b&#62;</td>');
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
