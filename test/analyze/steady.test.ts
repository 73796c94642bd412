/** The steady state's arithmetic on hand-made connections and schedules (numbers worked out by hand below). */
import { describe, expect, it } from 'vitest';
import { connectionOverhead, derivationHorizonMinutes, persistentReconnects, steadyState } from '../../bench/analyze/steady.ts';
import { spec as checkSpec } from '../check/results.ts';
import { emptyTrafficCounters, type CapturedConnection, type Channel, type ScenarioSpec, type ScheduledInstant } from '../../bench/model/index.ts';

/** The check tests' scenario, with its own length (the workload name is not read here). */
const spec = (mode: ScenarioSpec['mode'], virtualMinutes: number): ScenarioSpec => checkSpec(mode, { virtualMinutes });

/**
 * A connection of `channel`: up 1000 wire / 700 payload (of which 300 handshake), down 5000 / 4500 (4000
 * handshake); opening 4 frames up (300 payload) and 3 down (4000 payload), closing 2 frames each way.
 * Overhead: up 4×66 + 2×66 headers + 300 = 696 wire, down 3×66 + 2×66 + 4000 = 4330.
 */
function connection(channel: Channel, firstPacketMs: number, handshake: 'full' | 'resumed' = 'full'): CapturedConnection {
  const up = emptyTrafficCounters();
  const down = emptyTrafficCounters();
  Object.assign(up, { wireBytes: 1000, tcpPayloadBytes: 700 });
  Object.assign(down, { wireBytes: 5000, tcpPayloadBytes: 4500 });
  up.tls.handshakeBytes = 300;
  down.tls.handshakeBytes = 4000;
  return {
    channel,
    endpointIndex: 0,
    firstPacketMs,
    up,
    down,
    handshake,
    phases: {
      setup: {
        up: { frames: 4, wireBytes: 4 * 66 + 300, tcpPayloadBytes: 300, handshakeBytes: 300 },
        down: { frames: 3, wireBytes: 3 * 66 + 4000, tcpPayloadBytes: 4000, handshakeBytes: 4000 },
      },
      teardown: {
        up: { frames: 2, wireBytes: 2 * 66, tcpPayloadBytes: 0, handshakeBytes: 0 },
        down: { frames: 2, wireBytes: 2 * 66, tcpPayloadBytes: 0, handshakeBytes: 0 },
      },
    },
  };
}

describe('connectionOverhead', () => {
  it('is the handshake records plus the headers of the opening and closing frames', () => {
    expect(connectionOverhead(connection('config', 0), 'up')).toEqual({ wireBytes: 696, tcpPayloadBytes: 300, handshakeBytes: 300 });
    expect(connectionOverhead(connection('config', 0), 'down')).toEqual({ wireBytes: 4330, tcpPayloadBytes: 4000, handshakeBytes: 4000 });
  });
});

describe('persistentReconnects', () => {
  const every = (channel: Channel, periodS: number, minutes: number): ScheduledInstant[] =>
    Array.from({ length: Math.floor((minutes * 60) / periodS) }, (_, k) => ({ endpointIndex: 0, channel, atVirtualMs: k * periodS * 1000 }));

  it('reconnects once per session timeout and a period: the request that finds it expired still runs on the old client', () => {
    // Logger every 5 s, timeout 3600 s: the request at 3605 finds 3605 > 3600, restarts the clock and the
    // next (3610) opens; 7210 finds 7210 − 3605 > 3600, 7215 opens. 2 reconnects over 7215 s.
    const r = persistentReconnects(every('logger', 5, 125), 3600_000, 75_000);
    expect(r.idlePerMinute).toBe(0);
    expect(r.sessionPerMinute).toBeCloseTo(2 / (7215 / 60), 10);
  });

  it('reconnects after every gap longer than the server idle timeout, and never for enroll', () => {
    const r = persistentReconnects([{ endpointIndex: 0, channel: 'enroll', atVirtualMs: 0 }, ...every('config', 90, 30)], 0, 75_000);
    // 20 requests 90 s apart: 19 reconnects over 19 × 90 s = 28.5 minutes.
    expect(r.idlePerMinute).toBeCloseTo(19 / 28.5, 10);
    expect(r.sessionPerMinute).toBe(0);
  });

  it('derives over two session timeouts past a short run, at most a day', () => {
    expect(derivationHorizonMinutes({ virtualMinutes: 5, sessionTimeoutVirtualSeconds: 3600 })).toBe(125);
    expect(derivationHorizonMinutes({ virtualMinutes: 300, sessionTimeoutVirtualSeconds: 3600 })).toBe(300);
    expect(derivationHorizonMinutes({ virtualMinutes: 5, sessionTimeoutVirtualSeconds: 0 })).toBe(5);
    expect(derivationHorizonMinutes({ virtualMinutes: 5, sessionTimeoutVirtualSeconds: 86_400 * 7 })).toBe(1440);
  });
});

