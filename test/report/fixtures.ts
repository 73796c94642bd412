/**
 * Results fixtures for the report tests, built from per-connection and per-request byte costs measured on
 * the golden captures (fixtures/pcaps: nginx-tls13-fresh, nginx-tls12-fresh, openssl-tls13-resumed) so the
 * charts show realistic proportions. Every TrafficCounters built here satisfies the DESIGN.md invariants
 * (wire = headers + payload, payload = TLS record bytes + other), which the breakdown test relies on.
 */
import type {
  WarningKind,
  ApiCall,
  ApiLatency,
  CertKind,
  CheckSummary,
  Comparison,
  LatencySummary,
  Mode,
  Results,
  ScenarioResult,
  ScenarioSpec,
  SingleRun,
  TimelineBucket,
  TlsVersion,
  TrafficCounters,
  Warning,
} from '../../bench/model/index.ts';
import { compareScenarios } from '../../bench/analyze/compare.ts';
import { combineRepetitions } from '../../bench/analyze/repetitions.ts';
import { summarize } from '../../bench/analyze/latency.ts';

/** Loopback frames: a 14-byte Ethernet header, 20-byte IPv4 header, 32-byte TCP header with timestamps. */
const LINK_BYTES = 14;
const IP_TCP_BYTES = 52;
const FRAME_OVERHEAD = LINK_BYTES + IP_TCP_BYTES;

/** Handshake record bytes per handshake, up and down, as the golden captures show them. */
const HANDSHAKE: Record<TlsVersion, Record<'rsa2048' | 'ecdsa-p256', { full: [number, number]; resumed: [number, number] }>> = {
  'tls1.3': {
    rsa2048: { full: [597, 2016], resumed: [758, 964] },
    'ecdsa-p256': { full: [597, 1356], resumed: [758, 964] },
  },
  'tls1.2': {
    rsa2048: { full: [315, 1332], resumed: [262, 226] },
    'ecdsa-p256': { full: [252, 904], resumed: [262, 226] },
  },
};

/** AEAD framing of one application-data record: header + tag (+ inner type in 1.3, explicit nonce in 1.2). */
const RECORD_OVERHEAD: Record<TlsVersion, number> = { 'tls1.3': 22, 'tls1.2': 29 };
/** close_notify alert record, sent by the client before FIN. */
const ALERT_BYTES: Record<TlsVersion, number> = { 'tls1.3': 24, 'tls1.2': 31 };

/** One agent's requests in 5 virtual minutes of the osquery-default workload: [api, count, up body, down body]. */
const REQUESTS: [ApiCall, number, number, number][] = [
  ['enroll', 1, 310, 120],
  ['config', 5, 290, 11_240],
  ['log', 65, 1_180, 96],
  ['distributed_read', 5, 300, 160],
];
/** Channels a persistent agent keeps one connection on. */
const CHANNELS = 4;

/** Counters of one direction from frame and record counts; headers follow from the frame count. */
function counters(p: {
  dataFrames: number;
  controlFrames: number;
  handshakeBytes: number;
  appDataBytes: number;
  appDataOverheadBytes: number;
  alertBytes: number;
  records: number;
  retransmittedBytes?: number;
}): TrafficCounters {
  const retransmitted = p.retransmittedBytes ?? 0;
  const tcpPayloadBytes = p.handshakeBytes + p.appDataBytes + p.alertBytes + retransmitted;
  const frames = p.dataFrames + p.controlFrames;
  return {
    frames,
    wireBytes: frames * FRAME_OVERHEAD + tcpPayloadBytes,
    ipBytes: frames * IP_TCP_BYTES + tcpPayloadBytes,
    headerBytes: frames * IP_TCP_BYTES,
    tcpPayloadBytes,
    retransmittedBytes: retransmitted,
    controlFrames: p.controlFrames,
    controlWireBytes: p.controlFrames * FRAME_OVERHEAD,
    tls: {
      records: p.records,
      handshakeBytes: p.handshakeBytes,
      appDataBytes: p.appDataBytes,
      appDataOverheadBytes: p.appDataOverheadBytes,
      alertBytes: p.alertBytes,
      otherBytes: 0,
      nonTlsBytes: 0,
      incompleteBytes: 0,
      exact: true,
    },
  };
}

