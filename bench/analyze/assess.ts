/**
 * The assessment of one live scenario: its raw observations (socket counters, the capture's analysis and
 * tcpdump's counts, the server's counters, request outcomes) → the scenario's result: traffic, figures per
 * endpoint-minute, reconciliation, latency statistics, warnings and validity. Pure: no I/O, no clock.
 */
import {
  MIN_LATENCY_SAMPLES,
  warning,
  type AgentServerStats,
  type CaptureHealth,
  type MeasuredScenario,
  type PerEndpointMinute,
  type CapturedStream,
  type SingleRun,
  type ScenarioObservations,
  type ScenarioSpec,
  type SocketBytes,
  type SocketRecord,
  type Warning,
} from '../model/index.ts';
import { atFleetScale, fleetResult, serverCost } from './fleet.ts';
import { latencyByApi, latencyPhases, pooledLatency } from './latency.ts';
import { steadyState } from './steady.ts';

/**
 * The client kept its schedule when 99% of its requests went out within this many real ms of their due time
 * (a timer fires a few ms late on a busy machine; a client short of CPU falls seconds behind).
 */
export const CLIENT_BEHIND_P99_MS = 1000;

/**
 * Turns what a scenario observed into its result: `completed`, or `invalid` with the reasons. `reference` is
 * the run's loopback scenario of the same configuration, the server-time term of an emulated path's
 * round-trip model (null on loopback, or when the run has none).
 */
export function assessScenario(spec: ScenarioSpec, o: ScenarioObservations, reference: MeasuredScenario | null = null): Exclude<SingleRun, { state: 'failed' }> {
  const ok = o.outcomes.filter((x) => x.state === 'ok');
  const failed = o.outcomes.length - ok.length;
  const capturedConnections = o.analysis?.total.connections ?? null;
  const timeWait = o.timeWait;
  const health = captureHealth(o);
  const perEndpointMinute = normalise(spec, o, {
    connections: capturedConnections ?? o.clientConnections.opened,
    requests: ok.length,
  });
  const latency = latencyByApi(spec, o.latency, reference);
  const latencyOutcomes = o.latency.flatMap((l) => l.outcomes);
  const server = serverUsage(o.serverBefore, o.serverAfter);

  const warnings: Warning[] = o.analysis === null ? [warning('no-capture', {})] : [...o.analysis.warnings];
  const few = Object.entries(latency).filter(([, l]) => l.total.samples < MIN_LATENCY_SAMPLES);
  if (few.length > 0) {
    warnings.push(warning('few-latency-samples', { min: MIN_LATENCY_SAMPLES, apis: few.map(([api, l]) => ({ api, samples: l.total.samples })) }));
  }

  if (o.link !== null && o.link.up.queueDrops + o.link.down.queueDrops > 0) {
    warnings.push(warning('link-queue-drops', { up: o.link.up.queueDrops, down: o.link.down.queueDrops, network: spec.network }));
  }
  const replaced = (o.serverAfter.processesReplaced ?? []).slice((o.serverBefore.processesReplaced ?? []).length);
  if (replaced.length > 0) warnings.push(warning('server-process-replaced', { server: spec.server, exits: replaced }));
  const retried = ok.filter((x) => x.retried).length;
  const expected = expectedRetries(spec, o.outcomes);
  if (retried > expected) warnings.push(warning('unexpected-retries', { retried, expected }));
  if (o.fleet !== undefined && o.fleet.sentLate.p99Ms > CLIENT_BEHIND_P99_MS) {
    warnings.push(warning('client-behind-schedule', { ...o.fleet.sentLate, clientThreads: o.fleet.clientThreads }));
  }

  const invalidReasons: string[] = [];
  if (health.droppedByKernel > 0) invalidReasons.push(`tcpdump reported ${health.droppedByKernel} packets dropped by the kernel`);
  if (health.reconciled === false) invalidReasons.push(mismatchReason(health, o));
  if (failed > 0) {
    const first = o.outcomes.find((x) => x.state === 'failed');
    invalidReasons.push(`${failed} of ${o.outcomes.length} requests failed (first: ${first?.state === 'failed' ? first.error : ''})`);
  }
  const latencyFailed = latencyOutcomes.filter((x) => x.state === 'failed');
  if (latencyFailed.length > 0) {
    const first = latencyFailed[0]!;
    invalidReasons.push(
      `${latencyFailed.length} of ${latencyOutcomes.length} latency-phase requests failed (first: ${first.state === 'failed' ? `${first.request.api}: ${first.error}` : ''})`,
    );
  }

  const steady = o.analysis === null ? null : sampledSteadyState(spec, o, ok);
  const f = o.fleet;
  const cost = f === undefined ? undefined : serverCost(spec, o, f, retried);
  const fleetFields =
    f === undefined || cost === undefined
      ? {}
      : { fleet: fleetResult(spec, o, f, ok.length), serverCost: cost, atFleetScale: atFleetScale(f.fleetSize, spec, perEndpointMinute, steady?.perEndpointMinute ?? null, cost) };

  const measurement = {
    traffic: o.analysis === null ? null : { up: o.analysis.total.up, down: o.analysis.total.down },
    perEndpointMinute,
    steadyState: steady,
    capture: health,
    requests: { scheduled: o.scheduledRequests, ok: ok.length, failed, retried },
    connections: { opened: o.clientConnections.opened, captured: capturedConnections, sessionResumed: o.clientConnections.sessionResumed },
    timeWait,
    latency,
    latencyAllCalls: pooledLatency(latencyOutcomes),
    latencyPhases: latencyPhases(latencyOutcomes, latency),
    server,
    timeline: o.analysis?.timeline ?? null,
    link: o.link,
    files: o.files,
    realDurationMs: o.realDurationMs,
    ...fleetFields,
  };
  if (invalidReasons.length > 0) return { id: spec.id, state: 'invalid', spec, warnings, invalidReasons, ...measurement };
  return { id: spec.id, state: 'completed', spec, warnings, ...measurement };
}

