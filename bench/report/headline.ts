/**
 * The headline: per scenario, bytes per endpoint-minute each way, % saved against `fresh`, handshake bytes,
 * connections and TIME_WAIT sockets. One description, rendered as a terminal table, Markdown and HTML.
 */
import type { Comparison, Results, ScenarioResult } from '../model/index.ts';
import { formatBytes, formatNumber, formatPct, markdownTable, textTable, wrapped, type Align } from './format.ts';
import type { ReportModel } from './model.ts';
import { serverText } from './server.ts';
import { roundTripMarkdown, roundTripText } from './paths.ts';

/** One row of the headline table, as numbers (null where a run without capture cannot say). */
export interface HeadlineRow {
  id: string;
  mode: string;
  group: string;
  state: ScenarioResult['state'];
  upBytes: number | null;
  downBytes: number | null;
  upSavedPct: number | null;
  downSavedPct: number | null;
  handshakeBytes: number | null;
  connections: number | null;
  timeWait: number | null;
  note: string;
  /** The figures above are the steady state (issue 12); false for a run without capture (whole run). */
  steady: boolean;
  /** Savings over the whole run, start-up included (the figures of runs before the steady state). */
  wholeRunUpSavedPct: number | null;
  wholeRunDownSavedPct: number | null;
}

/** The field report this project reproduces (osquery TLS persistent transport, nginx endpoint). */
export const FIELD_REPORT = { upSavedPct: 50, downSavedPct: 74, timeWaitPerMinute: '12-16' } as const;

/** Headline rows in scenario order (built once, into the report model). */
export function headlineRows(results: Results): HeadlineRow[] {
  const byCandidate = new Map<string, Comparison>(results.comparisons.map((c) => [c.candidate, c]));
  return results.scenarios.map((s) => {
    const group = `${s.spec.tls}/${s.spec.cert}/${s.spec.network}/${s.spec.server}`;
    if (s.state === 'failed') {
      return {
        id: s.id, mode: s.spec.mode, group, state: s.state, upBytes: null, downBytes: null, upSavedPct: null,
        downSavedPct: null, handshakeBytes: null, connections: null, timeWait: null, note: `failed: ${s.error}`,
        steady: false, wholeRunUpSavedPct: null, wholeRunDownSavedPct: null,
      };
    }
    const p = s.perEndpointMinute;
    const comparison = byCandidate.get(s.id);
    const note = s.state === 'invalid' ? `invalid: ${s.invalidReasons.join('; ')}` : '';
    const whole = { wholeRunUpSavedPct: comparison?.upSavedPct ?? null, wholeRunDownSavedPct: comparison?.downSavedPct ?? null };
    const steady = s.steadyState?.perEndpointMinute;
    if (steady !== undefined && (comparison === undefined || comparison.steady !== null)) {
      return {
        id: s.id, mode: s.spec.mode, group, state: s.state, upBytes: steady.upWireBytes, downBytes: steady.downWireBytes,
        upSavedPct: comparison?.steady?.upSavedPct ?? null, downSavedPct: comparison?.steady?.downSavedPct ?? null,
        handshakeBytes: steady.upHandshakeBytes + steady.downHandshakeBytes, connections: steady.connections, timeWait: steady.timeWait,
        note, steady: true, ...whole,
      };
    }
    const handshake = p.upHandshakeBytes === null || p.downHandshakeBytes === null ? null : p.upHandshakeBytes + p.downHandshakeBytes;
    return {
      id: s.id,
      mode: s.spec.mode,
      group,
      state: s.state,
      upBytes: p.upWireBytes ?? p.upTcpPayloadBytes,
      downBytes: p.downWireBytes ?? p.downTcpPayloadBytes,
      upSavedPct: comparison?.upSavedPct ?? null,
      downSavedPct: comparison?.downSavedPct ?? null,
      handshakeBytes: handshake,
      connections: p.connections,
      timeWait: p.timeWait,
      note,
      steady: false,
      ...whole,
    };
  });
}

/** Column headers of the headline table (every rendering: terminal, Markdown, HTML). */
export const HEADLINE_HEADER = ['scenario', 'up / min', 'down / min', 'up saved', 'down saved', 'handshake / min', 'conns / min', 'TIME_WAIT / min', 'state'];
/** Alignment of each headline column. */
export const HEADLINE_ALIGN: Align[] = ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'];
const HEADER = HEADLINE_HEADER;
const ALIGN = HEADLINE_ALIGN;