/** A deterministic pseudo-random sequence (a 32-bit LCG) for latency samples. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Median request latency per mode on loopback, ms: the handshake's round trips and CPU dominate fresh. */
const LATENCY_MS: Record<Mode, number> = { fresh: 2.6, persistent: 0.55, resumed: 1.4 };

function latency(mode: Mode, seed: number): Partial<Record<ApiCall, ApiLatency>> {
  const random = lcg(seed);
  const out: Partial<Record<ApiCall, ApiLatency>> = {};
  for (const [api, count, , downBody] of REQUESTS) {
    const base = LATENCY_MS[mode] + downBody / 20_000;
    const samples = Array.from({ length: count }, () => Math.round(base * (0.8 + random() * 0.5 + (random() > 0.95 ? 1.5 : 0)) * 100) / 100);
    const sorted = [...samples].sort((a, b) => a - b);
    const handshake = mode === 'persistent' ? null : summarize(sorted.map((x) => x * 0.55));
    out[api] = {
      total: summarize(sorted)!,
      totalSamplesMs: sorted,
      tcpConnect: mode === 'persistent' ? null : summarize(sorted.map((x) => Math.round(x * 6) / 100)),
      tlsHandshake: handshake,
      firstByte: summarize(sorted.map((x) => x * 0.9)) as LatencySummary,
      transfer: summarize(sorted.map((x) => x * 0.1)) as LatencySummary,
      upBytes: 400 + downBody / 10,
      downBytes: 300 + downBody,
      model: { roundTrips: mode === 'persistent' ? 1 : 3, rttMs: 0, serverTimeMs: null, transferMs: 0, ms: 0 },
      modelRatio: null,
    };
  }
  return out;
}

/** Scenario options the fixtures vary. */
export interface FixtureScenario {
  mode: Mode;
  tls?: TlsVersion;
  cert?: 'rsa2048' | 'ecdsa-p256';
  state?: 'completed' | 'invalid' | 'failed';
  capture?: boolean;
  id?: string;
  warnings?: Warning[];
}

export function spec(mode: Mode, tls: TlsVersion, cert: CertKind, id?: string): ScenarioSpec {
  return {
    id: id ?? `${mode}/${tls}/${cert}/loopback/node`,
    mode,
    tls,
    cert,
    network: 'loopback',
    link: null,
    server: 'node',
    workload: 'osquery-default',
    endpoints: 1,
    virtualMinutes: 5,
    timeCompression: 120,
    sessionTimeoutVirtualSeconds: 3600,
    serverIdleTimeoutVirtualSeconds: 75,
    sessionTickets: true,
    seed: 1,
  };
}

