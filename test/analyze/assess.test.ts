/**
 * The assessment's reconciliation of the client's socket counters with the capture, connection by connection.
 * The numbers are those of a real `persistent/tls1.2/ecdsa-p256/loopback/nginx` run of the full suite that was
 * reported invalid ("down 594594 vs 594625"): nginx's idle timeout sent its 31-byte close_notify as the client
 * closed the config channel's connection at the end of the scenario; the alert reached the client's kernel
 * unread, so the close sent a RST and the socket counter never saw those 31 bytes.
 */
import { describe, expect, it } from 'vitest';
import { assessScenario, reconcileConnections } from '../../bench/analyze/assess.ts';
import { emptyTrafficCounters, type AgentRequest, type AnalyzeSummary, type RequestOutcome, type CapturedStream, type ScenarioObservations, type ScenarioSpec, type SocketRecord } from '../../bench/model/index.ts';
import { emptyRequestCounts } from '../../bench/serve/protocol.ts';

const spec: ScenarioSpec = {
  id: 'persistent/tls1.2/ecdsa-p256/loopback/nginx',
  mode: 'persistent',
  tls: 'tls1.2',
  cert: 'ecdsa-p256',
  network: 'loopback',
  link: null,
  server: 'nginx',
  workload: 'osquery-default',
  endpoints: 4,
  virtualMinutes: 10,
  timeCompression: 60,
  sessionTimeoutVirtualSeconds: 3600,
  serverIdleTimeoutVirtualSeconds: 75,
  sessionTickets: true,
  seed: 1,
};

const RERUN = 'npx tls-reuse-bench run --modes persistent --tls 1.2 --server nginx --cert ecdsa-p256 --endpoints 4 --virtual-minutes 10 --time-compression 60';

/** Two of the run's connections: the config channel's (reset at the end) and a logger's (closed with a FIN). */
const streams: CapturedStream[] = [
  { clientPort: 44424, endedByReset: true, up: 2805, down: 112589 },
  { clientPort: 44442, endedByReset: false, up: 186117, down: 28908 },
];

function observations(sockets: SocketRecord[], captured: CapturedStream[], more: Partial<ScenarioObservations> = {}): ScenarioObservations {
  const total = (d: 'up' | 'down') => ({ ...emptyTrafficCounters(), tcpPayloadBytes: captured.reduce((a, s) => a + s[d], 0) });
  const analysis = {
    total: { up: total('up'), down: total('down'), connections: captured.length, fullHandshakes: captured.length, resumedHandshakes: 0, requests: 0 },
    warnings: [],
  } as unknown as AnalyzeSummary;
  const stats = { requests: emptyRequestCounts(), notFound: 0, badRequests: 0, cpuUserMs: 0, cpuSystemMs: 0, connections: 0, handshakes: { full: 0, resumed: 0 } };
  return {
    scheduledRequests: 0,
    outcomes: [],
    latency: [],
    socketBytes: { up: sockets.reduce((a, s) => a + s.bytes.up, 0), down: sockets.reduce((a, s) => a + s.bytes.down, 0) },
    clientConnections: { opened: sockets.length, sessionResumed: 0 },
    sockets,
    capturedStreams: captured,
    rerunCommand: RERUN,
    analysis,
    tcpdump: { packetsCaptured: 100, packetsReceivedByFilter: 100, packetsDroppedByKernel: 0, packetsDroppedByInterface: 0 },
    serverBefore: stats,
    serverAfter: stats,
    timeWait: { client: 0, server: 0 },
    files: { pcap: 'capture.pcap', keylog: 'keylog.txt' },
    realDurationMs: 1000,
    link: null,
    capturedConnections: [],
    longRunSchedule: null,
    ...more,
  };
}

/** A successful log request of agent 0 at `atVirtualMs`. */
function logged(atVirtualMs: number, retried = false): RequestOutcome {
  const request: AgentRequest = { endpointIndex: 0, channel: 'logger', api: 'log', path: '/api/v1/osquery/log', atVirtualMs, headers: [], body: Buffer.alloc(0) };
  const phases = { tcpConnectMs: null, tlsHandshakeMs: null, firstByteMs: 1, totalMs: 1 };
  const socketBytes = { up: 100, down: 30 };
  return { state: 'ok', request, status: 200, responseBodyBytes: 2, socketBytes, responseFlightBytes: 30, connectionId: 0, newConnection: retried, sessionResumed: false, retried, phases };
}

describe('retries and replaced server processes', () => {
  const kinds = (o: ScenarioObservations) => assessScenario(spec, o).warnings.map((w) => w.kind);
  const stats = observations([], []).serverAfter;

  it('a retry the schedule does not explain is reported (a worker killed mid-scenario made 2 of them, silently)', () => {
    const o = observations([], [], { outcomes: [logged(0), logged(5_000, true), logged(10_000, true)] });
    const result = assessScenario(spec, o);
    expect(result.warnings.find((w) => w.kind === 'unexpected-retries')?.message).toBe(
      "2 requests were retried on a new connection after their kept-alive connection failed (closed or reset); the schedule explains 0 (a channel idle longer than the server's idle timeout)",
    );
  });

  it("a retry after the channel idled past the server's idle timeout is the agent's behaviour, not a warning", () => {
    expect(kinds(observations([], [], { outcomes: [logged(0), logged(100_000, true)] }))).not.toContain('unexpected-retries');
  });

  it('a server process that died and was replaced is a warning naming it', () => {
    const o = observations([], [], {
      serverBefore: { ...stats, processesReplaced: [] },
      serverAfter: { ...stats, processesReplaced: ['worker process 4242 exited on signal 9'] },
    });
    expect(assessScenario(spec, o).warnings.find((w) => w.kind === 'server-process-replaced')?.message).toMatch(
      /^nginx: worker process 4242 exited on signal 9 during the scenario and was replaced; the connections it held were cut/,
    );
  });
});