/**
 * The steady state of the captured agents: a fleet's sample (agents `0 .. capturedAgents-1`) or every agent.
 * Its connections are the sample's, so requests, the schedule and TIME_WAIT (the kernel's count covers the
 * whole fleet) are taken for the same agents: the sample's own requests and schedule, TIME_WAIT in proportion.
 */
function sampledSteadyState(spec: ScenarioSpec, o: ScenarioObservations, ok: ScenarioObservations['outcomes']) {
  const agents = o.fleet?.capturedAgents ?? spec.endpoints;
  const inSample = (endpointIndex: number) => endpointIndex < agents;
  const sampledOk = ok.filter((x) => inSample(x.request.endpointIndex));
  const okEnroll = sampledOk.filter((x) => x.request.api === 'enroll').length;
  const timeWaitSockets = ((o.timeWait.client + o.timeWait.server) * agents) / spec.endpoints;
  const schedule = o.longRunSchedule === null ? null : { ...o.longRunSchedule, requests: o.longRunSchedule.requests.filter((r) => inSample(r.endpointIndex)) };
  return steadyState({ ...spec, endpoints: agents }, o.capturedConnections, { enroll: okEnroll, other: sampledOk.length - okEnroll }, timeWaitSockets, schedule);
}

/**
 * Requests the schedule itself makes retry: in `persistent` mode, a request whose channel sat idle longer than
 * the server's idle timeout finds its connection closed by the server, writes onto it, and is retried once on a
 * new connection (the agent's behaviour, AGENT-FACTS.md). Any other retry is a connection failing that should
 * not have.
 */