/** One scenario of 1 endpoint × 5 virtual minutes. */
export function scenario(f: FixtureScenario): ScenarioResult {
  const tls = f.tls ?? 'tls1.3';
  const cert = f.cert ?? 'rsa2048';
  const s = spec(f.mode, tls, cert, f.id);
  const warnings = f.warnings ?? [];
  if (f.state === 'failed') {
    return { id: s.id, state: 'failed', spec: s, warnings, error: 'the node server exited during the scenario (SIGKILL)' };
  }
  const capture = f.capture ?? true;
  const requests = REQUESTS.reduce((n, [, count]) => n + count, 0);
  const connections = f.mode === 'persistent' ? CHANNELS : requests;
  const full = f.mode === 'resumed' ? CHANNELS : connections;
  const resumed = connections - full;
  const hs = HANDSHAKE[tls][cert];
  const overhead = RECORD_OVERHEAD[tls];
  const upBody = REQUESTS.reduce((n, [, count, up]) => n + count * up, 0);
  const downBody = REQUESTS.reduce((n, [, count, , down]) => n + count * down, 0);
  // Per connection: SYN, ACK, FIN, final ACK up; SYN-ACK, FIN-ACK, ACK down. Per request: one ACK each way.
  // Full handshakes take two client flights and two server flights; resumed ones one and one.
  const up = counters({
    dataFrames: full * 2 + resumed + requests + connections,
    controlFrames: connections * 4 + requests,
    handshakeBytes: full * hs.full[0] + resumed * hs.resumed[0],
    appDataBytes: upBody + requests * overhead,
    appDataOverheadBytes: requests * overhead,
    alertBytes: connections * ALERT_BYTES[tls],
    records: full * 3 + resumed * 2 + requests + connections,
  });
  const down = counters({
    dataFrames: full * 2 + resumed + requests + Math.ceil((5 * 11_240) / 32_768),
    controlFrames: connections * 3 + requests,
    handshakeBytes: full * hs.full[1] + resumed * hs.resumed[1],
    appDataBytes: downBody + requests * overhead,
    appDataOverheadBytes: requests * overhead,
    alertBytes: 0,
    records: full * 6 + resumed * 4 + requests,
    retransmittedBytes: f.state === 'invalid' ? 1_448 : 0,
  });
  const minutes = s.endpoints * s.virtualMinutes;
  const per = (n: number) => n / minutes;
  const timeWait = { client: connections, server: 0 };
  const calls = latency(f.mode, tls === 'tls1.3' ? 7 : 11);
  const measurement = {
    traffic: capture ? { up, down } : null,
    perEndpointMinute: {
      upWireBytes: capture ? per(up.wireBytes) : null,
      downWireBytes: capture ? per(down.wireBytes) : null,
      upTcpPayloadBytes: per(up.tcpPayloadBytes),
      downTcpPayloadBytes: per(down.tcpPayloadBytes - down.retransmittedBytes),
      upHandshakeBytes: capture ? per(up.tls.handshakeBytes) : null,
      downHandshakeBytes: capture ? per(down.tls.handshakeBytes) : null,
      connections: per(connections),
      fullHandshakes: per(full),
      resumedHandshakes: per(resumed),
      requests: per(requests),
      timeWait: per(timeWait.client + timeWait.server),
    },
    steadyState: null,
    capture: {
      packets: capture ? up.frames + down.frames : 0,
      droppedByKernel: f.state === 'invalid' ? 3 : 0,
      reconciled: capture ? f.state !== 'invalid' : null,
      reconciliation: {
        up: { socketBytes: up.tcpPayloadBytes, pcapStreamBytes: capture ? up.tcpPayloadBytes : null },
        down: {
          socketBytes: down.tcpPayloadBytes - down.retransmittedBytes - (f.state === 'invalid' ? 517 : 0),
          pcapStreamBytes: capture ? down.tcpPayloadBytes - down.retransmittedBytes : null,
        },
      },
    },
    requests: { scheduled: requests, ok: requests, failed: 0, retried: 0 },
    connections: { opened: connections, captured: capture ? connections : null, sessionResumed: resumed },
    timeWait,
    latency: calls,
    latencyAllCalls: summarize(Object.values(calls).flatMap((l) => l.totalSamplesMs)),
    server: {
      cpuUserMs: { fresh: 95, persistent: 12, resumed: 41 }[f.mode],
      cpuSystemMs: { fresh: 31, persistent: 6, resumed: 17 }[f.mode],
      cpuMsPerRequest: { fresh: 126, persistent: 18, resumed: 58 }[f.mode] / requests,
      requests,
    },
    timeline: capture ? timeline(up.wireBytes, down.wireBytes, s) : null,
    link: null,
    files: {
      pcap: capture ? `scenarios/${s.id.replace(/[^A-Za-z0-9.-]+/g, '_')}/capture.pcap` : null,
      keylog: `scenarios/${s.id.replace(/[^A-Za-z0-9.-]+/g, '_')}/keylog.txt`,
    },
    realDurationMs: 2_612,
  };
  // One run: its repetitions and summary as the runner makes them.
  const one = (result: SingleRun) => combineRepetitions([{ result, loadAverage: { before: 0.4, after: 0.7 } }], 2);
  if (f.state === 'invalid') {
    return one({
      id: s.id,
      state: 'invalid',
      spec: s,
      warnings,
      invalidReasons: [
        'tcpdump reported 3 packets dropped by the kernel',
        `socket counters and the capture disagree: down ${measurement.capture.reconciliation.down.socketBytes} vs ${measurement.capture.reconciliation.down.pcapStreamBytes} bytes`,
      ],
      ...measurement,
    });
  }
  return one({ id: s.id, state: 'completed', spec: s, warnings, ...measurement });
}

