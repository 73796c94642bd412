/**
 * The answer at the top of every report: one sentence per direction, from the primary configuration's
 * persistent-vs-fresh comparison (resumed-vs-fresh when persistent was not run or failed).
 */
import type { Comparison, Direction, Mode } from '../model/index.ts';
import { formatBytes, formatPct } from './format.ts';
import type { GroupComparison, MeasuredScenario, ScenarioGroup } from './groups.ts';

/** The answer, as numbers and as the sentences every report prints. */
export interface HeadlineAnswer {
  comparison: Comparison;
  baseline: MeasuredScenario;
  candidate: MeasuredScenario;
  /** The configuration the comparison comes from. */
  group: ScenarioGroup;
  /** E.g. `Reusing connections saved 71% of downstream bytes: 41.2 kB → 11.9 kB per endpoint-minute`. */
  down: string;
  up: string;
  /** Which comparison and what the bytes count, e.g. `TLS 1.3, RSA-2048 chain, …: persistent vs fresh, …`. */
  context: string;
}

/** What a mode does differently from `fresh`, as the subject of a sentence. */
export function changeSubject(mode: Mode): string {
  return mode === 'resumed' ? 'Resuming TLS sessions' : 'Reusing connections';
}

/** `saved 71% of downstream bytes`, or `cost 5% more upstream bytes` when the candidate sent more. */
export function savedPhrase(pct: number, what: string): string {
  const rounded = Math.round(pct);
  if (rounded >= 0) return `saved ${formatPct(rounded, 0)} of ${what}`;
  return `cost ${formatPct(-rounded, 0)} more ${what}`;
}

/** Per endpoint-minute bytes of a direction on the comparison's basis (the steady state's when `steady`). */
export function basisBytes(s: MeasuredScenario, direction: Direction, basis: Comparison['basis'], steady = false): number {
  const st = s.steadyState?.perEndpointMinute;
  if (steady && st !== undefined) return direction === 'up' ? st.upWireBytes : st.downWireBytes;
  const p = s.perEndpointMinute;
  if (basis === 'wire') {
    const wire = direction === 'up' ? p.upWireBytes : p.downWireBytes;
    if (wire !== null) return wire;
  }
  return direction === 'up' ? p.upTcpPayloadBytes : p.downTcpPayloadBytes;
}

/** The comparison a group's answer comes from: persistent against fresh, else resumed against fresh. */
export function answerComparison(group: ScenarioGroup): GroupComparison | undefined {
  return group.comparisons.persistent ?? group.comparisons.resumed;
}

/** The answer, or null when the run has no comparison (no fresh scenario, or every candidate failed). */
export function headlineAnswer(groups: readonly ScenarioGroup[]): HeadlineAnswer | null {
  const group = groups.find((g) => g.primary);
  if (group === undefined) return null;
  const found = answerComparison(group);
  if (found === undefined) return null;
  const { comparison, baseline, candidate } = found;
  const bytesWord = comparison.basis === 'wire' ? 'bytes' : 'TCP payload bytes';
  // The steady state is what an agent running for days sees; the whole run divides start-up by its length.
  const steady = comparison.steady;
  const sentence = (direction: Direction) => {
    const pct = steady === null ? (direction === 'up' ? comparison.upSavedPct : comparison.downSavedPct) : direction === 'up' ? steady.upSavedPct : steady.downSavedPct;
    const what = `${direction === 'up' ? 'upstream' : 'downstream'} ${bytesWord}`;
    const before = formatBytes(basisBytes(baseline, direction, comparison.basis, steady !== null));
    const after = formatBytes(basisBytes(candidate, direction, comparison.basis, steady !== null));
    return `${changeSubject(candidate.spec.mode)} ${savedPhrase(pct, what)}: ${before} → ${after} per endpoint-minute`;
  };
  const basis =
    comparison.basis === 'wire'
      ? 'bytes on the wire (link, IP and TCP headers included)'
      : 'TCP payload bytes from socket counters (run without capture)';
  const invalid = [baseline, candidate].filter((s) => s.state === 'invalid').map((s) => s.id);
  return {
    comparison,
    baseline,
    candidate,
    group,
    down: sentence('down'),
    up: sentence('up'),
    context:
      `${group.fullLabel}: ${candidate.spec.mode} vs fresh, ${basis} per endpoint per virtual minute` +
      (steady === null
        ? ''
        : `, steady state (start-up left out; whole run: ${formatPct(comparison.upSavedPct, 0)} up, ${formatPct(comparison.downSavedPct, 0)} down saved)`) +
      (invalid.length > 0 ? `; measured in invalid scenarios (${invalid.join(', ')}), see below` : ''),
  };
}