export function expectedRetries(spec: ScenarioSpec, outcomes: ScenarioObservations['outcomes']): number {
  if (spec.mode !== 'persistent') return 0;
  const idleMs = spec.serverIdleTimeoutVirtualSeconds * 1000;
  const lastAt = new Map<string, number>();
  let expected = 0;
  for (const { request } of [...outcomes].sort((a, b) => a.request.atVirtualMs - b.request.atVirtualMs)) {
    const key = `${request.endpointIndex}/${request.channel}`;
    const last = lastAt.get(key);
    if (last !== undefined && request.atVirtualMs - last > idleMs) expected++;
    lastAt.set(key, request.atVirtualMs);
  }
  return expected;
}

/** Capture health, and the reconciliation of the client's socket counters with the pcap's stream bytes. */
function captureHealth(o: ScenarioObservations): CaptureHealth {
  const health = (reconciled: boolean | null, pcap: SocketBytes | null, discarded: SocketBytes | null): CaptureHealth => ({
    packets: o.tcpdump?.packetsCaptured ?? 0,
    droppedByKernel: o.tcpdump?.packetsDroppedByKernel ?? 0,
    reconciled,
    reconciliation: {
      up: { socketBytes: o.socketBytes.up, pcapStreamBytes: pcap?.up ?? null, ...(discarded === null ? {} : { discardedAtResetBytes: discarded.up }) },
      down: { socketBytes: o.socketBytes.down, pcapStreamBytes: pcap?.down ?? null, ...(discarded === null ? {} : { discardedAtResetBytes: discarded.down }) },
    },
  });
  if (o.analysis === null) return health(null, null, null);
  const t = o.analysis.total;
  const pcap = { up: t.up.tcpPayloadBytes - t.up.retransmittedBytes, down: t.down.tcpPayloadBytes - t.down.retransmittedBytes };
  const { discarded, mismatched } = reconcileConnections(o.sockets, o.capturedStreams ?? []);
  const reconciled =
    mismatched.length === 0 && o.socketBytes.up - discarded.up === pcap.up && o.socketBytes.down + discarded.down === pcap.down;
  return health(reconciled, pcap, discarded);
}

/** A connection whose socket counters and capture differ by more than a reset explains. */
interface Mismatch {
  /** `port`, or `address:port` with per-agent addresses. */
  client: string;
  /** Capture minus socket, per direction. */
  up: number;
  down: number;
}

/**
 * Pairs each client connection with the captured connection from the same client port (the k-th of a port with
 * the k-th: a port can be used again within a scenario) and compares their bytes. The only difference a
 * connection may show is one a reset explains: on a connection the capture saw end with a RST, the capture may
 * hold more downstream bytes than the client read (they reached its kernel, were never read, and the close
 * that found them unread sent the RST) and fewer upstream bytes than the client wrote (the reset dropped them
 * before they left). Anything else is a mismatch.
 */
export function reconcileConnections(sockets: SocketRecord[], streams: CapturedStream[]): { discarded: SocketBytes; mismatched: Mismatch[] } {
  const byEndpoint = new Map<string, CapturedStream[]>();
  for (const s of streams) {
    const key = clientEndpoint(s.clientAddress, s.clientPort);
    const list = byEndpoint.get(key);
    if (list === undefined) byEndpoint.set(key, [s]);
    else list.push(s);
  }
  const discarded: SocketBytes = { up: 0, down: 0 };
  const mismatched: Mismatch[] = [];
  for (const socket of sockets) {
    if (socket.localPort === 0) continue;
    const client = clientEndpoint(socket.localAddress, socket.localPort);
    const stream = byEndpoint.get(client)?.shift();
    const up = (stream?.up ?? 0) - socket.bytes.up;
    const down = (stream?.down ?? 0) - socket.bytes.down;
    if (up === 0 && down === 0) continue;
    if (stream?.endedByReset === true && up <= 0 && down >= 0) {
      discarded.up -= up;
      discarded.down += down;
    } else {
      mismatched.push({ client, up, down });
    }
  }
  // Captured connections no client socket accounts for: bytes the client never wrote or read.
  for (const [client, left] of byEndpoint) {
    for (const s of left) if (s.up !== 0 || s.down !== 0) mismatched.push({ client, up: s.up, down: s.down });
  }
  return { discarded, mismatched };
}

