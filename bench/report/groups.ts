/**
 * Scenarios grouped by everything but the mode: each group is one configuration (TLS version, chain, network,
 * server, workload, size) in which modes are compared, the same `configurationKey` the assessment pairs on.
 */
import {
  configurationKey,
  MODES,
  type Comparison,
  type MeasuredScenario,
  type Mode,
  type Results,
  type ScenarioResult,
  type ScenarioSpec,
} from '../model/index.ts';
import { certLabel, networkLabel, serverLabel, tlsLabel } from './labels.ts';

export type { MeasuredScenario } from '../model/index.ts';

/** A mode's comparison with fresh inside a group, with both scenarios. */
export interface GroupComparison {
  comparison: Comparison;
  baseline: MeasuredScenario;
  candidate: MeasuredScenario;
  /** Share of all bytes (both directions, on the comparison's basis) saved against fresh; null when fresh had none. */
  allBytesSavedPct: number | null;
  /** Share of the server's CPU time per request saved against fresh; null when fresh's was 0. */
  serverCpuSavedPct: number | null;
}

/** One configuration and its scenarios, one per mode. */
export interface ScenarioGroup {
  /** Identity of the configuration (the comparison axes). */
  key: string;
  /** The axes that vary across the run, e.g. `TLS 1.2 · ECDSA P-256`; the full label when none vary. */
  label: string;
  /** Every axis, e.g. `TLS 1.3, RSA-2048 chain, Node server, loopback`. */
  fullLabel: string;
  /**
   * The configuration in the scenario ids' own words, file-name safe: the raw values of the axes that vary
   * (`tls1.2-ecdsa-p256`), or of the configuration's identity when none does (`tls1.3-rsa2048-loopback-node`).
   * Chart files and page anchors are named with it.
   */
  slug: string;
  /** The configuration the page's answer comes from: the first group, unless it has no comparison. */
  primary: boolean;
  /** The first scenario's spec (the axes every scenario of the group shares). */
  spec: ScenarioSpec;
  /** Scenarios in mode order (fresh, persistent, resumed), failed ones included. */
  scenarios: ScenarioResult[];
  /** The scenarios charts draw: not failed, in mode order. */
  measured: MeasuredScenario[];
  /** Each measured non-fresh mode's comparison with fresh, from the results' comparisons. */
  comparisons: Partial<Record<Mode, GroupComparison>>;
}

type Axis = { name: string; short: (s: ScenarioSpec) => string; full: (s: ScenarioSpec) => string; raw: (s: ScenarioSpec) => string };

const AXES: Axis[] = [
  { name: 'tls', short: (s) => tlsLabel(s.tls), full: (s) => tlsLabel(s.tls), raw: (s) => s.tls },
  { name: 'cert', short: (s) => certLabel(s.cert), full: (s) => `${certLabel(s.cert)} chain`, raw: (s) => s.cert },
  { name: 'server', short: (s) => serverLabel(s.server), full: (s) => serverLabel(s.server), raw: (s) => s.server },
  { name: 'network', short: (s) => networkLabel(s.network), full: (s) => networkLabel(s.network), raw: (s) => s.network },
  { name: 'workload', short: (s) => s.workload, full: (s) => `workload ${s.workload}`, raw: (s) => s.workload },
  {
    name: 'endpoints',
    short: (s) => `${s.endpoints} endpoints`,
    full: (s) => `${s.endpoints} endpoint${s.endpoints === 1 ? '' : 's'}`,
    raw: (s) => `${s.endpoints}endpoints`,
  },
  { name: 'virtualMinutes', short: (s) => `${s.virtualMinutes} min`, full: (s) => `${s.virtualMinutes} virtual minutes`, raw: (s) => `${s.virtualMinutes}min` },
  { name: 'seed', short: (s) => `seed ${s.seed}`, full: (s) => `seed ${s.seed}`, raw: (s) => `seed${s.seed}` },
];

/** Axes in a slug follow the scenario id's order (`<mode>/<tls>/<cert>/<network>/<server>`), then the conditions. */
const SLUG_ORDER = ['tls', 'cert', 'network', 'server', 'workload', 'endpoints', 'virtualMinutes', 'seed'];

/** The axes shown in a full label; the others are run-wide and stated once on the page. */
const FULL_LABEL_AXES = new Set(['tls', 'cert', 'server', 'network']);

