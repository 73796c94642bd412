/**
 * A CI-sized fleet through the real command line (issue 11): a few hundred agents against nginx, a sample
 * of them captured in full. The run must stay valid (sampled reconciliation exact, no kernel drops), the
 * capture must hold exactly the sampled agents' own addresses (read back with tshark, not our reader), and
 * the server's side must be present and plausible: persistent holds more established sockets and leaves
 * fewer in TIME_WAIT than fresh.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeUnless } from '../support/skip.ts';
import { agentAddress } from '../../bench/drive/addresses.ts';
import type { MeasuredScenario, Results } from '../../bench/model/index.ts';
import { cli, liveRunSkipReason, readResults } from '../run/support.ts';

const skip = liveRunSkipReason();
const AGENTS = 200;
const SAMPLE = 20;

describeUnless(skip, `run: a fleet of ${AGENTS} agents against nginx, ${SAMPLE} captured`, () => {
  let dir: string;
  let results: Results;
  let exitCode: number | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'trb-fleet-'));
    const run = await cli(
      ['run', '--server', 'nginx', '--endpoints', String(AGENTS), '--capture-agents', String(SAMPLE), '--modes', 'fresh,persistent', '--tls', '1.2', '--cert', 'rsa2048', '--virtual-minutes', '2', '--out', dir],
      { timeout: 400_000 },
    );
    exitCode = run.exitCode;
    if (run.exitCode !== 0) console.log(run.stdout, run.stderr);
    results = readResults(dir);
  }, 420_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const scenario = (mode: string) => {
    const s = results.scenarios.find((x) => x.spec.mode === mode);
    if (s === undefined || s.state === 'failed') throw new Error(`${mode}: ${s?.state ?? 'missing'}`);
    return s as MeasuredScenario;
  };

  it('stays valid: the sample reconciles to the byte, no kernel drops, no failed request', () => {
    expect(exitCode).toBe(0);
    for (const mode of ['fresh', 'persistent']) {
      const s = scenario(mode);
      expect(s.state, mode).toBe('completed');
      expect(s.spec.captureAgents).toBe(SAMPLE);
      expect(s.fleet?.capturedAgents).toBe(SAMPLE);
      expect(s.capture.droppedByKernel).toBe(0);
      expect(s.capture.reconciled).toBe(true);
      expect(s.requests.failed).toBe(0);
      expect(s.fleet?.errors).toEqual({ failedRequests: 0, agentsWithErrors: 0, byPhase: {} });
      // The whole fleet's socket counters are larger than the sample's (every agent sends).
      expect(s.fleet!.socketBytes.up).toBeGreaterThan(s.capture.reconciliation.up.socketBytes * (AGENTS / SAMPLE / 2));
    }
  });

  it('captures exactly the sampled agents, each from its own address (read with tshark)', async () => {
    const s = scenario('fresh');
    const pcap = path.join(dir, s.files.pcap!);
    const syns = await execa('tshark', ['-r', pcap, '-Y', 'tcp.flags.syn == 1 && tcp.flags.ack == 0', '-T', 'fields', '-e', 'ip.src']);
    const sources = syns.stdout.split('\n').filter((l) => l !== '');
    expect(new Set(sources)).toEqual(new Set(Array.from({ length: SAMPLE }, (_, i) => agentAddress(i))));
    // Every SYN of the sample is a connection the capture counted.
    expect(sources.length).toBe(s.connections.captured);
  });

  it('measures the server: persistent holds more established sockets and leaves fewer in TIME_WAIT', () => {
    const fresh = scenario('fresh');
    const persistent = scenario('persistent');
    const f = fresh.serverCost!;
    const p = persistent.serverCost!;
    expect(p.sockets.established.server.steady).toBeGreaterThan(f.sockets.established.server.steady);
    // One kept-alive connection per agent and busy channel: at least the logger's, for every agent.
    expect(p.sockets.established.server.steady).toBeGreaterThanOrEqual(AGENTS);
    expect(p.timeWait.observed.client + p.timeWait.observed.server).toBeLessThan(f.timeWait.observed.client + f.timeWait.observed.server);
    // fresh: the agent closes first, so TIME_WAIT is on its side (nginx never closes first here).
    expect(f.timeWait.observed.client).toBeGreaterThan(AGENTS);
    expect(f.cpuMsPerRequest).toBeGreaterThan(p.cpuMsPerRequest);
    expect(f.handshakesPerSecond).toBeGreaterThan(p.handshakesPerSecond);
    expect(p.memory.heldConnections).toBeGreaterThanOrEqual(AGENTS);
    expect(p.memory.bytesPerHeldConnection).not.toBeNull();
    expect(persistent.atFleetScale?.derived).toBe(true);
    expect(persistent.atFleetScale!.connectionsPerSecond).toBeLessThan(fresh.atFleetScale!.connectionsPerSecond);
  });

  it('records why it ran at its pace', () => {
    const pacing = scenario('fresh').fleet!.pacing;
    expect(pacing.timeCompression).toBe(scenario('fresh').spec.timeCompression);
    expect(pacing.requestsPerSecond).toBeLessThanOrEqual(pacing.maxRatePerSecond);
    expect(pacing.reason).toMatch(/budget/);
  });
});
