/** The server's cost from hand-made samples: peak and steady, memory per held connection, derived scaling. */
import { describe, expect, it } from 'vitest';
import { atFleetScale, fleetResult, serverCost } from '../../bench/analyze/fleet.ts';
import type { AgentServerStats, FleetObservations, ScenarioObservations, ScenarioSpec, ServerSample } from '../../bench/model/index.ts';

const spec: ScenarioSpec = {
  id: 'persistent/tls1.2/rsa2048/loopback/nginx', mode: 'persistent', tls: 'tls1.2', cert: 'rsa2048', network: 'loopback',
  link: null, server: 'nginx', workload: 'w', endpoints: 100, virtualMinutes: 2, timeCompression: 2, sessionTimeoutVirtualSeconds: 3600,
  serverIdleTimeoutVirtualSeconds: 75, sessionTickets: true, seed: 1,
};

const stats = (requests: number, cpuMs: number, full: number): AgentServerStats => ({
  requests: { enroll: 0, config: 0, log: requests, distributed_read: 0, distributed_write: 0 },
  notFound: 0, badRequests: 0, cpuUserMs: cpuMs, cpuSystemMs: 0, connections: full, handshakes: { full, resumed: 0 },
});

const sample = (atMs: number, rss: number, established: number, tw: number): ServerSample => ({
  atMs, cpuMs: 0, rssBytes: rss, established: { server: established, client: established }, timeWait: { server: 0, client: tw },
});

/** Observations of a 40 s drive of 10 captured agents, with `samples` from the server. */
function fleetObservations(samples: ServerSample[] = []): FleetObservations {
  return {
    capturedAgents: 10, fleetSocketBytes: { up: 0, down: 0 }, clientThreads: 1, clientCpuMs: 20_000, connectionsClosedByServer: 3, driveMs: 40_000,
    machineCpu: { busyMs: 60_000, cores: 2 }, sentLate: { p50Ms: 1, p99Ms: 20, maxMs: 40 }, clientEventLoop: { main: 0.1, threads: [] },
    samples, heldSampleIndex: 4, steadyWindowMs: { from: 15_000, to: 35_000 }, proxyConnects: null,
    pacing: { timeCompression: 2, maxRatePerSecond: 250, maxRateSource: 'default', requestsPerSecond: 50, reason: '' }, fleetSize: 10_000,
  };
}