/**
 * Wire bytes per 1-virtual-second bucket (8.33 real ms at 120×): the logger's posts every 5 s, config and
 * distributed reads every 60 s; the totals land exactly on the scenario's counters.
 */
function timeline(upWire: number, downWire: number, s: ScenarioSpec): { bucketMs: number; buckets: TimelineBucket[] } {
  const bucketMs = 1000 / s.timeCompression;
  const seconds = s.virtualMinutes * 60;
  const weights = new Map<number, { up: number; down: number }>();
  const add = (second: number, up: number, down: number) => {
    const w = weights.get(second) ?? { up: 0, down: 0 };
    weights.set(second, { up: w.up + up, down: w.down + down });
  };
  add(0, 1, 1);
  for (let t = 1; t < seconds; t += 60) add(t, 1, 30);
  for (let t = 3; t < seconds; t += 60) add(t, 1, 1);
  for (let t = 4; t < seconds; t += 5) add(t, 3, 1);
  const totalUp = [...weights.values()].reduce((a, w) => a + w.up, 0);
  const totalDown = [...weights.values()].reduce((a, w) => a + w.down, 0);
  const seconds_ = [...weights.keys()].sort((a, b) => a - b);
  const buckets = seconds_.map((second) => ({
    startMs: Math.round(second * bucketMs * 1000) / 1000,
    upWireBytes: Math.floor((upWire * weights.get(second)!.up) / totalUp),
    downWireBytes: Math.floor((downWire * weights.get(second)!.down) / totalDown),
  }));
  buckets[0]!.upWireBytes += upWire - buckets.reduce((a, b) => a + b.upWireBytes, 0);
  buckets[0]!.downWireBytes += downWire - buckets.reduce((a, b) => a + b.downWireBytes, 0);
  return { bucketMs, buckets };
}

/** Comparisons as the run makes them: each non-fresh mode against fresh in the same configuration. */
export function comparisons(scenarios: ScenarioResult[]): Comparison[] {
  return compareScenarios(scenarios);
}

/** A results file around scenarios. */
export function results(scenarios: ScenarioResult[], overrides: Partial<Results> = {}): Results {
  return {
    schema: 'tls-reuse-bench/results@1',
    runId: '2025-01-01T00-00-00Z',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:01:12.000Z',
    interrupted: false,
    options: {
      suite: 'default',
      workloadPath: 'fixtures/workloads/osquery-default.json',
      capture: scenarios.some((s) => s.state !== 'failed' && s.traffic !== null),
      allowInvalid: false,
      runs: 1,
      certs: { rsa2048: 'fixtures/certs/rsa2048/chain.pem', 'ecdsa-p256': 'fixtures/certs/ecdsa-p256/chain.pem' },
    },
    environment: {
      node: '20.19.2',
      openssl: '3.0.15+quic',
      kernel: '6.1.0-28-amd64',
      platform: 'linux x64',
      cpu: 'Intel(R) Xeon(R) CPU @ 2.20GHz',
      cores: 2,
      tcpdump: 'tcpdump version 4.99.3',
      nginx: null,
    },
    scenarios,
    comparisons: comparisons(scenarios),
    warnings: [],
    ...overrides,
  };
}

