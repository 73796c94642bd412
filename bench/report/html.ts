/**
 * `report.html`: one self-contained page that works offline and from file:// — Chart.js inlined, the chart
 * configurations embedded as JSON and drawn by the same plugins as the PNGs, every number also in a table.
 * Every string that comes from the results is escaped; links are only made of relative paths.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MODE_DESCRIPTIONS, MODES, type CheckSummary, type Results, type ScenarioResult, type Warning } from '../model/index.ts';
import { repoPath } from '../paths.ts';
import type { HeadlineAnswer } from './answer.ts';
import type { ChartSpec, ChartTable } from './charts/index.ts';
import { escapeHtml, formatCount, formatNumber } from './format.ts';
import { FIELD_REPORT, HEADLINE_ALIGN, HEADLINE_HEADER, headlineCells, resumedUpstreamLines, wholeRunLines } from './headline.ts';
import type { ReportModel } from './model.ts';
import { MODE_COLOURS } from './palette.ts';
import { FLEET_ALIGN, FLEET_HEADER, fleetScaleCells, fleetScaleNote, SERVER_ALIGN, SERVER_HEADER, serverCostCells } from './server.ts';
import { suiteLabel } from './labels.ts';

/** The scripts the page inlines. */
export interface PageAssets {
  /** Chart.js's UMD build (defines `window.Chart`). */
  chartJs: string;
  /** bench/report/chart-plugins.js: the plugins and the page's entry point. */
  plugins: string;
}

/** Where links point from: the results' folder (files are relative to it) and the page's folder. */
export interface HtmlOptions {
  resultsDir: string;
  outDir: string;
}

/** Reads the scripts the page inlines: Chart.js from node_modules, the plugins from this folder. */
export async function loadPageAssets(): Promise<PageAssets> {
  const require = createRequire(repoPath('package.json'));
  const chartJsFile = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js');
  const [chartJs, plugins] = await Promise.all([
    readFile(chartJsFile, 'utf8'),
    readFile(repoPath('bench/report/chart-plugins.js'), 'utf8'),
  ]);
  return { chartJs, plugins };
}

/**
 * JSON that is safe inside a script element: `<`, `>` and `&` become \u escapes (still the same JSON), so
 * no string in the data can close the element or open a comment.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Our own script text, checked: it is inlined verbatim, so it must not end the script element early. */
function inlineScript(source: string, name: string): string {
  if (/<\/script/i.test(source) || source.includes('<!--')) {
    throw new Error(`${name} contains "</script" or "<!--" and cannot be inlined into report.html`);
  }
  return source;
}

/**
 * A link target for a file named in the results (relative to the results' folder), relative to the page.
 * Null for anything but a relative path (a URL scheme such as `javascript:`, or an absolute path): such a
 * name is shown as text, never linked.
 */
export function fileHref(file: string, options: Pick<HtmlOptions, 'resultsDir' | 'outDir'>): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(file) || path.isAbsolute(file) || file.includes('\\') || file.startsWith('//')) return null;
  const relative = path.relative(options.outDir, path.resolve(options.resultsDir, file));
  return relative.split(path.sep).map(encodeURIComponent).join('/');
}

const e = escapeHtml;

