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
  type SingleRun,
  type ScenarioObservations,
  type ScenarioSpec,
  type Warning,
} from '../model/index.ts';
import { latencyByApi, pooledLatency } from './latency.ts';
import { steadyState } from './steady.ts';

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

  const invalidReasons: string[] = [];
  if (health.droppedByKernel > 0) invalidReasons.push(`tcpdump reported ${health.droppedByKernel} packets dropped by the kernel`);
  if (health.reconciled === false) {
    const r = health.reconciliation;
    invalidReasons.push(
      `socket counters and the capture disagree: up ${r.up.socketBytes} vs ${r.up.pcapStreamBytes}, down ${r.down.socketBytes} vs ${r.down.pcapStreamBytes} bytes`,
    );
  }
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

  const okEnroll = ok.filter((x) => x.request.api === 'enroll').length;
  const steady =
    o.analysis === null
      ? null
      : steadyState(spec, o.capturedConnections, { enroll: okEnroll, other: ok.length - okEnroll }, timeWait.client + timeWait.server, o.longRunSchedule);
  const measurement = {
    traffic: o.analysis === null ? null : { up: o.analysis.total.up, down: o.analysis.total.down },
    perEndpointMinute,
    steadyState: steady,
    capture: health,
    requests: { scheduled: o.scheduledRequests, ok: ok.length, failed, retried: ok.filter((x) => x.retried).length },
    connections: { opened: o.clientConnections.opened, captured: capturedConnections, sessionResumed: o.clientConnections.sessionResumed },
    timeWait,
    latency,
    latencyAllCalls: pooledLatency(latencyOutcomes),
    server,
    timeline: o.analysis?.timeline ?? null,
    link: o.link,
    files: o.files,
    realDurationMs: o.realDurationMs,
  };
  if (invalidReasons.length > 0) return { id: spec.id, state: 'invalid', spec, warnings, invalidReasons, ...measurement };
  return { id: spec.id, state: 'completed', spec, warnings, ...measurement };
}

/** Capture health, and the reconciliation of the client's socket counters with the pcap's stream bytes. */
function captureHealth(o: ScenarioObservations): CaptureHealth {
  const stream = (d: 'up' | 'down') => (o.analysis === null ? null : o.analysis.total[d].tcpPayloadBytes - o.analysis.total[d].retransmittedBytes);
  const up = stream('up');
  const down = stream('down');
  return {
    packets: o.tcpdump?.packetsCaptured ?? 0,
    droppedByKernel: o.tcpdump?.packetsDroppedByKernel ?? 0,
    reconciled: o.analysis === null ? null : up === o.socketBytes.up && down === o.socketBytes.down,
    reconciliation: {
      up: { socketBytes: o.socketBytes.up, pcapStreamBytes: up },
      down: { socketBytes: o.socketBytes.down, pcapStreamBytes: down },
    },
  };
}

/** Traffic per endpoint per virtual minute: from the capture, or from socket counters without one. */
function normalise(spec: ScenarioSpec, o: ScenarioObservations, n: { connections: number; requests: number }): PerEndpointMinute {
  const per = (x: number) => x / (spec.endpoints * spec.virtualMinutes);
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
    requests: per(n.requests),
    timeWait: per(o.timeWait.client + o.timeWait.server),
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