describe('serverCost', () => {
  const samples = [sample(0, 10_000_000, 0, 0), sample(10_000, 11_000_000, 300, 5), sample(20_000, 12_000_000, 380, 7), sample(30_000, 12_400_000, 400, 9), sample(40_000, 12_500_000, 410, 9), sample(41_000, 12_500_000, 0, 400)];
  const fleet = fleetObservations(samples);
  const o = { serverBefore: stats(0, 0, 0), serverAfter: stats(3000, 600, 400), timeWait: { client: 400, server: 0 } } as unknown as ScenarioObservations;
  const cost = serverCost(spec, o, fleet, 3);

  it('divides CPU by requests and by endpoint-minutes, handshakes by the drive time', () => {
    expect(cost.cpuMsPerRequest).toBe(0.2);
    expect(cost.cpuMsPerEndpointMinute).toBe(3); // 600 ms / (100 agents × 2 min)
    expect(cost.handshakesPerSecond).toBe(10); // 400 in 40 s
  });

  it('takes the peak over every sample and the median over the steady window', () => {
    expect(cost.sockets.established.server).toEqual({ peak: 410, steady: 390 }); // median of 380 and 400
    expect(cost.sockets.timeWait.client).toEqual({ peak: 400, steady: 8 });
  });

  it('takes the drive up to the held sample when no sample fell in the steady window (a run of half a second)', () => {
    // Sampled before the first request, after the last response (held) and after the agents closed.
    const short = [sample(0, 10_000_000, 0, 0), sample(547, 10_100_000, 4, 0), sample(761, 10_100_000, 0, 4)];
    const c = serverCost(spec, o, { ...fleetObservations(short), heldSampleIndex: 1, steadyWindowMs: { from: 100, to: 500 } }, 0);
    expect(c.sockets.established.server).toEqual({ peak: 4, steady: 4 });
    expect(c.sockets.timeWait.client).toEqual({ peak: 4, steady: 0 });
  });

  it('charges the memory held with the connections to each held connection', () => {
    expect(cost.memory.heldConnections).toBe(410);
    expect(cost.memory.bytesPerHeldConnection).toBeCloseTo(2_500_000 / 410, 9);
    expect(cost.idleReconnects).toBe(3);
    expect(cost.timeWait.perEndpointMinute).toEqual({ client: 2, server: 0 });
  });

  it('scales to a fleet, labelled derived', () => {
    const p = { upWireBytes: 1000, downWireBytes: 2000, upTcpPayloadBytes: 0, downTcpPayloadBytes: 0, upHandshakeBytes: 0, downHandshakeBytes: 0, connections: 0.6, fullHandshakes: 0.6, resumedHandshakes: 0, requests: 15, timeWait: 2 };
    const scaled = atFleetScale(10_000, spec, p, null, cost);
    expect(scaled.derived).toBe(true);
    expect(scaled.upWireBytesPerDay).toBe(1000 * 10_000 * 1440);
    expect(scaled.connectionsPerSecond).toBe(100); // 0.6 × 10,000 / 60
    expect(scaled.timeWaitClient).toBe(20_000); // 2 per agent-minute held for one minute
    expect(scaled.serverCores).toBe(0.5); // 3 ms × 10,000 / 60,000 ms
    // The median established through the steady part (380 and 400 at 20 s and 30 s), per agent, × 10,000.
    expect(cost.sockets.established.server.steady).toBe(390);
    expect(scaled.heldConnections).toBe(39_000);
    // A mode that closes after each request holds none between requests, whatever was in flight.
    expect(atFleetScale(10_000, { ...spec, mode: 'fresh' }, p, null, cost).heldConnections).toBe(0);
  });

  it("scales the steady state when the run has one: start-up connections are not a fleet's rate", () => {
    const whole = { upWireBytes: 1000, downWireBytes: 2000, upTcpPayloadBytes: 0, downTcpPayloadBytes: 0, upHandshakeBytes: 0, downHandshakeBytes: 0, connections: 2, fullHandshakes: 2, resumedHandshakes: 0, requests: 15, timeWait: 2 };
    const steady = { ...whole, upWireBytes: 900, connections: 0.05, fullHandshakes: 0, resumedHandshakes: 0.05, timeWait: 0.05 };
    const scaled = atFleetScale(10_000, spec, whole, steady, cost);
    expect(scaled.upWireBytesPerDay).toBe(900 * 10_000 * 1440);
    expect(scaled.connectionsPerSecond).toBeCloseTo((0.05 * 10_000) / 60, 9);
    expect(scaled.timeWaitClient).toBeCloseTo(2 * (0.05 / 2) * 10_000, 9);
    expect(scaled.how).toContain('steady-state');
  });
});

describe('fleetResult', () => {
  it('turns CPU ms over the drive into cores busy per side and for the whole machine, and keeps the lateness', () => {
    const f = { ...fleetObservations(), clientCpuMs: 30_000, machineCpu: { busyMs: 70_000, cores: 2 }, sentLate: { p50Ms: 2, p99Ms: 1500, maxMs: 4000 } };
    const o = { outcomes: [], serverBefore: stats(0, 1000, 0), serverAfter: stats(3000, 21_000, 400) } as unknown as ScenarioObservations;
    const r = fleetResult(spec, o, f, 3000);
    expect(r.driveMs).toBe(40_000);
    // 30 s of client CPU, 20 s of server CPU and 70 s of the machine's over a 40 s drive.
    expect(r.coresBusy).toEqual({ client: 0.75, server: 0.5, machine: 1.75, of: 2 });
    expect(r.sentLate).toEqual({ p50Ms: 2, p99Ms: 1500, maxMs: 4000 });
    expect(r.clientEventLoop).toEqual({ main: 0.1, threads: [] });
    expect(r.clientCpuMsPerRequest).toBe(10);
  });
});