/** Groups in scenario order, then the primary group moved first. */
export function groupScenarios(results: Results): ScenarioGroup[] {
  const byKey = new Map<string, ScenarioResult[]>();
  for (const s of results.scenarios) {
    const key = configurationKey(s.spec);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [s]);
    else list.push(s);
  }
  const specs = [...byKey.values()].map((list) => list[0]!.spec);
  const varying = AXES.filter((axis) => new Set(specs.map(axis.short)).size > 1);
  const shown = varying.length > 0 ? varying : AXES.filter((axis) => FULL_LABEL_AXES.has(axis.name));
  const groups = [...byKey.entries()].map(([key, list]): ScenarioGroup => {
    const spec = list[0]!.spec;
    const scenarios = [...list].sort((a, b) => modeRank(a.spec.mode) - modeRank(b.spec.mode));
    const measured = scenarios.filter((s): s is MeasuredScenario => s.state !== 'failed');
    const label = shown.map((axis) => axis.short(spec)).join(' · ');
    return {
      key,
      label,
      fullLabel: AXES.filter((axis) => FULL_LABEL_AXES.has(axis.name) || varying.includes(axis))
        .map((axis) => axis.full(spec))
        .join(', '),
      slug: (varying.length > 0 ? varying : AXES.filter((axis) => FULL_LABEL_AXES.has(axis.name)))
        .sort((a, b) => SLUG_ORDER.indexOf(a.name) - SLUG_ORDER.indexOf(b.name))
        .map((axis) => axis.raw(spec))
        .join('-')
        .replace(/[^A-Za-z0-9.-]+/g, '_'),
      primary: false,
      spec,
      scenarios,
      measured,
      comparisons: groupComparisons(results, measured),
    };
  });
  // Slugs name files and element ids: labels that differ only in punctuation must not share one.
  const used = new Set<string>();
  for (const [i, g] of groups.entries()) {
    let slug = g.slug === '' ? `group-${i + 1}` : g.slug;
    for (let n = 2; used.has(slug); n++) slug = `${g.slug}-${n}`;
    used.add(slug);
    g.slug = slug;
  }
  const comparable = (g: ScenarioGroup) => Object.keys(g.comparisons).length > 0;
  const primaryIndex = Math.max(0, groups.findIndex(comparable));
  const [primary] = groups.splice(primaryIndex, 1);
  if (primary === undefined) return [];
  return [{ ...primary, primary: true }, ...groups];
}

/** The results' comparisons whose candidate is in the group, by the candidate's mode. */
function groupComparisons(results: Results, measured: MeasuredScenario[]): Partial<Record<Mode, GroupComparison>> {
  const out: Partial<Record<Mode, GroupComparison>> = {};
  for (const candidate of measured) {
    const comparison = results.comparisons.find((c) => c.candidate === candidate.id);
    const baseline = measured.find((s) => s.id === comparison?.baseline);
    if (comparison === undefined || baseline === undefined) continue;
    // Read from the results' comparison (analyze/compare.ts); results older than these figures have none.
    out[candidate.spec.mode] = {
      comparison,
      baseline,
      candidate,
      allBytesSavedPct: comparison.allBytesSavedPct ?? null,
      serverCpuSavedPct: comparison.serverCpuSavedPct ?? null,
    };
  }
  return out;
}

function modeRank(mode: Mode): number {
  return MODES.indexOf(mode);
}

/**
 * What a chart of these scenarios leaves out or pales, for its subtitle: e.g. `not drawn: resumed (failed) ·
 * drawn pale: persistent (INVALID)`; null when every scenario completed. `name` says how to call a scenario
 * (its mode inside one configuration, its id across configurations).
 */
export function stateNote(scenarios: ScenarioResult[], name: (s: ScenarioResult) => string): string | null {
  const failed = scenarios.filter((s) => s.state === 'failed').map(name);
  const invalid = scenarios.filter((s) => s.state === 'invalid').map(name);
  const parts = [
    ...(failed.length > 0 ? [`not drawn: ${failed.join(', ')} (failed)`] : []),
    ...(invalid.length > 0 ? [`drawn pale: ${invalid.join(', ')} (INVALID)`] : []),
  ];
  return parts.length === 0 ? null : `${parts.join(' · ')}: see the scenario table`;
}

/** The group's measured scenario of a mode, if any. */
export function scenarioOfMode(group: ScenarioGroup, mode: Mode): MeasuredScenario | undefined {
  return group.measured.find((s) => s.spec.mode === mode);
}

/** Endpoint-minutes of a scenario's capture, the divisor of its per-endpoint-minute capture figures: a fleet's
 * sampled agents' (their traffic is what the capture holds), or every agent's. */
export function endpointMinutes(spec: ScenarioSpec): number {
  return (spec.captureAgents ?? spec.endpoints) * spec.virtualMinutes;
}
