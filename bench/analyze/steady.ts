/**
 * The steady state of a scenario (issue 12): a run's traffic split into one-time traffic (enroll, each
 * channel's first connection) and what an agent keeps sending once it runs, per endpoint-minute. A short run
 * divides the same start-up over fewer minutes, so whole-run figures move with its length; these do not.
 *
 * Each captured connection's bytes are its requests' exchanges plus its overhead: its handshake and alert
 * records, and the headers of the frames of its opening (before the first application data: TCP's and TLS's
 * handshakes) and its closing (from the first FIN or RST). Frames that carry records of both kinds (a TLS
 * 1.3 session ticket after the first request) leave their header in the exchange. The steady state is every non-enroll request's exchange plus the steady connections, each at
 * the mean overhead of the connections a running agent opens. Pure: no I/O.
 */
import type {
  CapturedConnection,
  ConnectionOverhead,
  Direction,
  OneTimeTraffic,
  ScenarioSpec,
  ScheduledInstant,
  SteadyConnections,
  SteadyState,
} from '../model/index.ts';

/** Overhead of one connection in one direction. */
interface DirectionOverhead {
  wireBytes: number;
  tcpPayloadBytes: number;
  handshakeBytes: number;
}

/** The longest window a persistent scenario's reconnects are derived over, virtual minutes (one day). */
const MAX_HORIZON_MINUTES = 24 * 60;
/** Periods past twice the session timeout, so the derivation sees at least one reconnect of each channel. */
const HORIZON_MARGIN_MINUTES = 5;

/**
 * Virtual minutes of schedule a persistent scenario's reconnects are derived from: the run, or long enough
 * for two session timeouts (each channel then reconnects at least once), whichever is longer, up to a day.
 */
export function derivationHorizonMinutes(spec: Pick<ScenarioSpec, 'virtualMinutes' | 'sessionTimeoutVirtualSeconds'>): number {
  const timeoutMinutes = spec.sessionTimeoutVirtualSeconds / 60;
  return Math.min(MAX_HORIZON_MINUTES, Math.max(spec.virtualMinutes, Math.ceil(2 * timeoutMinutes) + HORIZON_MARGIN_MINUTES));
}

/**
 * The steady state of a scenario from its captured connections; null when the run has no connection after
 * enroll to measure (no capture, or nothing but enroll).
 */