describe('steadyState', () => {
  it('persistent: exchanges per minute plus the derived reconnects at the measured overhead; first connections are one-time', () => {
    // 10 minutes; enroll's connection, one config and one logger connection, no reconnect in the run.
    const connections = [connection('enroll', 0), connection('config', 10), connection('logger', 20)];
    const schedule = { virtualMinutes: 125, requests: [] as ScheduledInstant[] };
    for (let s = 0; s < 125 * 60; s += 5) schedule.requests.push({ endpointIndex: 0, channel: 'logger', atVirtualMs: s * 1000 });
    const steady = steadyState(spec('persistent', 10), connections, { enroll: 1, other: 130 }, 3, schedule)!;
    const rate = 2 / (7215 / 60);
    expect(steady.connections.basis).toBe('derived');
    expect(steady.perEndpointMinute.connections).toBeCloseTo(rate, 10);
    // Exchange: 2 × (1000 − 696) up over 10 minutes = 60.8; down 2 × (5000 − 4330) / 10 = 134.
    expect(steady.perEndpointMinute.upWireBytes).toBeCloseTo(60.8 + rate * 696, 8);
    expect(steady.perEndpointMinute.downWireBytes).toBeCloseTo(134 + rate * 4330, 8);
    expect(steady.perEndpointMinute.downHandshakeBytes).toBeCloseTo(rate * 4000, 8);
    expect(steady.perEndpointMinute.requests).toBe(13);
    expect(steady.perEndpointMinute.timeWait).toBeCloseTo(rate, 10);
    // One-time: enroll's whole connection and both first connections' overhead.
    expect(steady.oneTimePerEndpoint).toEqual({ upWireBytes: 1000 + 2 * 696, downWireBytes: 5000 + 2 * 4330, upHandshakeBytes: 900, downHandshakeBytes: 12_000, connections: 3, requests: 1 });
  });

  it('resumed: connections measured, overhead of the resumed ones; the first full handshake is one-time as far as it costs more', () => {
    const resumedOne = (at: number) => {
      const c = connection('logger', at, 'resumed');
      c.down.tls.handshakeBytes = 500;
      c.down.wireBytes = 1500;
      c.phases.setup!.down = { frames: 3, wireBytes: 3 * 66 + 500, tcpPayloadBytes: 500, handshakeBytes: 500 };
      return c;
    };
    const connections = [connection('enroll', 0), connection('logger', 10), resumedOne(20), resumedOne(30), resumedOne(40)];
    const steady = steadyState(spec('resumed', 2), connections, { enroll: 1, other: 4 }, 5, null)!;
    expect(steady.connections.basis).toBe('measured');
    expect(steady.perEndpointMinute.connections).toBe(2);
    expect(steady.perEndpointMinute.resumedHandshakes).toBe(2);
    expect(steady.perEndpointMinute.fullHandshakes).toBe(0);
    // Resumed overhead down: 5 × 66 + 500 = 830. Exchange down: (5000 − 4330) + 3 × (1500 − 830) = 2680 over 2 minutes.
    expect(steady.connectionOverhead.downWireBytes).toBe(830);
    expect(steady.perEndpointMinute.downWireBytes).toBe(2680 / 2 + 2 * 830);
    expect(steady.oneTimePerEndpoint.downWireBytes).toBe(5000 + (4330 - 830));
  });

  it('is null when nothing but enroll was captured', () => {
    expect(steadyState(spec('fresh', 1), [connection('enroll', 0)], { enroll: 1, other: 0 }, 1, null)).toBeNull();
  });
});
