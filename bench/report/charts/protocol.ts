/**
 * Chart 6, the protocol matrix: TLS handshake bytes per full handshake (fresh scenarios) and per resumed
 * handshake (resumed scenarios), for each TLS version × certificate chain the run measured.
 */
import type { ChartConfiguration } from 'chart.js';
import type { ReportModel } from '../model.ts';
import type { Direction } from '../../model/index.ts';
import { formatBytes } from '../format.ts';
import { endpointMinutes, scenarioOfMode, type MeasuredScenario } from '../groups.ts';
import { MODE_COLOURS, translucent } from '../palette.ts';
import { axisTitle, baseOptions, plotted, rangeText, SIZE, type ChartSpec } from './common.ts';

/** Handshake bytes of one handshake, per direction. */
export interface HandshakeCost {
  up: number;
  down: number;
  /** The scenario the figure comes from, and whether it is invalid. */
  id: string;
  invalid: boolean;
}

/** Handshakes of a kind over a whole scenario (per endpoint-minute figures × endpoint-minutes). */
function handshakes(s: MeasuredScenario, kind: 'fullHandshakes' | 'resumedHandshakes'): number {
  return Math.round(s.perEndpointMinute[kind] * endpointMinutes(s.spec));
}

/** Bytes per full handshake: a fresh scenario's handshake bytes over its full handshakes. */
export function fullHandshakeCost(fresh: MeasuredScenario | undefined): HandshakeCost | null {
  if (fresh?.traffic == null) return null;
  const full = handshakes(fresh, 'fullHandshakes');
  if (full === 0) return null;
  const per = (d: Direction) => fresh.traffic![d].tls.handshakeBytes / full;
  return { up: per('up'), down: per('down'), id: fresh.id, invalid: fresh.state === 'invalid' };
}

/**
 * Bytes per resumed handshake: a resumed scenario's handshake bytes, less its full handshakes (each channel's
 * first connection) counted at the fresh scenario's size, over its resumed handshakes. Exact when every
 * handshake was resumed; otherwise as good as the full handshakes of both scenarios are alike (same chain,
 * same version, same server).
 */
export function resumedHandshakeCost(resumed: MeasuredScenario | undefined, full: HandshakeCost | null): HandshakeCost | null {
  if (resumed?.traffic == null) return null;
  const count = handshakes(resumed, 'resumedHandshakes');
  const fullCount = handshakes(resumed, 'fullHandshakes');
  if (count === 0 || (fullCount > 0 && full === null)) return null;
  const per = (d: Direction) => Math.max(0, (resumed.traffic![d].tls.handshakeBytes - fullCount * (full?.[d] ?? 0)) / count);
  return { up: per('up'), down: per('down'), id: resumed.id, invalid: resumed.state === 'invalid' || (fullCount > 0 && full!.invalid) };
}

/** One chart across configurations (`protocol-matrix`): one stacked bar per handshake kind, up under down. */
export function protocolChart({ groups }: ReportModel): ChartSpec[] {
  const rows = groups
    .map((group) => {
      const full = fullHandshakeCost(scenarioOfMode(group, 'fresh'));
      return { group, full, resumed: resumedHandshakeCost(scenarioOfMode(group, 'resumed'), full) };
    })
    .filter((r) => r.full !== null || r.resumed !== null);
  if (rows.length === 0) return [];
  const kinds = [
    { key: 'full' as const, label: 'full handshake (fresh)', colour: MODE_COLOURS.fresh },
    { key: 'resumed' as const, label: 'resumed handshake (resumed)', colour: MODE_COLOURS.resumed },
  ].filter((k) => rows.some((r) => r[k.key] !== null));
  const total = (c: HandshakeCost) => c.up + c.down;
  const finding = kinds.map((k) => {
    const values = rows.flatMap((r) => (r[k.key] === null ? [] : [total(r[k.key]!)]));
    const subject = k.key === 'full' ? 'a full TLS handshake' : kinds.length > 1 ? 'a resumed one' : 'a resumed TLS handshake';
    return `${subject} costs ${rangeText(values, formatBytes)}`;
  });
  const title = `${finding.join('; ')} (both directions)`;
  const size = SIZE.wide;
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      // One line per axis (`TLS 1.2` over `ECDSA P-256`): one long line per bar was clipped in the full suite.
      labels: rows.map((r) => r.group.label.split(' · ')),
      datasets: kinds.flatMap((k) =>
        (['up', 'down'] as const).map((direction) => ({
          label: `${k.label}, ${direction === 'up' ? 'client → server' : 'server → client'}`,
          data: rows.map((r) => (r[k.key] === null ? null : plotted(r[k.key]![direction]))),
          backgroundColor: direction === 'up' ? translucent(k.colour, 0.45) : k.colour,
          stack: k.key,
          maxBarThickness: 140,
        })),
      ),
    },
    options: {
      ...baseOptions<'bar'>(
        title.charAt(0).toUpperCase() + title.slice(1),
        ['TLS handshake and change_cipher_spec records per handshake, post-handshake session tickets included · lighter: client → server'],
        size,
      ),
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { font: { size: 13 } } },
        y: { stacked: true, beginAtZero: true, grace: '15%', title: axisTitle('bytes per handshake') },
      },
    },
  };
  config.options!.plugins!.fadedBars = {
    display: true,
    bars: kinds.flatMap((k) => [0, 1].map(() => rows.map((r) => r[k.key]?.invalid === true))),
  };
  config.options!.plugins!.valueLabels = {
    display: true,
    labels: kinds.flatMap((k) => [
      [],
      rows.map((r) => {
        const cost = r[k.key];
        return cost === null ? null : [formatBytes(total(cost)), ...(cost.invalid ? ['INVALID'] : [])];
      }),
    ]),
  };
  return [
    {
      name: 'protocol-matrix',
      units: { value: 'bytes per handshake', decimals: 0 },
      heading: 'Handshake bytes by protocol and certificate',
      group: null,
      ...size,
      config: config as ChartConfiguration,
      caption:
        'What one TLS handshake puts on the wire. A full handshake carries the certificate chain (RSA chains are larger than ECDSA ones); a resumed handshake skips it. The bar for resumed handshakes subtracts the resumed scenario\'s full handshakes at the fresh scenario\'s size.',
      table: {
        header: ['configuration', 'full: up', 'full: down', 'full: total', 'resumed: up', 'resumed: down', 'resumed: total', 'from'],
        numeric: [1, 2, 3, 4, 5, 6],
        rows: rows.map((r) => {
          const cells = (c: HandshakeCost | null) => (c === null ? ['-', '-', '-'] : [formatBytes(c.up), formatBytes(c.down), formatBytes(total(c))]);
          return [r.group.label, ...cells(r.full), ...cells(r.resumed), [r.full?.id, r.resumed?.id].filter((x) => x !== undefined).join(', ')];
        }),
      },
    },
  ];
}
