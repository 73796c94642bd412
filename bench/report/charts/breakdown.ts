/**
 * Chart 2, where the bytes go: each mode's wire bytes per direction split into link/IP/TCP headers, TCP
 * control packets, the TLS handshake, TLS record overhead and application payload.
 */
import type { ChartConfiguration } from 'chart.js';
import type { ReportModel } from '../model.ts';
import type { Direction, TrafficCounters } from '../../model/index.ts';
import { formatBytes, formatPct } from '../format.ts';
import { endpointMinutes, scenarioOfMode, type MeasuredScenario, type ScenarioGroup } from '../groups.ts';
import { CATEGORY_COLOURS, MODE_COLOURS } from '../palette.ts';
import { axisTitle, baseOptions, byteUnit, inUnit, SIZE, type ChartSpec } from './common.ts';

/** The byte categories of the breakdown, in stacking order. */
export type ByteCategory = keyof typeof CATEGORY_COLOURS;

export const CATEGORY_LABELS: Record<ByteCategory, string> = {
  headers: 'link + IP + TCP headers of data packets',
  control: 'TCP control packets (SYN, FIN, pure ACK)',
  handshake: 'TLS handshake',
  recordOverhead: 'TLS record overhead (record headers, AEAD tags, alerts)',
  payload: 'application payload (HTTP)',
  other: 'other (retransmitted, not TLS, cut records)',
};

const CATEGORIES = Object.keys(CATEGORY_COLOURS) as ByteCategory[];

/**
 * Splits one direction's wire bytes into the categories; they sum to `wireBytes`. Control frames are whole
 * frames (their headers included); `headers` are the link, IP and TCP headers of frames that carried payload;
 * TCP payload is the TLS stream, whose application-data records split into framing and payload.
 */
export function byteBreakdown(c: TrafficCounters): Record<ByteCategory, number> {
  return {
    headers: c.wireBytes - c.controlWireBytes - c.tcpPayloadBytes,
    control: c.controlWireBytes,
    handshake: c.tls.handshakeBytes,
    recordOverhead: c.tls.appDataOverheadBytes + c.tls.alertBytes,
    payload: c.tls.appDataBytes - c.tls.appDataOverheadBytes,
    other: c.retransmittedBytes + c.tls.nonTlsBytes + c.tls.incompleteBytes + c.tls.otherBytes,
  };
}

type Bar = { s: MeasuredScenario; direction: Direction; parts: Record<ByteCategory, number>; wire: number };

/** Bars of a group: each measured scenario with a capture, up then down, per endpoint-minute. */
function bars(group: ScenarioGroup): Bar[] {
  return group.measured.flatMap((s) => {
    if (s.traffic === null) return [];
    const per = endpointMinutes(s.spec);
    return (['up', 'down'] as const).map((direction) => {
      const counters = s.traffic![direction];
      const raw = byteBreakdown(counters);
      const parts = Object.fromEntries(CATEGORIES.map((k) => [k, raw[k] / per])) as Record<ByteCategory, number>;
      return { s, direction, parts, wire: counters.wireBytes / per };
    });
  });
}

/** Share of a scenario's wire bytes (both directions) that is TLS handshake. */
function handshakeShare(s: MeasuredScenario): number {
  const t = s.traffic!;
  const wire = t.up.wireBytes + t.down.wireBytes;
  return wire === 0 ? 0 : ((t.up.tls.handshakeBytes + t.down.tls.handshakeBytes) / wire) * 100;
}

function breakdownTitle(group: ScenarioGroup): string {
  const fresh = scenarioOfMode(group, 'fresh');
  const others = group.measured.filter((s) => s.spec.mode !== 'fresh' && s.traffic !== null);
  if (fresh?.traffic == null) return 'Where the bytes go, per mode and direction';
  const share = (s: MeasuredScenario) => formatPct(handshakeShare(s), 0);
  const rest = others.map((s) => `${share(s)} with ${s.spec.mode}`).join(', ');
  return `TLS handshakes are ${share(fresh)} of all bytes with fresh connections${rest === '' ? '' : `, ${rest}`}`;
}

/**
 * One chart per configuration with a capture (`breakdown`, `breakdown-<group>`), horizontal stacked bars
 * (mode · direction on the category axis, coloured like the mode) sharing one value range.
 */
export function breakdownCharts({ groups }: ReportModel): ChartSpec[] {
  const perGroup = groups.map((group) => ({ group, bars: bars(group) })).filter((g) => g.bars.length > 0);
  const unit = byteUnit(Math.max(0, ...perGroup.flatMap((g) => g.bars.map((b) => b.wire))));
  const maxPlotted = Math.max(0, ...perGroup.flatMap((g) => g.bars.map((b) => inUnit(b.wire, unit))));
  return perGroup.map(({ group, bars }) => {
    const categories = CATEGORIES.filter((k) => k !== 'other' || bars.some((b) => b.parts.other !== 0));
    const size = { width: SIZE.wide.width, height: 240 + bars.length * 44 };
    const last = categories.length - 1;
    const config: ChartConfiguration<'bar'> = {
      type: 'bar',
      data: {
        labels: bars.map((b) => `${b.s.spec.mode} · ${b.direction}${b.s.state === 'invalid' ? ' (INVALID)' : ''}`),
        datasets: categories.map((k) => ({
          label: CATEGORY_LABELS[k],
          data: bars.map((b) => inUnit(b.parts[k], unit)),
          backgroundColor: CATEGORY_COLOURS[k],
          stack: 'bytes',
        })),
      },
      options: {
        ...baseOptions<'bar'>(breakdownTitle(group), [`${group.fullLabel} · wire bytes per endpoint per virtual minute`], size),
        indexAxis: 'y',
        scales: {
          x: { stacked: true, beginAtZero: true, suggestedMax: maxPlotted, grace: '12%', title: axisTitle(`${unit.unit} per endpoint-minute`) },
          y: {
            stacked: true,
            grid: { display: false },
            ticks: { color: bars.map((b) => MODE_COLOURS[b.s.spec.mode]), font: { size: 13, weight: 'bold' } },
          },
        },
      },
    };
    // Each bar's total, and the share of it its handshake segment is: the finding of the chart.
    const handshakePct = (b: Bar) => (b.wire === 0 ? 0 : (b.parts.handshake / b.wire) * 100);
    config.options!.plugins!.valueLabels = {
      display: true,
      labels: categories.map((_k, i) => (i === last ? bars.map((b) => [formatBytes(b.wire), `${formatPct(handshakePct(b), 0)} handshake`]) : [])),
    };
    return {
      name: `breakdown-${group.slug}`,
      units: { value: `${unit.unit} per endpoint-minute` },
      heading: 'Where the bytes go',
      group: group.label,
      ...size,
      config: config as ChartConfiguration,
      caption:
        'Wire bytes per endpoint-minute by layer. Fresh connections pay the TCP handshake and teardown (control packets) and a full TLS handshake with the certificate chain on every request.',
      table: {
        header: ['scenario', 'direction', ...categories.map((k) => CATEGORY_LABELS[k]), 'wire total'],
        numeric: [...categories.map((_k, i) => i + 2), categories.length + 2],
        rows: bars.map((b) => [b.s.id, b.direction, ...categories.map((k) => formatBytes(b.parts[k])), formatBytes(b.wire)]),
      },
    };
  });
}
