/**
 * The quick suite end to end, through the real command line: tcpdump around each scenario, every byte
 * reconciled with the client's socket counters, and the numbers the schedule implies.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { analyzeCapture } from '../../bench/analyze/capture.ts';
import { trafficInvariantViolations } from '../../bench/analyze/counters.ts';
import type { Results, ScenarioResult } from '../../bench/model/index.ts';
import { buildSchedule, loadWorkload } from '../../bench/workload/index.ts';
import { ROOT, cli, liveRunSkipReason, readResults } from './support.ts';
import { describeUnless } from '../support/skip.ts';

const skip = liveRunSkipReason();

describeUnless(skip, 'run --suite quick', () => {
  let dir: string;
  let results: Results;
  let exitCode: number | undefined;
  let stdout: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'trb-quick-'));
    const run = await cli(['run', '--suite', 'quick', '--out', dir]);
    exitCode = run.exitCode;
    stdout = run.stdout;
    if (run.exitCode !== 0) console.log(run.stdout, run.stderr);
    results = readResults(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const measured = (mode: string) => {
    const s = results.scenarios.find((x) => x.spec.mode === mode);
    if (s === undefined || s.state === 'failed') throw new Error(`${mode}: ${s?.state ?? 'missing'}`);
    return s as Exclude<ScenarioResult, { state: 'failed' }>;
  };

  it('exits 0 and ends with the headline table', () => {
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/scenario\s+up \/ min\s+down \/ min/);
    expect(stdout).toContain('persistent/tls1.3/rsa2048/loopback/node');
  });

  it('reconciles every byte with the socket counters and drops nothing', () => {
    expect(results.scenarios.map((s) => s.state)).toEqual(['completed', 'completed']);
    for (const mode of ['fresh', 'persistent']) {
      const s = measured(mode);
      expect(s.capture.droppedByKernel).toBe(0);
      expect(s.capture.reconciled).toBe(true);
      // Bytes a reset dropped (a close_notify arriving unread as the client closes) are on the wire, not in the socket.
      const { up, down } = s.capture.reconciliation;
      expect(up.pcapStreamBytes).toBe(up.socketBytes - up.discardedAtResetBytes!);
      expect(down.pcapStreamBytes).toBe(down.socketBytes + down.discardedAtResetBytes!);
      expect(trafficInvariantViolations(s.traffic!.up)).toEqual([]);
      expect(trafficInvariantViolations(s.traffic!.down)).toEqual([]);
    }
  });

  it('persistent sends fewer bytes than fresh in both directions', () => {
    const fresh = measured('fresh').perEndpointMinute;
    const persistent = measured('persistent').perEndpointMinute;
    expect(persistent.upWireBytes!).toBeLessThan(fresh.upWireBytes!);
    expect(persistent.downWireBytes!).toBeLessThan(fresh.downWireBytes!);
    const comparison = results.comparisons.find((c) => c.candidate === measured('persistent').id);
    expect(comparison?.baseline).toBe(measured('fresh').id);
    expect(comparison!.downSavedPct).toBeGreaterThan(50);
  });

  it('opens the connections the schedule implies', async () => {
    const spec = measured('fresh').spec;
    const schedule = buildSchedule(await loadWorkload(path.join(ROOT, 'fixtures/workloads/osquery-default.json')), spec);
    const channels = new Set(schedule.map((r) => `${r.endpointIndex}/${r.channel}`));
    const fresh = measured('fresh');
    const persistent = measured('persistent');
    expect(fresh.requests).toEqual({ scheduled: schedule.length, ok: schedule.length, failed: 0, retried: 0 });
    // fresh: one connection and one full handshake per request, closed by the client (TIME_WAIT on its side).
    expect(fresh.connections.captured).toBe(schedule.length);
    expect(fresh.connections.opened).toBe(schedule.length);
    expect(fresh.perEndpointMinute.fullHandshakes * spec.virtualMinutes).toBeCloseTo(schedule.length, 9);
    expect(fresh.timeWait).toEqual({ client: schedule.length, server: 0 });
    // persistent: one connection per (agent, channel): the 3600 s session timeout and the server's 75 s idle
    // timeout are both longer than any channel's interval in this workload.
    expect(persistent.connections.captured).toBe(channels.size);
    expect(persistent.timeWait).toEqual({ client: channels.size, server: 0 });
  });

  it('keeps every pcap and key log, and they re-analyze to the same traffic', async () => {
    for (const mode of ['fresh', 'persistent']) {
      const s = measured(mode);
      const pcap = path.join(dir, s.files.pcap!);
      const keylog = path.join(dir, s.files.keylog);
      expect(existsSync(pcap) && existsSync(keylog)).toBe(true);
      // The key log decrypts the capture: both are the owner's alone.
      expect(statSync(pcap).mode & 0o777).toBe(0o600);
      expect(statSync(keylog).mode & 0o777).toBe(0o600);
      const again = await analyzeCapture(pcap, { keyLogPath: keylog });
      expect(again.total.up).toEqual(s.traffic!.up);
      expect(again.total.down).toEqual(s.traffic!.down);
      expect(again.total.up.tls.exact && again.total.down.tls.exact).toBe(true);
    }
  });

  it('check against itself passes and puts the verdict into the run\'s summary.md', async () => {
    const result = await cli(['check', path.join(dir, 'results.json'), '--baseline', path.join(dir, 'results.json')]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toMatch(/^### Check: PASS$/m);
  });

  it('writes the reports', () => {
    for (const file of ['report.html', 'summary.md', 'charts/headline-tls1.3-rsa2048-loopback-node.png', 'charts/breakdown-tls1.3-rsa2048-loopback-node.png']) {
      expect(existsSync(path.join(dir, file)), file).toBe(true);
    }
  });
});