/** Text escaped for HTML, with a break opportunity after each `/` (scenario ids are long words). */
function breakable(text: string): string {
  return e(text).replace(/\//g, '/<wbr>');
}

function table(t: ChartTable, extraClass = ''): string {
  const numeric = new Set(t.numeric);
  const head = t.header.map((h, i) => `<th${numeric.has(i) ? ' class="num"' : ''}>${e(h)}</th>`).join('');
  const body = t.rows
    .map((row) => `<tr>${row.map((cell, i) => `<td${numeric.has(i) ? ' class="num"' : ''}>${breakable(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="table-wrap"><table class="${extraClass}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** A chart's title or subtitle text as lines. */
function lines(text: unknown): string[] {
  if (text === undefined || text === null) return [];
  return (Array.isArray(text) ? text : [text]).map(String).filter((t) => t !== '');
}

/**
 * A chart's figure. Its finding (the chart's title) and context (its subtitle) are HTML above the canvas, where
 * they wrap on a narrow screen; the page draws the canvas without them (chart-plugins.js pageConfig), the PNG
 * with them.
 */
function figure(chart: ChartSpec): string {
  const plugins = chart.config.options?.plugins;
  const title = lines(plugins?.title?.text).join(' ') || chart.heading;
  const subtitle = lines(plugins?.subtitle?.text);
  return `<figure id="figure-${e(chart.name)}">
<h3>${e(chart.heading)}${chart.group === null ? '' : ` <span class="group">${e(chart.group)}</span>`}</h3>
<p class="finding">${e(title)}</p>
${subtitle.length === 0 ? '' : `<p class="chart-context">${subtitle.map(e).join('<br>')}</p>\n`}<div class="chart" style="max-width:${chart.width}px"><canvas id="chart-${e(chart.name)}" width="${chart.width}" height="${chart.height}" role="img" aria-label="${e(title)}"></canvas></div>
<figcaption>${e(chart.caption)} <a href="charts/${encodeURIComponent(chart.name)}.png">PNG</a></figcaption>
<details><summary>Numbers behind the chart</summary>
${table(chart.table)}
</details>
</figure>`;
}

function answerSection(results: Results, answer: HeadlineAnswer | null): string {
  if (answer === null) {
    const reason = results.scenarios.length === 0 ? 'the run has no scenarios' : 'no scenario could be compared with a fresh one of the same configuration (see the scenario table)';
    return `<section id="answer"><p class="answer">No answer: ${e(reason)}.</p></section>`;
  }
  // Keep the unit together: a line break inside "endpoint-minute" reads as two words.
  const sentence = (text: string) => e(text).replace(/endpoint-minute/g, '<span class="nowrap">endpoint-minute</span>');
  return `<section id="answer">
<p class="answer">${sentence(answer.down)}.</p>
<p class="answer">${sentence(answer.up)}.</p>
<p class="context">${e(answer.context)}. Field report (osquery agents, nginx): reuse saved ${FIELD_REPORT.upSavedPct}% up and ${FIELD_REPORT.downSavedPct}% down.</p>
</section>`;
}

function statusSection(results: Results, check: CheckSummary | null): string {
  const failed = results.scenarios.filter((s) => s.state === 'failed').length;
  const invalid = results.scenarios.filter((s) => s.state === 'invalid').length;
  const notes: string[] = [];
  if (results.interrupted) notes.push('<p class="status bad">The run was interrupted: the report shows the scenarios that finished.</p>');
  if (failed + invalid > 0) {
    notes.push(
      `<p class="status bad">${failed} failed and ${invalid} invalid scenario${failed + invalid === 1 ? '' : 's'}: failed ones are left out of the charts, invalid ones are drawn pale and labelled INVALID. <a href="#scenarios">Scenario table</a>, <a href="#warnings">warnings</a>.</p>`,
    );
  }
  if (check !== null) {
    const pass = check.verdict === 'pass';
    notes.push(`<div class="status ${pass ? 'good' : 'bad'}"><p><strong>Check: ${pass ? 'PASS' : 'REGRESSION'}</strong> against the baseline.</p>
<details${pass ? '' : ' open'}><summary>Compared metrics</summary><pre>${e(check.markdown)}</pre></details></div>`);
  }
  return notes.join('\n');
}

function modesSection(): string {
  const items = MODES.map(
    (m) => `<li><span class="swatch" style="background:${MODE_COLOURS[m]}"></span><strong>${m}</strong>: ${e(MODE_DESCRIPTIONS[m])}</li>`,
  ).join('\n');
  return `<ul class="modes">\n${items}\n</ul>`;
}

/**
 * The charts: the comparison across configurations first, then the configuration the answer comes from, then
 * every other configuration folded (a closed <details>): their charts repeat the first one's with other numbers,
 * and drawn open they made the page 20,000-38,000 px long.
 */
function chartsSections(model: ReportModel, charts: ChartSpec[]): string {
  const results = model.results;
  const groupSections = model.groups.flatMap((g) => {
    const figures = charts.filter((c) => c.group === g.label);
    if (figures.length === 0) return [];
    const body = `<p class="context">${e(g.fullLabel)}.</p>\n${figures.map(figure).join('\n')}`;
    if (g.primary) {
      return [
        `<section class="group-section" id="group-${e(g.slug)}"><h2>${e(g.label)}: the configuration the answer comes from</h2>\n${body}\n</section>`,
      ];
    }
    return [
      `<section class="group-section folded" id="group-${e(g.slug)}"><details><summary><h2>${e(g.label)}</h2> <span class="muted">${figures.length} charts</span></summary>\n${body}\n</details></section>`,
    ];
  });
  const across = charts.filter((c) => c.group === null);
  const acrossSection =
    across.length === 0
      ? []
      : [`<section id="across"><h2>${model.groups.length > 1 ? 'Across configurations' : 'Connections, server CPU and handshakes'}</h2>\n${across.map(figure).join('\n')}\n</section>`];
  const notice = results.options.capture
    ? []
    : [
        '<p class="status">This run had no packet capture (<code>--no-capture</code>): bytes are TCP payload from socket counters, and the charts that need a capture (where the bytes go, traffic over time, handshake bytes) are not drawn.</p>',
      ];
  return [...notice, ...acrossSection, ...groupSections].join('\n');
}

function headlineTable(model: ReportModel): string {
  const numeric = HEADLINE_ALIGN.flatMap((a, i) => (a === 'right' ? [i] : []));
  // What the terminal and summary.md say under the table: the whole run beside the steady state, and why
  // resumption can cost upstream bytes.
  const notes = [...wholeRunLines(model.headline), ...resumedUpstreamLines(model)];
  return `${table({ header: HEADLINE_HEADER, rows: model.headline.map(headlineCells), numeric })}
<p class="context">${e(model.basisNote)}.</p>${notes.length === 0 ? '' : `\n<ul class="context notes">\n${notes.map((n) => `<li>${breakable(n)}</li>`).join('\n')}\n</ul>`}`;
}

/** The server's cost and the fleet-scale line (issue 11); empty for results without them. */
function serverSection(model: ReportModel): string {
  if (model.server.length === 0) return '';
  const numeric = (align: string[]) => align.flatMap((a, i) => (a === 'right' ? [i] : []));
  const pacing = model.results.scenarios.flatMap((s) => (s.state !== 'failed' && s.fleet !== undefined ? [s.fleet] : []))[0];
  const parts = [
    `<section id="server"><h2>Server cost</h2>`,
    table({ header: SERVER_HEADER, rows: model.server.map(serverCostCells), numeric: numeric(SERVER_ALIGN) }),
    `<p class="context">Sampled from /proc (the server's processes: nginx's master and workers; the sockets of its port) every second while the whole fleet ran. TIME_WAIT lasts 60 real seconds whatever the time compression: per endpoint-minute is the count seen over the run divided by agents × virtual minutes. Client CPU is the client process's, every thread, per request.</p>`,
  ];
  if (pacing !== undefined) {
    parts.push(`<p class="context">Fleet: ${e(formatCount(pacing.endpoints))} agents, each from its own loopback address (${e(pacing.agentAddresses.first)} to ${e(pacing.agentAddresses.last)}); ${e(formatCount(pacing.capturedAgents))} captured in full (byte and handshake figures per endpoint-minute come from them); pace ${e(String(pacing.pacing.timeCompression))}x: ${e(pacing.pacing.reason)}.</p>`);
  }
  if (model.fleetScale.length > 0) {
    parts.push(
      `<h3>At fleet scale: derived for ${e(formatCount(model.fleetScale[0]!.agents))} agents</h3>`,
      table({ header: FLEET_HEADER, rows: model.fleetScale.map(fleetScaleCells), numeric: numeric(FLEET_ALIGN) }),
      `<p class="context">${e(fleetScaleNote(model.fleetScale))}.</p>`,
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function stateNote(s: ScenarioResult): string {
  if (s.state === 'failed') return `failed: ${s.error}`;
  if (s.state === 'invalid') return `invalid: ${s.invalidReasons.join('; ')}`;
  return '';
}

function scenarioMatrix(results: Results): string {
  const workload = (s: ScenarioResult) =>
    `${s.spec.workload}: ${s.spec.endpoints} endpoint${s.spec.endpoints === 1 ? '' : 's'} × ${s.spec.virtualMinutes} virtual min at ${formatNumber(s.spec.timeCompression, 0)}×`;
  const settings = (s: ScenarioResult) =>
    `session timeout ${formatCount(s.spec.sessionTimeoutVirtualSeconds)} s, server idle timeout ${formatCount(s.spec.serverIdleTimeoutVirtualSeconds)} s, session tickets ${s.spec.sessionTickets ? 'on' : 'off'}, seed ${s.spec.seed}`;
  // Columns that are the same for every scenario are said once above the table instead.
  const shared = [workload, settings].filter((f) => new Set(results.scenarios.map(f)).size === 1);
  const varying = [
    { header: 'workload', cell: workload },
    { header: 'settings', cell: settings },
  ].filter((c) => !shared.includes(c.cell));
  const noted = results.scenarios.some((s) => stateNote(s) !== '');
  const rows = results.scenarios.map((s) => {
    const measured = s.state === 'failed' ? null : s;
    return [
      s.id,
      s.state,
      `${s.spec.tls}, ${s.spec.cert}, ${s.spec.server}, ${s.spec.network}`,
      ...varying.map((c) => c.cell(s)),
      measured === null ? '-' : `${measured.requests.ok} of ${measured.requests.scheduled}${measured.requests.retried > 0 ? ` (${measured.requests.retried} retried)` : ''}`,
      measured === null ? '-' : formatNumber(measured.server.cpuMsPerRequest, 3),
      measured === null ? '-' : `${formatNumber(measured.realDurationMs / 1000, 1)} s`,
      ...(noted ? [stateNote(s)] : []),
    ];
  });
  const header = [
    'scenario',
    'state',
    'TLS, chain, server, network',
    ...varying.map((c) => c.header),
    'requests ok',
    'server CPU ms / request',
    'real duration',
    // Only when a scenario has one: an always-empty column squeezed the others into 4-line cells.
    ...(noted ? ['note'] : []),
  ];
  const first = results.scenarios[0];
  const common = first === undefined || shared.length === 0 ? '' : `<p>Every scenario: ${e(shared.map((f) => f(first)).join('; '))}.</p>\n`;
  const numericFrom = 3 + varying.length;
  return `${common}${table({ header, rows, numeric: [numericFrom + 1, numericFrom + 2] }, 'matrix')}`;
}

function environmentSection(results: Results): string {
  const env = results.environment;
  const o = results.options;
  const rows: [string, string][] = [
    ['run', results.runId],
    ['started', results.startedAt],
    ['finished', results.finishedAt === '' ? 'not finished' : results.finishedAt],
    ['suite', suiteLabel(o).replace(/^suite /, '')],
    ['tls-reuse-bench', results.tool === undefined ? 'not recorded' : `${results.tool.version}${results.tool.commit === null ? '' : `, git ${results.tool.commit}`}`],
    ['workload file', o.workloadPath],
    ['packet capture', o.capture ? 'yes (tcpdump)' : 'no (socket counters only)'],
    ['invalid scenarios allowed', o.allowInvalid ? 'yes' : 'no'],
    ...Object.entries(o.certs).map(([kind, file]): [string, string] => [`certificate chain ${kind}`, file ?? '']),
    ['Node.js', env.node],
    ['OpenSSL', env.openssl],
    ['kernel', env.kernel],
    ['platform', env.platform],
    ['CPU', `${env.cpu} (${env.cores} cores)`],
    ['tcpdump', env.tcpdump ?? 'not found'],
    ['TCP congestion control', env.tcpCongestionControl ?? 'not recorded'],
    ['nginx', env.nginx ?? 'not used'],
  ];
  return `<table class="kv"><tbody>\n${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('\n')}\n</tbody></table>`;
}

function captureHealth(results: Results): string {
  const bytes = (n: number | null) => (n === null ? '-' : formatCount(n));
  const dropped = (c: Extract<ScenarioResult, { state: 'completed' }>['capture']) =>
    (c.reconciliation.up.discardedAtResetBytes ?? 0) + (c.reconciliation.down.discardedAtResetBytes ?? 0);
  // Socket counter and capture side by side in one cell per direction: ten columns overflowed the page at 1400 px.
  const side = (r: { socketBytes: number; pcapStreamBytes: number | null }) =>
    r.pcapStreamBytes === null ? `${formatCount(r.socketBytes)} / -` : r.pcapStreamBytes === r.socketBytes ? `${formatCount(r.socketBytes)} both` : `${formatCount(r.socketBytes)} / ${bytes(r.pcapStreamBytes)}`;
  const rows = results.scenarios.map((s) => {
    if (s.state === 'failed') return [s.id, 'failed', '-', '-', '-', '-', '-', '-'];
    const c = s.capture;
    const exact = s.traffic === null ? '-' : s.traffic.up.tls.exact && s.traffic.down.tls.exact ? 'yes' : 'no';
    const reconciled = c.reconciled === null ? 'no capture' : c.reconciled ? (dropped(c) > 0 ? `yes (${formatCount(dropped(c))} B dropped by resets)` : 'yes') : 'NO';
    return [s.id, s.state, formatCount(c.packets), formatCount(c.droppedByKernel), reconciled, side(c.reconciliation.up), side(c.reconciliation.down), exact];
  });
  return `${table({
    header: ['scenario', 'state', 'packets', 'kernel drops', 'reconciled', 'up bytes: socket / capture', 'down bytes: socket / capture', 'TLS exact'],
    rows,
    numeric: [2, 3, 5, 6],
  })}
<p class="context">Reconciled: the client's own TCP socket byte counters equal the capture's TCP payload minus retransmissions, per direction and connection, to the byte (bytes a reset dropped unread, such as a server's close_notify arriving as the client closed, are counted apart). A scenario with kernel drops or a mismatch is invalid. TLS exact: every TLS 1.3 record was classified with the key log.</p>`;
}

/**
 * Warnings grouped: one row per distinct warning (kind and message), with the scenarios it occurred in and how
 * often. A run of 12 scenarios listed the same warning 12 times.
 */
function warningsSection(results: Results): string {
  const byWarning = new Map<string, { w: Warning; where: string[]; count: number }>();
  const add = (where: string, w: Warning) => {
    const key = `${w.kind}\0${w.message}`;
    const entry = byWarning.get(key) ?? { w, where: [], count: 0 };
    entry.where.push(where);
    entry.count += w.count ?? 1;
    byWarning.set(key, entry);
  };
  for (const w of results.warnings) add('the run', w);
  for (const s of results.scenarios) for (const w of s.warnings) add(s.id, w);
  if (byWarning.size === 0) return '<p>No warnings.</p>';
  const scenarios = results.scenarios.length;
  const rows = [...byWarning.values()].map(({ w, where, count }) => {
    const place =
      where.length === 1
        ? breakable(where[0]!)
        : `<details><summary>${where.length === scenarios ? `every scenario (${where.length})` : `${where.length} scenarios`}</summary>${where.map(breakable).join('<br>')}</details>`;
    return `<tr><td>${e(w.message)}<div class="muted">${e(w.kind)}</div></td><td>${place}</td><td class="num">${formatCount(count)}</td><td>${e(w.fix)}</td></tr>`;
  });
  return `<div class="table-wrap"><table class="warnings"><thead><tr><th>warning</th><th>where</th><th class="num">times</th><th>what to do</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

function filesSection(results: Results, options: HtmlOptions): string {
  const link = (file: string | null, text: string) => {
    if (file === null) return '<span class="muted">none</span>';
    const href = fileHref(file, options);
    return href === null ? `<code>${e(file)}</code> <span class="muted">(not a relative path: not linked)</span>` : `<a href="${e(href)}">${e(text)}</a> <code>${e(file)}</code>`;
  };
  const resultsHref = fileHref('results.json', options)!;
  const rows = results.scenarios
    .map((s) => {
      if (s.state === 'failed') return `<tr><td>${breakable(s.id)}</td><td colspan="2" class="muted">failed: no files</td></tr>`;
      return `<tr><td>${breakable(s.id)}</td><td>${link(s.files.pcap, 'capture')}</td><td>${link(s.files.keylog, 'key log')}</td></tr>`;
    })
    .join('\n');
  return `<p><a href="${e(resultsHref)}">results.json</a>: every number of this page (<code>tls-reuse-bench report results.json</code> renders it again).
Open a capture in Wireshark and set its key log under Preferences › Protocols › TLS › (Pre)-Master-Secret log filename to read the TLS 1.3 records.</p>
<div class="table-wrap"><table><thead><tr><th>scenario</th><th>pcap</th><th>key log (NSS format)</th></tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Liberation Sans", Arial, sans-serif; color: #222; background: #fff; margin: 0 auto; max-width: 1120px; padding: 16px 24px 48px; line-height: 1.45; }
h1 { font-size: 1.6em; margin: 0.4em 0 0.2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
h3 .group { font-weight: normal; color: #666; }
.meta, .context, .muted { color: #555; }
.context { font-size: 0.92em; }
.answer { font-size: 1.3em; font-weight: 600; margin: 0.3em 0; }
.nowrap { white-space: nowrap; }
.status { padding: 8px 12px; border-radius: 4px; background: #f3f3f3; }
.status.bad { background: #fdecea; }
.status.good { background: #e8f5e9; }
.modes { list-style: none; padding: 0; }
.modes li { margin: 2px 0; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
figure { margin: 0 0 28px; }
.chart { width: 100%; }
.chart canvas { display: block; }
figcaption { font-size: 0.92em; color: #444; margin-top: 4px; }
details { margin-top: 6px; }
summary { cursor: pointer; color: #0057a3; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.86em; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; }
td.num { text-align: right; white-space: nowrap; }
th.num { text-align: right; }
table.kv th { width: 14em; }
table.kv td { overflow-wrap: anywhere; }
td { overflow-wrap: break-word; }
.finding { font-weight: 600; margin: 0.2em 0; }
.chart-context { font-size: 0.85em; color: #555; margin: 0 0 6px; }
section.folded > details > summary { margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
section.folded > details > summary h2 { display: inline; border: 0; margin: 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.85em; }
code { overflow-wrap: anywhere; }
nav ul { columns: 2; padding-left: 1.2em; }
/* A phone: less margin, one column, tables scroll inside their own box (never the page). */
@media (max-width: 640px) {
  body { padding: 8px 10px 32px; }
  h1 { font-size: 1.3em; }
  .answer { font-size: 1.08em; }
  nav ul { columns: 1; }
  table.kv th { width: auto; }
  table { font-size: 0.8em; }
}
`;

/** The page, from the results, the chart specs and the scripts to inline. */
export function renderHtml(model: ReportModel, charts: ChartSpec[], assets: PageAssets, options: HtmlOptions): string {
  const { results, answer } = model;
  const title = answer === null ? 'What reusing TLS connections saves' : answer.down;
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tls-reuse-bench ${e(results.runId)}: ${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>What reusing TLS connections saves</h1>
<p class="meta">tls-reuse-bench run <code>${e(results.runId)}</code>, ${e(suiteLabel(results.options))}, ${results.scenarios.length} scenarios, started ${e(results.startedAt)}.</p>
</header>
${answerSection(results, answer)}
${statusSection(results, model.check)}
<p>An agent (an osquery-like workload: enroll, config every minute, log posts every few seconds, distributed reads) talks to a TLS server in three ways, measured from packet captures, normalised per endpoint (agent) per virtual minute:</p>
${modesSection()}
<nav><ul>
<li><a href="#answer">The answer</a></li>
<li><a href="#charts">Charts</a></li>
<li><a href="#headline">Headline table</a></li>
${model.server.length > 0 ? '<li><a href="#server">Server cost</a></li>\n' : ''}<li><a href="#scenarios">Scenario matrix</a></li>
<li><a href="#environment">Environment</a></li>
<li><a href="#capture">Capture health</a></li>
<li><a href="#warnings">Warnings</a></li>
<li><a href="#files">Captures and key logs</a></li>
</ul></nav>
<div id="charts">
${chartsSections(model, charts)}
</div>
<section id="headline"><h2>Headline table</h2>
${headlineTable(model)}
</section>
${serverSection(model)}
<section id="scenarios"><h2>Scenario matrix</h2>
${scenarioMatrix(results)}
</section>
<section id="environment"><h2>Environment</h2>
${environmentSection(results)}
</section>
<section id="capture"><h2>Capture health</h2>
${captureHealth(results)}
</section>
<section id="warnings"><h2>Warnings</h2>
${warningsSection(results)}
</section>
<section id="files"><h2>Captures and key logs</h2>
${filesSection(results, options)}
</section>
<script>${inlineScript(assets.chartJs, 'chart.umd.js')}</script>
<script type="application/json" id="report-charts">${jsonForScript(charts.map((c) => ({ name: c.name, config: c.config, units: c.units })))}</script>
<script type="application/json" id="report-results">${jsonForScript(results)}</script>
<script type="module">
${inlineScript(assets.plugins, 'chart-plugins.js')}
drawReportCharts(window.Chart, JSON.parse(document.getElementById('report-charts').textContent), document);
</script>
</body>
</html>
`;
  return page;
}