export function steadyState(
  spec: ScenarioSpec,
  connections: readonly CapturedConnection[],
  okRequests: { enroll: number; other: number },
  timeWaitSockets: number,
  longRunSchedule: { virtualMinutes: number; requests: readonly ScheduledInstant[] } | null,
): SteadyState | null {
  const endpointMinutes = spec.endpoints * spec.virtualMinutes;
  const enroll = connections.filter((c) => c.channel === 'enroll');
  const others = connections.filter((c) => c.channel !== 'enroll');
  if (others.length === 0) return null;
  const firsts = firstOfEachChannel(others);
  const repeats = others.filter((c) => !firsts.has(c));
  // A running agent opens connections like the run's later ones (resumed, not full); a run without any (a
  // persistent run shorter than its timeouts) has only its first connections to go by.
  const sample = repeats.length > 0 ? repeats : others;
  const overhead = meanOverhead(sample);

  const connectionsPerEndpointMinute = steadyConnections(spec, others.length, repeats.length, endpointMinutes, longRunSchedule);
  const rate = connectionsPerEndpointMinute.perEndpointMinute;
  const exchange = (dir: Direction, field: 'wireBytes' | 'tcpPayloadBytes') =>
    others.reduce((sum, c) => sum + c[dir][field] - connectionOverhead(c, dir)[field], 0) / endpointMinutes;
  const full = sample.filter((c) => c.handshake === 'full').length / sample.length;
  const resumed = sample.filter((c) => c.handshake === 'resumed').length / sample.length;

  // A first connection is one-time traffic as far as it costs more than the steady state's: all of it when
  // connections are reused (persistent), the full handshake's extra over a resumed one when each request
  // opens a connection.
  const perRequest = connectionsPerEndpointMinute.basis === 'measured';
  const steadyOverhead = (dir: Direction, field: 'wireBytes' | 'handshakeBytes') =>
    field === 'wireBytes' ? overhead[dir === 'up' ? 'upWireBytes' : 'downWireBytes'] : overhead[dir === 'up' ? 'upHandshakeBytes' : 'downHandshakeBytes'];
  const oneTimeOfFirsts = (dir: Direction, field: 'wireBytes' | 'handshakeBytes') =>
    [...firsts].reduce((sum, c) => sum + connectionOverhead(c, dir)[field] - (perRequest ? steadyOverhead(dir, field) : 0), 0);
  const sumEnroll = (dir: Direction, field: 'wireBytes' | 'handshake') =>
    enroll.reduce((sum, c) => sum + (field === 'wireBytes' ? c[dir].wireBytes : c[dir].tls.handshakeBytes), 0);
  const oneTime: OneTimeTraffic = {
    upWireBytes: (sumEnroll('up', 'wireBytes') + oneTimeOfFirsts('up', 'wireBytes')) / spec.endpoints,
    downWireBytes: (sumEnroll('down', 'wireBytes') + oneTimeOfFirsts('down', 'wireBytes')) / spec.endpoints,
    upHandshakeBytes: (sumEnroll('up', 'handshake') + oneTimeOfFirsts('up', 'handshakeBytes')) / spec.endpoints,
    downHandshakeBytes: (sumEnroll('down', 'handshake') + oneTimeOfFirsts('down', 'handshakeBytes')) / spec.endpoints,
    connections: (enroll.length + firsts.size) / spec.endpoints,
    requests: okRequests.enroll / spec.endpoints,
  };

  return {
    perEndpointMinute: {
      upWireBytes: exchange('up', 'wireBytes') + rate * overhead.upWireBytes,
      downWireBytes: exchange('down', 'wireBytes') + rate * overhead.downWireBytes,
      upTcpPayloadBytes: exchange('up', 'tcpPayloadBytes') + rate * overhead.upTcpPayloadBytes,
      downTcpPayloadBytes: exchange('down', 'tcpPayloadBytes') + rate * overhead.downTcpPayloadBytes,
      upHandshakeBytes: rate * overhead.upHandshakeBytes,
      downHandshakeBytes: rate * overhead.downHandshakeBytes,
      connections: rate,
      fullHandshakes: rate * full,
      resumedHandshakes: rate * resumed,
      requests: okRequests.other / endpointMinutes,
      timeWait: connections.length === 0 ? 0 : (rate * timeWaitSockets) / connections.length,
    },
    oneTimePerEndpoint: oneTime,
    connectionOverhead: overhead,
    connections: connectionsPerEndpointMinute,
  };
}

/** The earliest connection of each endpoint's channel. */
function firstOfEachChannel(connections: readonly CapturedConnection[]): Set<CapturedConnection> {
  const first = new Map<string, CapturedConnection>();
  for (const c of connections) {
    const key = `${c.endpointIndex ?? '?'}/${c.channel ?? '?'}`;
    const seen = first.get(key);
    if (seen === undefined || c.firstPacketMs < seen.firstPacketMs) first.set(key, c);
  }
  return new Set(first.values());
}

/**
 * What a connection costs beyond its requests in one direction. Its payload is every handshake and alert
 * record (TLS 1.3 session tickets after the client's first request and a close_notify included); its wire
 * bytes add the headers of the frames of its opening and closing phases. The frame that carried the first
 * application data is the request's, even when it also carried the client's Finished.
 */
export function connectionOverhead(c: CapturedConnection, dir: Direction): DirectionOverhead {
  const headers = (phase: { wireBytes: number; tcpPayloadBytes: number } | undefined) => (phase === undefined ? 0 : phase.wireBytes - phase.tcpPayloadBytes);
  const tls = c[dir].tls;
  const payload = tls.handshakeBytes + tls.alertBytes;
  return {
    wireBytes: headers(c.phases.setup?.[dir]) + headers(c.phases.teardown?.[dir]) + payload,
    tcpPayloadBytes: payload,
    handshakeBytes: tls.handshakeBytes,
  };
}

