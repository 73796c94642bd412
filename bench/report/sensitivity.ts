/**
 * The sensitivity panel of the report model (issue 12): the results' model of what the savings depend on,
 * for the configuration the answer comes from, beside what that configuration measured. Read from the
 * results, never recomputed here (bench/analyze/sensitivity.ts made it).
 */
import type { Results, SensitivityCurve } from '../model/index.ts';
import type { ScenarioGroup } from './groups.ts';

/** A curve and the measured savings at the run's own point. */
export interface SensitivityPanel {
  /** The group (configuration) the curve belongs to. */
  group: ScenarioGroup;
  curve: SensitivityCurve;
  /** The run's steady-state savings against fresh, by mode (where the curve must pass). */
  measured: { persistent: { upSavedPct: number; downSavedPct: number } | null; resumed: { upSavedPct: number; downSavedPct: number } | null };
}

/** The panel of the primary configuration (else the first with a curve); null when the results have none. */
export function sensitivityPanel(results: Results, groups: readonly ScenarioGroup[]): SensitivityPanel | null {
  const curves = results.sensitivity ?? [];
  const ofGroup = (g: ScenarioGroup) => curves.find((c) => g.scenarios.some((s) => s.id === c.baseline));
  const group = [...groups.filter((g) => g.primary), ...groups].find((g) => ofGroup(g) !== undefined);
  if (group === undefined) return null;
  const steady = (mode: 'persistent' | 'resumed') => {
    const s = group.comparisons[mode]?.comparison.steady;
    return s === null || s === undefined ? null : { upSavedPct: s.upSavedPct, downSavedPct: s.downSavedPct };
  };
  return { group, curve: ofGroup(group)!, measured: { persistent: steady('persistent'), resumed: steady('resumed') } };
}
