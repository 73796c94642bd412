/** Chart 4: connections opened and sockets through TIME_WAIT per endpoint-minute, per mode. */
import type { ChartConfiguration } from 'chart.js';
import type { ReportModel } from '../model.ts';
import type { Mode } from '../../model/index.ts';
import { formatNumber } from '../format.ts';
import { FIELD_REPORT } from '../headline.ts';
import { scenarioOfMode, type MeasuredScenario, type ScenarioGroup } from '../groups.ts';
import { MODES } from '../../model/index.ts';
import { MODE_COLOURS } from '../palette.ts';
import { axisTitle, baseOptions, plotted, SIZE, type ChartSpec } from './common.ts';

type Metric = { key: 'connections' | 'timeWait'; label: string };

const METRICS: Metric[] = [
  { key: 'connections', label: 'connections opened' },
  { key: 'timeWait', label: 'sockets through TIME_WAIT' },
];

/** Per endpoint-minute counts print with two decimals below 10 (reuse brings them near zero). */
function count(n: number): string {
  return formatNumber(n, n < 10 ? 2 : 1);
}

function connectionsTitle(primary: ScenarioGroup | undefined): string {
  const fresh = primary && scenarioOfMode(primary, 'fresh');
  const persistent = primary && scenarioOfMode(primary, 'persistent');
  if (fresh === undefined || persistent === undefined) return 'Connections opened and TIME_WAIT sockets per endpoint-minute';
  const f = fresh.perEndpointMinute;
  const p = persistent.perEndpointMinute;
  return `Reuse cut new connections from ${count(f.connections)} to ${count(p.connections)} per endpoint-minute, TIME_WAIT sockets from ${count(f.timeWait)} to ${count(p.timeWait)}`;
}

/** Configurations whose counts print the same for every mode: one bar serves them all. */
interface Cluster {
  groups: ScenarioGroup[];
  /** Its category's label lines, under the metric's. */
  label: string[];
}

/**
 * Groups configurations by the counts of one metric they print, per mode: the TLS version and the chain change
 * bytes, not how many connections the schedule opens, so the full suite's 24-48 bars read the same few numbers.
 * A cluster is named by what its configurations share (`nginx`), or `every configuration`.
 */
function clusters(shown: ScenarioGroup[], modes: Mode[], metric: Metric): Cluster[] {
  const key = (g: ScenarioGroup) =>
    JSON.stringify(
      modes.map((mode) => {
        const s = scenarioOfMode(g, mode);
        return s === undefined ? null : `${count(s.perEndpointMinute[metric.key])}${s.state === 'invalid' ? '!' : ''}`;
      }),
    );
  const byKey = new Map<string, ScenarioGroup[]>();
  for (const g of shown) byKey.set(key(g), [...(byKey.get(key(g)) ?? []), g]);
  const lists = [...byKey.values()];
  return lists.map((groups) => {
    if (groups.length === 1) return { groups, label: groups[0]!.label.split(' · ') };
    if (groups.length === shown.length) return { groups, label: ['every configuration'] };
    const parts = groups.map((g) => g.label.split(' · '));
    const common = parts[0]!.filter((p) => parts.every((ps) => ps.includes(p)));
    if (common.length > 0) return { groups, label: [common.join(' · ')] };
    return { groups, label: groups.length <= 3 ? groups.map((g) => g.label) : [`${groups.length} configurations (see the table)`] };
  });
}

/**
 * One chart across configurations, horizontal so any number of configurations stays legible: a category per
 * metric × cluster of configurations with the same counts (the cluster on a second label line when there are
 * several), one bar per mode, the value printed on every bar since reused connections make bars too short to read.
 */
export function connectionsChart({ groups }: ReportModel): ChartSpec[] {
  const shown = groups.filter((g) => g.measured.length > 0);
  if (shown.length === 0) return [];
  const modes = MODES.filter((mode) => shown.some((g) => scenarioOfMode(g, mode) !== undefined));
  const perMetric = METRICS.map((metric) => ({ metric, sets: clusters(shown, modes, metric) }));
  const several = shown.length > 1;
  const categories = perMetric.flatMap(({ metric, sets }) => sets.map((set) => ({ metric, group: set.groups[0]!, set })));
  const cell = (mode: Mode, c: (typeof categories)[number]): MeasuredScenario | undefined => scenarioOfMode(c.group, mode);
  const size = { width: SIZE.wide.width, height: 200 + categories.length * modes.length * 26 };
  const collapsed = perMetric.some(({ sets }) => sets.length < shown.length);
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: categories.map((c) => (several ? [c.metric.label, ...c.set.label] : c.metric.label)),
      datasets: modes.map((mode) => ({
        label: mode,
        data: categories.map((c) => {
          const s = cell(mode, c);
          return s === undefined ? null : plotted(s.perEndpointMinute[c.metric.key]);
        }),
        backgroundColor: MODE_COLOURS[mode],
      })),
    },
    options: {
      ...baseOptions<'bar'>(
        connectionsTitle(shown.find((g) => g.primary)),
        [
          'per endpoint per virtual minute · TIME_WAIT: sockets of either side seen in TIME_WAIT (/proc/net/tcp)',
          ...(collapsed ? [`configurations with the same counts share one bar per mode (${shown.length} configurations in the run)`] : []),
          `field report: fresh connections churned ${FIELD_REPORT.timeWaitPerMinute} sockets per agent-minute through TIME_WAIT`,
        ],
        size,
      ),
      indexAxis: 'y',
      scales: {
        x: { beginAtZero: true, grace: '12%', title: axisTitle('per endpoint-minute') },
        y: { grid: { display: false }, ticks: { font: { size: 12 } } },
      },
    },
  };
  config.options!.plugins!.fadedBars = {
    display: true,
    bars: modes.map((mode) => categories.map((c) => cell(mode, c)?.state === 'invalid')),
  };
  config.options!.plugins!.valueLabels = {
    display: true,
    labels: modes.map((mode) =>
      categories.map((c) => {
        const s = cell(mode, c);
        if (s === undefined) return null;
        const value = count(s.perEndpointMinute[c.metric.key]);
        return [s.state === 'invalid' ? `${value} (INVALID)` : value];
      }),
    ),
  };
  return [
    {
      name: 'connections',
      units: { value: 'per endpoint-minute', decimals: 2 },
      heading: 'Connections and TIME_WAIT',
      group: null,
      ...size,
      config: config as ChartConfiguration,
      caption:
        'A closed TCP connection leaves a socket in TIME_WAIT for a minute or more (the side that closes first keeps it); at fleet scale these pile up on the server and its load balancers.',
      table: {
        header: ['scenario', 'connections / endpoint-min', 'TIME_WAIT / endpoint-min', 'opened (client)', 'captured (SYN)', 'TLS resumed', 'TIME_WAIT client', 'TIME_WAIT server'],
        numeric: [1, 2, 3, 4, 5, 6, 7],
        rows: shown.flatMap((g) =>
          g.measured.map((s) => [
            s.id,
            count(s.perEndpointMinute.connections),
            count(s.perEndpointMinute.timeWait),
            String(s.connections.opened),
            s.connections.captured === null ? '-' : String(s.connections.captured),
            String(s.connections.sessionResumed),
            String(s.timeWait.client),
            String(s.timeWait.server),
          ]),
        ),
      },
    },
  ];
}
