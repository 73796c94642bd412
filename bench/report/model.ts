/**
 * The report model: everything the renderers show, built once from a run's results (and the check's verdict
 * when there is one). The PNG charts, the HTML page, the Markdown summary and the terminal all read it;
 * none of them groups, pairs or summarises scenarios on its own.
 */
import type { CheckSummary, Results } from '../model/index.ts';
import { headlineAnswer, type HeadlineAnswer } from './answer.ts';
import { groupScenarios, stateNote, type ScenarioGroup } from './groups.ts';
import { requestPhases, type RequestPhases } from './phases.ts';
import { basisNote, headlineRows, type HeadlineRow } from './headline.ts';
import { fleetScaleRows, serverCostRows, type FleetScaleRow, type ServerCostRow } from './server.ts';
import { networkLatencyPanels } from './network-latency.ts';
import type { NetworkLatencyPanel } from './charts/network-latency.ts';
import { roundTripRows, type RoundTripRow } from './paths.ts';
import { sensitivityPanel, type SensitivityPanel } from './sensitivity.ts';

/** What every renderer reads. */
export interface ReportModel {
  results: Results;
  /** Configurations in page order, the primary one (where the answer comes from) first. */
  groups: ScenarioGroup[];
  /** The answer at the top of every report; null when nothing could be compared. */
  answer: HeadlineAnswer | null;
  /** The headline table's rows, in scenario order. */
  headline: HeadlineRow[];
  /** What the byte columns count (wire bytes, or TCP payload without a capture). */
  basisNote: string;
  /** Round trips and latency per scenario when the run has an emulated path; empty otherwise. */
  roundTrips: RoundTripRow[];
  /** Per group label: which of its scenarios charts leave out or pale (null when all completed). */
  groupStateNotes: Map<string, string | null>;
  /** The same across configurations, naming scenarios by id. */
  acrossStateNote: string | null;
  /** The regression gate's verdict on these results, when `check` judged them. */
  check: CheckSummary | null;
  /** The mean request's phases per measured scenario id (absent where no request succeeded). */
  requestPhases: ReadonlyMap<string, RequestPhases>;
  /** Per configuration on an emulated network: medians and the round-trip model per API call and mode. */
  networkLatency: NetworkLatencyPanel[];
  /** Each resumed scenario that sends more upstream than fresh in the steady state, with why (issue 12). */
  resumedUpstream: ResumedUpstream[];
  /** The server's cost per scenario (runs made since issue 11; empty for older results). */
  server: ServerCostRow[];
  /** The figures scaled to `--fleet-size` agents: derived, not measured. */
  fleetScale: FleetScaleRow[];
  /** What the savings depend on: the primary configuration's model from measured figures, with the group it
   * belongs to (issue 12); null when the results carry none (older results, no capture). */
  sensitivity: SensitivityPanel | null;
}

/**
 * Why resumption costs upstream bytes: each connection still opens, and its ClientHello carries the session
 * ticket (TLS 1.3 PSK identity, TLS 1.2 SessionTicket extension). Bytes per connection are the steady state's
 * measured connection overhead, from the capture.
 */
export interface ResumedUpstream {
  id: string;
  upSavedPct: number;
  connectionsPerMinute: number;
  upWireBytesPerConnection: { resumed: number; fresh: number };
  upHandshakeBytesPerConnection: { resumed: number; fresh: number };
}

/** Builds the model of a run's reports. */
export function buildReportModel(results: Results, check: CheckSummary | null = null): ReportModel {
  const groups = groupScenarios(results);
  return {
    results,
    groups,
    answer: headlineAnswer(groups),
    headline: headlineRows(results),
    basisNote: basisNote(results),
    roundTrips: roundTripRows(results),
    groupStateNotes: new Map(groups.map((g) => [g.label, stateNote(g.scenarios, (s) => s.spec.mode)])),
    acrossStateNote: stateNote(results.scenarios, (s) => s.id),
    check,
    server: serverCostRows(results),
    fleetScale: fleetScaleRows(results),
    networkLatency: networkLatencyPanels(groups),
    requestPhases: new Map(
      results.scenarios.flatMap((s) => {
        const phases = s.state === 'failed' ? null : requestPhases(s);
        return phases === null ? [] : [[s.id, phases] as const];
      }),
    ),
    resumedUpstream: resumedUpstream(groups),
    sensitivity: sensitivityPanel(results, groups),
  };
}

function resumedUpstream(groups: readonly ScenarioGroup[]): ResumedUpstream[] {
  return groups.flatMap((g) => {
    const found = g.comparisons.resumed;
    const steady = found?.comparison.steady;
    const resumed = found?.candidate.steadyState;
    const fresh = found?.baseline.steadyState;
    if (found === undefined || steady === null || steady === undefined || resumed == null || fresh == null || steady.upSavedPct >= 0) return [];
    return [
      {
        id: found.candidate.id,
        upSavedPct: steady.upSavedPct,
        connectionsPerMinute: resumed.perEndpointMinute.connections,
        upWireBytesPerConnection: { resumed: resumed.connectionOverhead.upWireBytes, fresh: fresh.connectionOverhead.upWireBytes },
        upHandshakeBytesPerConnection: { resumed: resumed.connectionOverhead.upHandshakeBytes, fresh: fresh.connectionOverhead.upHandshakeBytes },
      },
    ];
  });
}