/** A headline row as the table's text cells. */
export function headlineCells(row: HeadlineRow): string[] {
  const bytes = (n: number | null) => (n === null ? '-' : formatBytes(n));
  const pct = (n: number | null) => (n === null ? '' : formatPct(n));
  // A steady persistent channel reconnects about once an hour: 0.05 a minute must not print as 0.0.
  const num = (n: number | null) => (n === null ? '-' : formatNumber(n, n > 0 && n < 0.1 ? 3 : 1));
  return [
    row.id,
    bytes(row.upBytes),
    bytes(row.downBytes),
    pct(row.upSavedPct),
    pct(row.downSavedPct),
    bytes(row.handshakeBytes),
    num(row.connections),
    num(row.timeWait),
    row.state === 'completed' ? 'ok' : row.state,
  ];
}

/** What the headline's byte columns count: wire bytes, or TCP payload for a run without capture. */
export function basisNote(results: Results): string {
  if (!results.options.capture) return 'TCP payload bytes per endpoint per virtual minute (no capture: headers and control packets not seen)';
  const steady = results.scenarios.some((s) => s.state !== 'failed' && s.steadyState !== null);
  return steady
    ? `steady state (enroll and each channel's first connection left out; persistent reconnects every session timeout and after idle closes derived from the schedule): ${WIRE_NOTE}`
    : WIRE_NOTE;
}

const WIRE_NOTE = 'bytes on the wire (link, IP, TCP headers included) per endpoint per virtual minute';

/** Why a resumed scenario sends more upstream than fresh, one line each, from the report model. */
export function resumedUpstreamLines(model: ReportModel): string[] {
  return model.resumedUpstream.map(
    (r) =>
      `${r.id}: ${formatPct(r.upSavedPct)} up because every request still opens a connection (${formatNumber(r.connectionsPerMinute, 1)} a minute) ` +
      `and each costs ${formatBytes(r.upWireBytesPerConnection.resumed)} upstream against fresh's ${formatBytes(r.upWireBytesPerConnection.fresh)}: ` +
      `its ClientHello carries the session ticket (${formatBytes(r.upHandshakeBytesPerConnection.resumed)} of handshake records against ${formatBytes(r.upHandshakeBytesPerConnection.fresh)})`,
  );
}

/** The whole-run savings (start-up included) beside the steady state's, one line per compared scenario. */
export function wholeRunLines(rows: readonly HeadlineRow[]): string[] {
  return rows
    .filter((r) => r.steady && r.wholeRunUpSavedPct !== null && r.wholeRunDownSavedPct !== null)
    .map((r) => `${r.id}: whole run (start-up included) saved ${formatPct(r.wholeRunUpSavedPct!)} up, ${formatPct(r.wholeRunDownSavedPct!)} down`);
}

/**
 * The headline as a plain-text table for the terminal, with the field report's figures under it, then the
 * round-trip and server-cost tables. Within `width` columns: a wider table is printed as panels, and each
 * sentence is wrapped (its further lines indented).
 */
export function headlineText(model: ReportModel, width = Number.POSITIVE_INFINITY): string {
  const rows = model.headline;
  const prose: string[] = [model.basisNote];
  prose.push(
    `field report (osquery agents, nginx, TLS): reuse saved ${FIELD_REPORT.upSavedPct}% up, ${FIELD_REPORT.downSavedPct}% down; fresh churned ${FIELD_REPORT.timeWaitPerMinute} sockets per agent-minute`,
  );
  prose.push(...wholeRunLines(rows), ...resumedUpstreamLines(model));
  for (const row of rows) if (row.note !== '') prose.push(`${row.id}: ${row.note}`);
  const lines = [textTable(HEADER, rows.map(headlineCells), ALIGN, width), '', ...prose.map((p) => wrapped(p, width))];
  if (model.roundTrips.length > 0) lines.push('', roundTripText(model.roundTrips, width));
  const server = serverText(model.server, model.fleetScale, width);
  if (server !== '') lines.push('', server);
  return lines.join('\n');
}

/** The headline as a Markdown table. */
export function headlineMarkdown(model: ReportModel): string {
  const paths = model.roundTrips.length === 0 ? [] : ['', roundTripMarkdown(model.roundTrips)];
  const notes = [...wholeRunLines(model.headline), ...resumedUpstreamLines(model)].map((line) => `- ${line}`);
  return [markdownTable(HEADER, model.headline.map(headlineCells), ALIGN), '', `_${model.basisNote}_`, ...(notes.length > 0 ? ['', ...notes] : []), ...paths].join('\n');
}
