/**
 * Turns the timed runs into the side-by-side table and the verdict against issue 2's targets: analyze at
 * least 15x faster than tshark on the same file, and analyze's peak RSS under 200 MB.
 */
import { textTable } from '../../bench/report/format.ts';
import { formatMiB, type ToolResult } from './tools.ts';

/** analyze must be at least this many times faster than tshark. */
export const TARGET_SPEEDUP = 15;
/** analyze's peak resident memory must stay under this, in bytes (200 MB, decimal). */
export const TARGET_PEAK_RSS_BYTES = 200e6;

/** One tool's figures over its runs. */
interface ToolFigures {
  medianSeconds: number;
  /** The largest peak over the runs: the target is about the worst case. */
  peakRssBytes: number | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function figures(result: ToolResult): ToolFigures | null {
  if (result.state !== 'completed' || result.runs.length === 0) return null;
  const peaks = result.runs.map((run) => run.peakRssBytes).filter((peak): peak is number => peak !== null);
  return {
    medianSeconds: median(result.runs.map((run) => run.wallSeconds)),
    peakRssBytes: peaks.length === 0 ? null : Math.max(...peaks),
  };
}

/** The printed table, the verdict lines, and whether both targets are met. */
export interface Verdict {
  table: string;
  notes: string[];
  lines: string[];
  met: boolean;
}

/** Builds the table (one row per tool) and the verdict from the tools' results on a file of `fileBytes` and `packets`. */
export function judge(results: ToolResult[], fileBytes: number, packets: number): Verdict {
  const byTool = new Map(results.map((result) => [result.tool, figures(result)]));
  const tshark = byTool.get('tshark') ?? null;
  const rows = results.map((result) => {
    const figure = byTool.get(result.tool) ?? null;
    if (figure === null) {
      const why = result.state === 'skipped' ? `skipped: ${result.reason}` : result.state === 'failed' ? 'failed (see note)' : 'no runs';
      return [label(result.tool), String(result.state === 'skipped' ? 0 : result.runs.length), why, '', '', '', ''];
    }
    const speedup = tshark === null ? null : tshark.medianSeconds / figure.medianSeconds;
    return [
      label(result.tool),
      String(result.state === 'skipped' ? 0 : result.runs.length),
      figure.medianSeconds.toFixed(2),
      formatMiB(figure.peakRssBytes),
      (fileBytes / 1e6 / figure.medianSeconds).toFixed(1),
      Math.round(packets / figure.medianSeconds).toLocaleString('en-US'),
      result.tool === 'tshark' ? '1.0x (reference)' : speedup === null ? '—' : relative(speedup),
    ];
  });
  const table = textTable(
    ['tool', 'runs', 'median s', 'peak RSS MiB', 'MB/s', 'packets/s', 'vs tshark'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const notes = results.flatMap((result) => {
    if (result.state === 'failed') return [`${result.tool} failed: ${result.error}`];
    if (result.state === 'completed' && result.note !== null) return [`${result.tool} ${result.note}`];
    return [];
  });

  const analyze = byTool.get('analyze') ?? null;
  const lines: string[] = [];
  let speedMet = false;
  if (analyze === null) lines.push(`speed:    analyze did not complete: target not met`);
  else if (tshark === null) lines.push(`speed:    no tshark figure to compare with: target not checked, so not met`);
  else {
    const speedup = tshark.medianSeconds / analyze.medianSeconds;
    speedMet = speedup >= TARGET_SPEEDUP;
    lines.push(`speed:    analyze --json is ${relative(speedup)} than tshark (target >= ${TARGET_SPEEDUP}x faster): ${speedMet ? 'met' : 'NOT met'}`);
  }
  let memoryMet = false;
  if (analyze === null || analyze.peakRssBytes === null) lines.push(`memory:   no peak RSS reading for analyze: target not met`);
  else {
    memoryMet = analyze.peakRssBytes < TARGET_PEAK_RSS_BYTES;
    lines.push(
      `memory:   analyze peak RSS ${(analyze.peakRssBytes / 1e6).toFixed(1)} MB (${formatMiB(analyze.peakRssBytes)} MiB), ` +
        `target < ${TARGET_PEAK_RSS_BYTES / 1e6} MB: ${memoryMet ? 'met' : 'NOT met'}`,
    );
  }
  const met = speedMet && memoryMet;
  lines.push(`verdict:  ${met ? 'both targets met' : 'targets NOT met'}`);
  return { table, notes, lines, met };
}

/** A tool's name in the table: the judged run of analyze is the one that writes every connection's JSON. */
function label(tool: ToolResult['tool']): string {
  return tool === 'analyze' ? 'analyze --json' : tool;
}

/** `12.3x faster` or `2.1x slower` than the reference. */
function relative(speedup: number): string {
  return speedup >= 1 ? `${speedup.toFixed(1)}x faster` : `${(1 / speedup).toFixed(1)}x slower`;
}
