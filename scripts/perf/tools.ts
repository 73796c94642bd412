/**
 * The readers timed on the same capture: the product (`tls-reuse-bench analyze --json`, the CLI a user runs,
 * judged against the target; and `analyze` with its terminal table, the same analysis without 30 MB of
 * JSON to write, for information), the peer (tshark extracting the same TLS record fields) and the floor of
 * a pcap-parser-based reader (pcap-parser iterating the file and nothing else). Results are data: a tool that
 * fails or is missing is a value, not an exception.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import type { Cleanup } from './cleanup.ts';
import { measureRun, type RunMeasurement } from './measure.ts';

/** Timed runs per tool; the median is reported (this shared machine varies by 15% from run to run: five runs give a steadier median than three). */
export const RUNS_PER_TOOL = 5;
/** A tshark run longer than this is not repeated: one run of a slow peer is precise enough for a ratio. */
export const TSHARK_REPEAT_LIMIT_SECONDS = 30;

/** The tools, in table order. */
export type ToolName = 'analyze' | 'analyze (table)' | 'tshark' | 'pcap-parser loop';

/** What became of one tool. */
export type ToolResult =
  | { tool: ToolName; state: 'completed'; runs: RunMeasurement[]; note: string | null }
  | { tool: ToolName; state: 'failed'; runs: RunMeasurement[]; error: string }
  | { tool: ToolName; state: 'skipped'; reason: string };

/** How to start one tool on the capture. */
interface ToolCommand {
  tool: ToolName;
  command: string;
  args: string[];
}

/**
 * The product, exactly as a user runs it: with `--json` (the judged run), or printing its terminal table
 * instead of every connection's JSON.
 */
export function analyzeCommand(repoRoot: string, file: string, output: 'json' | 'table' = 'json'): ToolCommand {
  const json = output === 'json';
  return {
    tool: json ? 'analyze' : 'analyze (table)',
    command: process.execPath,
    args: [join(repoRoot, 'bin/tls-reuse-bench.js'), 'analyze', file, ...(json ? ['--json'] : [])],
  };
}

function tsharkCommand(file: string, serverPort: number): ToolCommand {
  return {
    tool: 'tshark',
    command: 'tshark',
    args: ['-r', file, '-n', '-T', 'fields', '-e', 'frame.len', '-e', 'tls.record.content_type', '-e', 'tls.record.length', '-d', `tcp.port==${serverPort},tls`],
  };
}

function loopCommand(repoRoot: string, file: string): ToolCommand {
  return { tool: 'pcap-parser loop', command: process.execPath, args: [join(repoRoot, 'scripts/perf/pcap-parser-loop.cjs'), file] };
}

/** tshark's version line, or null when it is not installed. */
export async function tsharkVersion(): Promise<string | null> {
  const result = await execa('tshark', ['--version'], { reject: false, stdin: 'ignore' });
  if (result.failed) return null;
  return String(result.stdout).split('\n')[0]?.trim() ?? null;
}

/** A tool's timed runs so far, and whether it runs again. */
interface Progress {
  command: ToolCommand;
  runs: RunMeasurement[];
  error: string | null;
  note: string | null;
  repeat: boolean;
}

/**
 * Runs every tool `RUNS_PER_TOOL` times, round-robin (analyze, tshark, loop, analyze, ...) so that a slow
 * drift of the shared machine's load hits every tool alike. tshark runs once when its first run takes over
 * `TSHARK_REPEAT_LIMIT_SECONDS`. stdout goes to /dev/null except the loop's packet count, returned in
 * `loopPackets`. `tsharkPort` null skips tshark with `tsharkSkipReason`.
 */
export async function timeTools(options: {
  repoRoot: string;
  file: string;
  tsharkPort: number | null;
  tsharkSkipReason: string;
  cleanup: Cleanup;
  log: (line: string) => void;
}): Promise<{ results: ToolResult[]; loopPackets: number | null }> {
  const { repoRoot, file, cleanup, log } = options;
  const progress: Progress[] = [
    analyzeCommand(repoRoot, file),
    analyzeCommand(repoRoot, file, 'table'),
    ...(options.tsharkPort === null ? [] : [tsharkCommand(file, options.tsharkPort)]),
    loopCommand(repoRoot, file),
  ].map(
    (command) => ({ command, runs: [], error: null, note: null, repeat: true }),
  );
  let loopPackets: number | null = null;
  for (let round = 1; round <= RUNS_PER_TOOL; round += 1) {
    for (const entry of progress) {
      if (!entry.repeat) continue;
      const { tool, command, args } = entry.command;
      const wantsCount = tool === 'pcap-parser loop';
      try {
        const run = await measureRun(command, args, { cwd: repoRoot, stdout: wantsCount ? { to: 'string' } : { to: 'null' }, cleanup });
        entry.runs.push(run);
        if (wantsCount && run.stdout !== null) loopPackets = Number(run.stdout.trim());
        log(`  run ${round}/${RUNS_PER_TOOL} ${tool.padEnd(16)} ${run.wallSeconds.toFixed(2).padStart(7)} s  ${formatMiB(run.peakRssBytes).padStart(7)} MiB`);
        if (tool === 'tshark' && round === 1 && run.wallSeconds > TSHARK_REPEAT_LIMIT_SECONDS) {
          entry.note = `ran once: its first run took over ${TSHARK_REPEAT_LIMIT_SECONDS} s`;
          entry.repeat = false;
        }
      } catch (error) {
        entry.error = error instanceof Error ? error.message : String(error);
        entry.repeat = false;
        log(`  run ${round}/${RUNS_PER_TOOL} ${tool.padEnd(16)} failed: ${entry.error}`);
      }
    }
  }
  const results: ToolResult[] = progress.map(({ command, runs, error, note }) =>
    error === null ? { tool: command.tool, state: 'completed', runs, note } : { tool: command.tool, state: 'failed', runs, error },
  );
  if (options.tsharkPort === null) results.splice(2, 0, { tool: 'tshark', state: 'skipped', reason: options.tsharkSkipReason });
  return { results, loopPackets };
}

/** Bytes as MiB with one decimal, or `?` when unknown. */
export function formatMiB(bytes: number | null): string {
  return bytes === null ? '?' : (bytes / 2 ** 20).toFixed(1);
}
