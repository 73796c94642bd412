/**
 * The headline: per scenario, bytes per endpoint-minute each way, % saved against `fresh`, handshake bytes,
 * connections and TIME_WAIT sockets. One description, rendered as a terminal table, Markdown and HTML.
 */
import type { Comparison, Results, ScenarioResult } from '../model/index.ts';
import { formatBytes, formatNumber, formatPct, markdownTable, textTable, type Align } from './format.ts';
import type { ReportModel } from './model.ts';
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
      };
    }
    const p = s.perEndpointMinute;
    const comparison = byCandidate.get(s.id);
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
      note: s.state === 'invalid' ? `invalid: ${s.invalidReasons.join('; ')}` : '',
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
  const num = (n: number | null) => (n === null ? '-' : formatNumber(n, 1));
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
  return results.options.capture
    ? 'bytes on the wire (link, IP, TCP headers included) per endpoint per virtual minute'
    : 'TCP payload bytes per endpoint per virtual minute (no capture: headers and control packets not seen)';
}

/** The headline as a plain-text table for the terminal, with the field report's figures under it. */
export function headlineText(model: ReportModel): string {
  const rows = model.headline;
  const lines = [textTable(HEADER, rows.map(headlineCells), ALIGN), '', model.basisNote];
  lines.push(
    `field report (osquery agents, nginx, TLS): reuse saved ${FIELD_REPORT.upSavedPct}% up, ${FIELD_REPORT.downSavedPct}% down; fresh churned ${FIELD_REPORT.timeWaitPerMinute} sockets per agent-minute`,
  );
  for (const row of rows) if (row.note !== '') lines.push(`${row.id}: ${row.note}`);
  if (model.roundTrips.length > 0) lines.push('', roundTripText(model.roundTrips));
  return lines.join('\n');
}

/** The headline as a Markdown table. */
export function headlineMarkdown(model: ReportModel): string {
  const paths = model.roundTrips.length === 0 ? [] : ['', roundTripMarkdown(model.roundTrips)];
  return [markdownTable(HEADER, model.headline.map(headlineCells), ALIGN), '', `_${model.basisNote}_`, ...paths].join('\n');
}