describe('a client behind its schedule', () => {
  const fleet = (p99Ms: number) => ({
    capturedAgents: 4, fleetSocketBytes: { up: 0, down: 0 }, clientThreads: 2, clientCpuMs: 0, connectionsClosedByServer: 0, driveMs: 1000,
    machineCpu: { busyMs: 0, cores: 2 }, sentLate: { p50Ms: 3, p99Ms, maxMs: p99Ms * 2 }, clientEventLoop: { main: 0.2, threads: [0.5, 0.6] },
    samples: [], heldSampleIndex: 0, steadyWindowMs: { from: 0, to: 1000 }, proxyConnects: null,
    pacing: { timeCompression: 1, maxRatePerSecond: 100, maxRateSource: 'default' as const, requestsPerSecond: 1, reason: '' }, fleetSize: 10_000,
  });

  it('is a warning with its lateness when 1% of requests went out over a second late', () => {
    const result = assessScenario(spec, observations([], [], { fleet: fleet(2500) }));
    expect(result.warnings.find((w) => w.kind === 'client-behind-schedule')?.message).toBe(
      'the client fell behind its schedule: 1% of requests went out more than 2.5 s after they were due (median 3 ms, worst 5.0 s, 2 client threads)',
    );
  });

  it("is no warning when a timer fired a few hundred ms late on a busy machine", () => {
    expect(assessScenario(spec, observations([], [], { fleet: fleet(900) })).warnings.map((w) => w.kind)).not.toContain('client-behind-schedule');
  });
});

describe('reconciliation', () => {
  it('counts the bytes a reset dropped unread on the client, and the scenario stays valid', () => {
    const sockets = [
      { localPort: 44424, bytes: { up: 2805, down: 112589 - 31 } },
      { localPort: 44442, bytes: { up: 186117, down: 28908 } },
    ];
    const result = assessScenario(spec, observations(sockets, streams));
    expect(result.state).toBe('completed');
    expect(result.capture.reconciled).toBe(true);
    expect(result.capture.reconciliation.down).toEqual({ socketBytes: 112589 - 31 + 28908, pcapStreamBytes: 112589 + 28908, discardedAtResetBytes: 31 });
    expect(result.capture.reconciliation.up.discardedAtResetBytes).toBe(0);
  });

  it('a difference on a connection that closed with a FIN is a mismatch, named with the port, which number is which, and the command that reruns it', () => {
    const sockets = [
      { localPort: 44424, bytes: { up: 2805, down: 112589 } },
      { localPort: 44442, bytes: { up: 186117, down: 28908 - 31 } },
    ];
    const result = assessScenario(spec, observations(sockets, streams));
    expect(result.state).toBe('invalid');
    const reason = result.state === 'invalid' ? result.invalidReasons.join('\n') : '';
    expect(reason).toContain('up: client sockets wrote 188,922 B, capture stream 188,922 B');
    expect(reason).toContain('down: client sockets read 141,466 B, capture stream 141,497 B');
    expect(reason).toContain('first from client port 44442 (capture minus socket: up 0 B, down +31 B)');
    expect(reason).toContain(`\`${RERUN}\` runs this scenario alone`);
  });

  it('a reset explains bytes in one direction only: more down in the capture, more up in the socket', () => {
    const reset: CapturedStream = { clientPort: 1000, endedByReset: true, up: 100, down: 100 };
    expect(reconcileConnections([{ localPort: 1000, bytes: { up: 120, down: 90 } }], [reset])).toEqual({ discarded: { up: 20, down: 10 }, mismatched: [] });
    // The capture holding more upstream bytes than the client wrote is no reset's doing.
    expect(reconcileConnections([{ localPort: 1000, bytes: { up: 90, down: 100 } }], [reset]).mismatched).toEqual([{ client: '1000', up: 10, down: 0 }]);
  });

  it('pairs a port used twice in order, and a captured connection no socket made is a mismatch', () => {
    const twice: CapturedStream[] = [
      { clientPort: 7, endedByReset: false, up: 1, down: 2 },
      { clientPort: 7, endedByReset: false, up: 3, down: 4 },
      { clientPort: 8, endedByReset: false, up: 5, down: 0 },
    ];
    const sockets = [
      { localPort: 7, bytes: { up: 1, down: 2 } },
      { localPort: 7, bytes: { up: 3, down: 4 } },
    ];
    expect(reconcileConnections(sockets, twice).mismatched).toEqual([{ client: '8', up: 5, down: 0 }]);
  });

  it('pairs by address and port when agents have their own addresses: two agents may use the same port', () => {
    const streams: CapturedStream[] = [
      { clientAddress: '127.1.0.2', clientPort: 7, endedByReset: false, up: 3, down: 4 },
      { clientAddress: '127.1.0.1', clientPort: 7, endedByReset: false, up: 1, down: 2 },
    ];
    const sockets = [
      { localAddress: '127.1.0.1', localPort: 7, bytes: { up: 1, down: 2 } },
      { localAddress: '127.1.0.2', localPort: 7, bytes: { up: 3, down: 4 } },
    ];
    expect(reconcileConnections(sockets, streams).mismatched).toEqual([]);
    const swapped = sockets.map((s, i) => ({ ...s, localAddress: sockets[1 - i]!.localAddress }));
    expect(reconcileConnections(swapped, streams).mismatched).toEqual([
      { client: '127.1.0.2:7', up: 2, down: 2 },
      { client: '127.1.0.1:7', up: -2, down: -2 },
    ]);
  });
});