/** A client's end of a connection: its port, with its address when agents have their own. */
export function clientEndpoint(address: string | undefined, port: number): string {
  return address === undefined ? String(port) : `${address}:${port}`;
}

/** The invalid reason of a failed reconciliation: which number is which, the first connection that differs, and how to run the scenario again. */
function mismatchReason(health: CaptureHealth, o: ScenarioObservations): string {
  const b = (n: number) => `${n.toLocaleString('en-US')} B`;
  const side = (name: 'up' | 'down') => {
    const r = health.reconciliation[name];
    const verb = name === 'up' ? 'wrote' : 'read';
    const discarded = r.discardedAtResetBytes ?? 0;
    return `${name}: client sockets ${verb} ${b(r.socketBytes)}, capture stream ${b(r.pcapStreamBytes ?? 0)}${discarded > 0 ? ` (${b(discarded)} of it dropped by a reset)` : ''}`;
  };
  const { mismatched } = reconcileConnections(o.sockets, o.capturedStreams ?? []);
  const first = mismatched[0];
  const signed = (n: number) => `${n > 0 ? '+' : ''}${n.toLocaleString('en-US')} B`;
  const where =
    first === undefined
      ? ''
      : `; ${mismatched.length} connection${mismatched.length === 1 ? '' : 's'} differ, first from client ${first.client.includes(':') ? '' : 'port '}${first.client} (capture minus socket: up ${signed(first.up)}, down ${signed(first.down)})`;
  return `socket counters and the capture disagree: ${side('up')}; ${side('down')}${where}; the pcap is kept to inspect, and \`${o.rerunCommand}\` runs this scenario alone`;
}

/**
 * Traffic per endpoint per virtual minute: from the capture, or from socket counters without one. Capture
 * figures (bytes, connections, handshakes) divide by the captured agents (a fleet's sample), the client's
 * and the kernel's (requests, TIME_WAIT) by every agent.
 */
function normalise(spec: ScenarioSpec, o: ScenarioObservations, n: { connections: number; requests: number }): PerEndpointMinute {
  const sampled = o.analysis === null ? spec.endpoints : (o.fleet?.capturedAgents ?? spec.endpoints);
  const per = (x: number) => x / (sampled * spec.virtualMinutes);
  const perFleet = (x: number) => x / (spec.endpoints * spec.virtualMinutes);
  const total = o.analysis?.total;
  const resumed = o.clientConnections.sessionResumed;
  return {
    upWireBytes: total === undefined ? null : per(total.up.wireBytes),
    downWireBytes: total === undefined ? null : per(total.down.wireBytes),
    upTcpPayloadBytes: per(total?.up.tcpPayloadBytes ?? o.socketBytes.up),
    downTcpPayloadBytes: per(total?.down.tcpPayloadBytes ?? o.socketBytes.down),
    upHandshakeBytes: total === undefined ? null : per(total.up.tls.handshakeBytes),
    downHandshakeBytes: total === undefined ? null : per(total.down.tls.handshakeBytes),
    connections: per(n.connections),
    fullHandshakes: per(total === undefined ? n.connections - resumed : total.fullHandshakes),
    resumedHandshakes: per(total === undefined ? resumed : total.resumedHandshakes),
    requests: perFleet(n.requests),
    timeWait: perFleet(o.timeWait.client + o.timeWait.server),
  };
}

/** The server's CPU time and requests between two samples of its counters. */
function serverUsage(before: AgentServerStats, after: AgentServerStats): MeasuredScenario['server'] {
  const sum = (s: AgentServerStats) => Object.values(s.requests).reduce((a, b) => a + b, 0);
  const requests = sum(after) - sum(before);
  const cpuUserMs = after.cpuUserMs - before.cpuUserMs;
  const cpuSystemMs = after.cpuSystemMs - before.cpuSystemMs;
  return { cpuUserMs, cpuSystemMs, cpuMsPerRequest: requests > 0 ? (cpuUserMs + cpuSystemMs) / requests : 0, requests };
}
