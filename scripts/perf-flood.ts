/**
 * `npm run perf:flood -- [--connections N] [--per-second N]`: the bounded-memory check of issue 13.
 * Writes a SYN-flood capture (scripts/perf/syn-flood.ts; default 2.6 M half-open connections, 182 MB, 1,500
 * a second), then runs `analyze` (its table, and --json to a file) and tshark (the same fields as
 * perf:analyze) on it one after the other, printing each one's wall time and peak RSS side by side, and the
 * connection count analyze found. Exit 0 when analyze stays at or under 200 MB and counts every connection.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Cleanup } from './perf/cleanup.ts';
import { measureRun } from './perf/measure.ts';
import { writeSynFlood } from './perf/syn-flood.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const TARGET_RSS_BYTES = 200e6;

const { values } = parseArgs({ options: { connections: { type: 'string' }, 'per-second': { type: 'string' } } });
const connections = Number(values.connections ?? 2_600_000);
const perSecond = Number(values['per-second'] ?? 1_500);
if (!Number.isInteger(connections) || connections < 1 || !Number.isInteger(perSecond) || perSecond < 1) {
  process.stderr.write('error: --connections and --per-second take whole numbers above 0\n');
  process.exit(2);
}

const cleanup = new Cleanup();
const file = join(tmpdir(), `syn-flood-${connections}-${perSecond}.pcap`);
const jsonOut = join(tmpdir(), `syn-flood-${process.pid}.json`);
cleanup.add(() => rm(file, { force: true }));
cleanup.add(() => rm(jsonOut, { force: true }));
try {
  const bytes = writeSynFlood(file, connections, perSecond);
  process.stdout.write(`capture: ${(bytes / 1e6).toFixed(1)} MB, ${connections.toLocaleString('en-US')} half-open connections at ${perSecond}/s (${(connections / perSecond).toFixed(0)} s of capture)\n`);
  const bin = join(REPO_ROOT, 'bin/tls-reuse-bench.js');
  const runs: [string, string, string[], 'null' | 'file'][] = [
    ['analyze (table)', process.execPath, [bin, 'analyze', file, '--connections', '0'], 'null'],
    ['analyze --json', process.execPath, [bin, 'analyze', file, '--json'], 'file'],
    ['tshark', 'tshark', ['-r', file, '-n', '-T', 'fields', '-e', 'frame.len', '-e', 'tls.record.content_type', '-e', 'tls.record.length', '-d', 'tcp.port==443,tls'], 'null'],
  ];
  let met = true;
  process.stdout.write(`${'tool'.padEnd(16)} ${'wall'.padStart(8)}  ${'peak RSS'.padStart(10)}\n`);
  for (const [name, command, args, out] of runs) {
    let run;
    try {
      run = await measureRun(command, args, { cwd: REPO_ROOT, stdout: out === 'file' ? { to: 'file', path: jsonOut } : { to: 'null' }, cleanup });
    } catch (error) {
      // A peer that is missing or fails is reported, not fatal: the target is analyze's.
      process.stdout.write(`${name.padEnd(16)} failed: ${(error as Error).message.split('\n')[0]}\n`);
      if (name.startsWith('analyze')) met = false;
      continue;
    }
    const rss = run.peakRssBytes ?? Number.NaN;
    process.stdout.write(`${name.padEnd(16)} ${run.wallSeconds.toFixed(1).padStart(6)} s  ${(rss / 1e6).toFixed(1).padStart(7)} MB\n`);
    if (name.startsWith('analyze') && !(rss <= TARGET_RSS_BYTES)) met = false;
    if (out === 'file') {
      // The totals follow the connections at the end of the document: read its tail, not gigabytes of JSON.
      const { execa } = await import('execa');
      const tail = (await execa('tail', ['-c', '20000', jsonOut])).stdout;
      const counted = Number(/"total": \{[^]*?"connections": (\d+)/.exec(tail)?.[1]);
      process.stdout.write(`  analyze counted ${counted.toLocaleString('en-US')} connections opened (${counted === connections ? 'all' : 'NOT all'})\n`);
      if (counted !== connections) met = false;
      await rm(jsonOut, { force: true });
    }
  }
  process.stdout.write(`verdict: analyze ${met ? 'stays within 200 MB and counts every connection' : 'does NOT meet the target'}\n`);
  process.exitCode = met ? 0 : 1;
} finally {
  await cleanup.run();
}