function meanOverhead(sample: readonly CapturedConnection[]): ConnectionOverhead {
  const mean = (dir: Direction, field: keyof DirectionOverhead) => sample.reduce((sum, c) => sum + connectionOverhead(c, dir)[field], 0) / sample.length;
  return {
    upWireBytes: mean('up', 'wireBytes'),
    downWireBytes: mean('down', 'wireBytes'),
    upTcpPayloadBytes: mean('up', 'tcpPayloadBytes'),
    downTcpPayloadBytes: mean('down', 'tcpPayloadBytes'),
    upHandshakeBytes: mean('up', 'handshakeBytes'),
    downHandshakeBytes: mean('down', 'handshakeBytes'),
    sampled: sample.length,
  };
}

/** Connections per endpoint-minute in the steady state: measured, or (persistent) derived from the schedule. */
function steadyConnections(
  spec: ScenarioSpec,
  nonEnrollConnections: number,
  repeats: number,
  endpointMinutes: number,
  longRunSchedule: { virtualMinutes: number; requests: readonly ScheduledInstant[] } | null,
): SteadyConnections {
  if (spec.mode !== 'persistent' || longRunSchedule === null) {
    return {
      basis: 'measured',
      perEndpointMinute: nonEnrollConnections / endpointMinutes,
      sessionTimeoutReconnectsPerEndpointMinute: null,
      idleReconnectsPerEndpointMinute: null,
      horizonVirtualMinutes: null,
      measuredRepeatConnections: repeats,
    };
  }
  const derived = persistentReconnects(longRunSchedule.requests, spec.sessionTimeoutVirtualSeconds * 1000, spec.serverIdleTimeoutVirtualSeconds * 1000);
  const perEndpoint = (x: number) => x / spec.endpoints;
  return {
    basis: 'derived',
    perEndpointMinute: perEndpoint(derived.sessionPerMinute + derived.idlePerMinute),
    sessionTimeoutReconnectsPerEndpointMinute: perEndpoint(derived.sessionPerMinute),
    idleReconnectsPerEndpointMinute: perEndpoint(derived.idlePerMinute),
    horizonVirtualMinutes: longRunSchedule.virtualMinutes,
    measuredRepeatConnections: repeats,
  };
}

/**
 * Reconnects per minute (summed over the schedule's endpoints) of persistent mode's channels, enroll left
 * out, replaying drive/client.ts's rule: a request that finds the session timeout (counted from the client's
 * last reset) expired still runs, the client is dropped after it and the next request opens a connection;
 * a request after a gap longer than the server's idle timeout finds the connection closed and opens one.
 * Each channel's rate is its reconnects over the time from its first connection to its last reconnect, so a
 * window that ends mid-period does not dilute it; a channel that never reconnects adds nothing.
 */
export function persistentReconnects(
  requests: readonly ScheduledInstant[],
  sessionTimeoutMs: number,
  idleTimeoutMs: number,
): { sessionPerMinute: number; idlePerMinute: number } {
  const byChannel = new Map<string, number[]>();
  for (const r of requests) {
    if (r.channel === 'enroll') continue;
    const key = `${r.endpointIndex}/${r.channel}`;
    const times = byChannel.get(key) ?? [];
    times.push(r.atVirtualMs);
    byChannel.set(key, times);
  }
  let sessionPerMinute = 0;
  let idlePerMinute = 0;
  for (const times of byChannel.values()) {
    times.sort((a, b) => a - b);
    let resetAt = times[0]!;
    let last = times[0]!;
    let dropped = false;
    let lastOpen = times[0]!;
    let session = 0;
    let idle = 0;
    for (const [i, at] of times.entries()) {
      if (i > 0) {
        if (dropped) {
          session++;
          lastOpen = at;
          dropped = false;
        } else if (idleTimeoutMs > 0 && at - last > idleTimeoutMs) {
          idle++;
          lastOpen = at;
        }
      }
      if (sessionTimeoutMs > 0 && at - resetAt > sessionTimeoutMs) {
        resetAt = at;
        dropped = true;
      }
      last = at;
    }
    const spanMinutes = (lastOpen - times[0]!) / 60_000;
    if (spanMinutes > 0) {
      sessionPerMinute += session / spanMinutes;
      idlePerMinute += idle / spanMinutes;
    }
  }
  return { sessionPerMinute, idlePerMinute };
}
