/** Server CPU per request, per mode and configuration: what the handshakes cost the server (README: "server CPU"). */
import type { ChartConfiguration } from 'chart.js';
import type { Mode } from '../../model/index.ts';
import { MODES } from '../../model/index.ts';
import { formatNumber } from '../format.ts';
import { scenarioOfMode, type ScenarioGroup } from '../groups.ts';
import type { ReportModel } from '../model.ts';
import { axisTitle, baseOptions, lessOrMore, modeColour, plotted, SIZE, type ChartSpec } from './common.ts';

const cpu = (n: number) => `${formatNumber(n, n < 1 ? 3 : 2)} ms`;

function cpuTitle(primary: ScenarioGroup | undefined): string {
  const fresh = primary && scenarioOfMode(primary, 'fresh');
  const others = MODES.flatMap((mode) => {
    const c = primary?.comparisons[mode];
    return c === undefined || c.serverCpuSavedPct === null ? [] : [c];
  });
  if (fresh === undefined || others.length === 0) return 'Server CPU time per request';
  const rest = others.map((c) => `${c.candidate.spec.mode} ${cpu(c.candidate.server.cpuMsPerRequest)} (${lessOrMore(c.serverCpuSavedPct!)})`);
  return `The server spends ${cpu(fresh.server.cpuMsPerRequest)} of CPU per fresh request; ${rest.join(', ')}`;
}

/** One chart across configurations (`server-cpu`): CPU milliseconds per request, one bar per mode. */
export function serverCpuChart({ groups }: ReportModel): ChartSpec[] {
  const shown = groups.filter((g) => g.measured.some((s) => s.server.requests > 0));
  if (shown.length === 0) return [];
  const modes = MODES.filter((mode) => shown.some((g) => scenarioOfMode(g, mode) !== undefined));
  const value = (g: ScenarioGroup, mode: Mode) => scenarioOfMode(g, mode)?.server.cpuMsPerRequest;
  const size = SIZE.wide;
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: shown.map((g) => g.label.split(' · ')),
      datasets: modes.map((mode) => ({
        label: mode,
        data: shown.map((g) => {
          const v = value(g, mode);
          return v === undefined ? null : plotted(v);
        }),
        backgroundColor: modeColour(mode, false),
      })),
    },
    options: {
      ...baseOptions<'bar'>(
        cpuTitle(shown.find((g) => g.primary)),
        ['server process CPU time (user + system) over the requests it answered · machine-dependent: compare modes within a run'],
        size,
      ),
      scales: {
        x: { grid: { display: false }, ticks: { font: { size: 12 } } },
        y: { beginAtZero: true, grace: '12%', title: axisTitle('CPU milliseconds per request') },
      },
    },
  };
  config.options!.plugins!.fadedBars = {
    display: true,
    bars: modes.map((mode) => shown.map((g) => scenarioOfMode(g, mode)?.state === 'invalid')),
  };
  config.options!.plugins!.valueLabels = {
    display: true,
    labels: modes.map((mode) =>
      shown.map((g) => {
        const v = value(g, mode);
        return v === undefined ? null : [cpu(v)];
      }),
    ),
  };
  return [
    {
      name: 'server-cpu',
      heading: 'Server CPU per request',
      group: null,
      ...size,
      units: { value: 'CPU ms per request', decimals: 3 },
      config: config as ChartConfiguration,
      caption:
        "A full TLS handshake costs the server public-key operations (an RSA signature or ECDSA, and the key exchange); a reused connection costs only the request. Absolute values depend on the machine; the ratio between modes is what carries over.",
      table: {
        header: ['scenario', 'requests', 'CPU user ms', 'CPU system ms', 'CPU ms / request'],
        numeric: [1, 2, 3, 4],
        rows: shown.flatMap((g) =>
          g.measured.map((s) => [s.id, String(s.server.requests), formatNumber(s.server.cpuUserMs, 1), formatNumber(s.server.cpuSystemMs, 1), cpu(s.server.cpuMsPerRequest)]),
        ),
      },
    },
  ];
}