/**
 * Two configurations × three modes: TLS 1.3 with the RSA chain, all completed; TLS 1.2 with the ECDSA chain,
 * persistent invalid (kernel drops, reconciliation off) and resumed failed.
 */
export function sampleResults(): Results {
  return results(
    [
      scenario({ mode: 'fresh' }),
      scenario({ mode: 'persistent' }),
      scenario({ mode: 'resumed' }),
      scenario({ mode: 'fresh', tls: 'tls1.2', cert: 'ecdsa-p256' }),
      scenario({
        mode: 'persistent',
        tls: 'tls1.2',
        cert: 'ecdsa-p256',
        state: 'invalid',
        warnings: [{ kind: 'capture-gap', message: 'the capture missed part of a TCP stream 3 times; TLS accounting resynchronised on the next record and is marked inexact for those connections', fix: 'capture with tcpdump --immediate-mode -U -s 0 and check its "dropped by kernel" count', count: 3 }],
      }),
      scenario({ mode: 'resumed', tls: 'tls1.2', cert: 'ecdsa-p256', state: 'failed' }),
    ],
    {
      warnings: [{ kind: 'interrupted', message: 'the run was interrupted after 6 of 8 scenarios; results hold what finished', fix: 'run again to measure the remaining scenarios' }],
    },
  );
}

/** The quick suite's shape without a capture (`--no-capture`): socket counters only. */
export function noCaptureResults(): Results {
  const noCapture: Warning = {
    kind: 'no-capture',
    message: 'run without a packet capture: bytes are TCP payload from socket counters, without headers, control packets or the TLS breakdown',
    fix: 'run as root (or give tcpdump CAP_NET_RAW) without --no-capture',
  };
  return results(
    [scenario({ mode: 'fresh', capture: false, warnings: [noCapture] }), scenario({ mode: 'persistent', capture: false, warnings: [noCapture] })],
    { options: { suite: 'quick', workloadPath: 'fixtures/workloads/osquery-default.json', capture: false, allowInvalid: false, runs: 1, certs: { rsa2048: 'fixtures/certs/rsa2048/chain.pem' } } },
  );
}

/** Markup that would run script if any renderer inserted it unescaped. */
export const HOSTILE = `</script><img src=x onerror="window.__pwned=1">&<b>`;

/** Results whose every free-text field carries HOSTILE. */
export function hostileResults(): Results {
  const base = sampleResults();
    // A kind outside the catalogue cannot be read from a file; built in memory, it still must come out escaped.
  const hostileWarning: Warning = { kind: `kind${HOSTILE}` as WarningKind, message: `message${HOSTILE}`, fix: `fix${HOSTILE}` };
  const scenarios = base.scenarios.map((s, i): ScenarioResult => {
    const id = i === 0 ? `fresh${HOSTILE}` : s.id;
    const spec = { ...s.spec, id, workload: `osquery${HOSTILE}` };
    if (s.state === 'failed') return { ...s, spec, error: `error${HOSTILE}`, warnings: [hostileWarning] };
    return {
      ...s,
      id,
      spec,
      warnings: [hostileWarning],
      files: { pcap: i === 1 ? `javascript:alert(1)` : `scenarios/${HOSTILE}/capture.pcap`, keylog: `scenarios/${HOSTILE}/keylog.txt` },
    };
  });
  return {
    ...results(scenarios),
    runId: `run${HOSTILE}`,
    warnings: [hostileWarning],
    environment: { ...base.environment, cpu: `cpu${HOSTILE}` },
  };
}

/** A check verdict as `check` writes it to check.json. */
export function checkSummary(verdict: CheckSummary['verdict'], markdown: string): CheckSummary {
  return {
    schema: 'tls-reuse-bench/check@1',
    verdict,
    runId: 'run-now',
    baselineRunId: 'run-before',
    verdictLine: verdict === 'pass' ? 'PASS: within limits' : 'FAIL: 1 regression',
    markdown,
  };
}
