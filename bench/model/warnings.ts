/**
 * Warnings as data (STYLE.md §7): every kind the tool can raise, in one catalogue with its message, why it
 * matters and what to do. Code raises a warning by kind and the facts its message needs; the text lives
 * here only. `WarningKind` is closed: the results reader refuses a kind this version does not know.
 */
import type { Direction } from './axes.ts';

/** A warning carried as data, shown by every report. */
export interface Warning {
  kind: WarningKind;
  message: string;
  /** What the user can do about it. */
  fix: string;
  /** How many times it occurred, when it is a counted condition. */
  count?: number;
}

/** One catalogue entry: the message made from the facts of one occurrence, why it matters, the fix. */
interface Entry<P> {
  message: (p: P) => string;
  why: string;
  fix: string;
}

function entry<P = Record<string, never>>(e: Entry<P>): Entry<P> {
  return e;
}

/** Record header bytes: the overhead counted for a record of an unknown suite. */
const RECORD_HEADER_BYTES = 5;
const FIX_KEYLOG = 'pass --keylog FILE (SSLKEYLOGFILE)';

/** Every warning kind. */
export const WARNINGS = {
  // Reading a capture file (bench/pcap).
  'truncated-file': entry<{ path: string; detail: string }>({
    message: (p) => `${p.path}: the file ends inside ${p.detail}; the packets before it were read`,
    why: 'the last packets of the capture are missing, so the last connections are undercounted',
    fix: 'stop tcpdump with SIGINT and wait for it to exit (and use -U) so it flushes its last packets',
  }),
  'pcapng-unknown-interface': entry<{ path: string; packets: number }>({
    message: (p) => `${p.path}: ${p.packets} packet(s) name an interface with no description block; skipped`,
    why: 'without the interface its link type is unknown, so those packets cannot be decoded',
    fix: 'rewrite the file with `editcap -F pcapng` or capture it again',
  }),
  // Accounting a capture (bench/analyze).
  'malformed-packet': entry<{ reason: string }>({
    message: (p) => `packets skipped as malformed (first: ${p.reason})`,
    why: 'their bytes are in no counter',
    fix: 'check that the capture file is not damaged; the other packets are still accounted',
  }),
  'unsupported-link-type': entry<{ linkTypes: { linkType: number; packets: number }[] }>({
    message: (p) =>
      `packets of a link type this analyzer does not decode were skipped: ${p.linkTypes.map((l) => `link type ${l.linkType} (${l.packets} packets)`).join(', ')}`,
    why: 'their TCP connections, if any, are in no counter',
    fix: 'capture on an Ethernet, loopback or "any" (Linux cooked) interface, or convert the file (e.g. editcap -T ether); link types: https://www.tcpdump.org/linktypes.html',
  }),
  'unsupported-encapsulation': entry<{ encapsulations: { name: string; packets: number }[] }>({
    message: (p) =>
      `packets inside an encapsulation this analyzer does not open were skipped: ${p.encapsulations.map((e) => `${e.name} (${e.packets} packets)`).join(', ')}`,
    why: 'their TCP connections, if any, are in no counter',
    fix: 'capture inside the tunnel (on its decapsulated interface), or strip the encapsulation first (e.g. editcap -C, tcprewrite)',
  }),
  'snaplen-truncated': entry<{ packets: number }>({
    message: (p) =>
      `${p.packets} packets were captured shorter than they were on the wire (a short snap length); wire and IP byte counts still use their original lengths, TLS records inside the cut parts could not be read`,
    why: 'TLS classification needs whole records',
    fix: 'capture with a full snap length (tcpdump -s 0)',
  }),
  'capture-started-midstream': entry<{ connections: number }>({
    message: (p) =>
      `${p.connections} connections began before the capture (no SYN): their TLS accounting starts at the first record header found and they are not counted as connections opened`,
    why: 'their handshakes and first records are not in the capture',
    fix: 'start the capture before the client connects',
  }),
  'capture-gap': entry<{ gaps: number }>({
    message: (p) =>
      `the capture missed part of a TCP stream ${p.gaps} times; TLS accounting resynchronised on the next record and is marked inexact for those connections`,
    why: 'bytes the capture missed cannot be classified',
    fix: 'capture with tcpdump --immediate-mode -U -s 0 and check its "dropped by kernel" count',
  }),
  'server-port-unmatched': entry<{ ports: number[] }>({
    message: (p) => `--server-port ${p.ports.join(', ')}: no TCP connection of the capture uses ${p.ports.length === 1 ? 'this port' : 'these ports'}`,
    why: 'a server port that matches nothing leaves the server side to be guessed from SYNs and port numbers',
    fix: 'check the port (the server listens on it; `analyze` without --server-port lists each connection\'s server side)',
  }),
  'server-port-is-client': entry<{ port: number; connections: number }>({
    message: (p) =>
      `--server-port ${p.port} is the client's side of ${p.connections} connection(s): their SYN came from that port, so up and down are swapped and their opening is not counted`,
    why: 'the server side decides which direction is up (client to server) and which connections the capture opened',
    fix: 'pass the port the server listens on (the destination of the SYN), or leave --server-port out: the side that sent the SYN is the client',
  }),
  'quiet-connections-dropped-early': entry<{ connections: number; max: number }>({
    message: (p) =>
      `${p.connections} connections that never carried payload (half-open: a SYN flood or a scan) were reported before their 120 s idle timeout because more than ${p.max} were open at once; a later packet of one of them counts as a new connection`,
    why: 'memory stays bounded on hostile captures, at the price of splitting a connection that resumes after a long silence',
    fix: 'filter the flood out of the capture (e.g. tcpdump "tcp[tcpflags] & tcp-syn == 0 or tcp[tcpflags] & tcp-ack != 0") if its connections matter',
  }),
  // Walking TLS records (bench/tls).
  'keylog-malformed-lines': entry<{ source: string; lines: number; firstLine: number }>({
    message: (p) =>
      `${p.source}: ${p.lines} key log line(s) are not "LABEL <64 hex digits> <hex secret>" and were ignored (first: line ${p.firstLine})`,
    why: 'secrets on those lines cannot decrypt anything',
    fix: 'pass the file your TLS client wrote through SSLKEYLOGFILE (NSS key log format), unedited',
  }),
  'tls-lost-sync': entry<{ dir: Direction }>({
    message: (p) =>
      `TLS ${p.dir} stream: a record header was not where one was expected (not captured, or not TLS); bytes up to the next plausible header were counted as non-TLS`,
    why: 'the bytes skipped are not classified as handshake or application data',
    fix: 'capture with full snap length (tcpdump -s 0) and without drops',
  }),
  'tls-hello-unparsed': entry<{ tooLarge: boolean }>({
    message: (p) =>
      `a TLS hello message was ${p.tooLarge ? 'larger than this analyzer parses' : 'malformed'}; its version, suite and server name are unknown`,
    why: 'the connection cannot be classified as a full or resumed handshake with certainty',
    fix: 'check the capture with Wireshark; the record byte counts are unaffected',
  }),
  'tls-handshake-unknown': entry<{ reason: string }>({
    message: (p) => `a TLS handshake is reported as "unknown", not full or resumed: ${p.reason}`,
    why: 'telling a full handshake from a resumed one needs the server\'s messages after its ServerHello',
    fix: 'capture with a full snap length (tcpdump -s 0) and without drops',
  }),
  'tls-after-plaintext': entry<{ protocols: { name: string; connections: number }[] }>({
    message: (p) =>
      `TLS began after a plaintext start on ${p.protocols.reduce((n, x) => n + x.connections, 0)} connection(s) (${p.protocols.map((x) => `${x.name} ×${x.connections}`).join(', ')}): the plaintext is counted as not-TLS bytes, the TLS after it as usual`,
    why: 'a proxy CONNECT or a STARTTLS upgrade adds round trips and bytes before the TLS handshake',
    fix: 'nothing to fix; a proxy CONNECT per connection is one more reason to reuse connections',
  }),
  'tls13-decrypt-failed': entry<{ dir: Direction }>({
    message: (p) =>
      `TLS 1.3 ${p.dir} records could not be decrypted with the key log (wrong keys, or records lost in the capture); from there on they were classified by position`,
    why: 'classification by position counts post-handshake messages and alerts as application data',
    fix: 'pass the key log written for this capture (SSLKEYLOGFILE of the same run)',
  }),
  'tls13-no-keys': entry<{ reason: string }>({
    message: (p) => `TLS 1.3 records were classified by position, not decrypted: ${p.reason}`,
    why: 'TLS 1.3 hides record types; without keys post-handshake messages and alerts count as application data',
    fix: FIX_KEYLOG,
  }),
  'tls-suite-unknown': entry<{ reason: string }>({
    message: (p) =>
      `application-data record overhead was counted as the ${RECORD_HEADER_BYTES}-byte header only: cipher suite unknown (${p.reason})`,
    why: 'the nonce and tag sizes come from the cipher suite',
    fix: 'capture connections from their first packet; overhead figures of these records are a lower bound',
  }),
  'tls-cbc-overhead-estimated': entry<{ suite: string; maxExtraBytes: number }>({
    message: (p) =>
      `${p.suite} is a CBC suite: its padding length is encrypted, so each application-data record's overhead is counted with 1 padding byte and may be up to ${p.maxExtraBytes} bytes higher`,
    why: 'CBC padding hides the payload length to within a block',
    fix: 'prefer an AEAD suite (GCM or ChaCha20-Poly1305) for exact overhead figures',
  }),
  // Running scenarios (bench/run, bench/analyze assessment).
  'no-capture': entry({
    message: () =>
      'run without a packet capture: bytes are TCP payload from socket counters, without headers, control packets or the TLS breakdown',
    why: 'socket counters see neither headers nor TLS record types',
    fix: 'run as root (or give tcpdump CAP_NET_RAW) without --no-capture',
  }),
  'few-latency-samples': entry<{ min: number; apis: { api: string; samples: number }[] }>({
    message: (p) =>
      `fewer than ${p.min} latency samples for ${p.apis.map((a) => `${a.api} (${a.samples})`).join(', ')}: their p90/p99 are rough`,
    why: 'a high percentile of a handful of requests is one request’s luck',
    fix: 'raise --virtual-minutes or --endpoints',
  }),
  'time-compression-lowered': entry<{ network: string; from: number; to: number; rttMs: number; intervalSeconds: number }>({
    message: (p) =>
      `on ${p.network} (${p.rttMs} ms RTT) scenarios run at ${p.to}x time compression, not ${p.from}x: the agent's ${p.intervalSeconds} s period, compressed, stays 1.5 times a slow request's real time, so requests never wait behind each other's round trips`,
    why: 'round trips take real time: compressed further, a channel would queue its requests and no longer behave like the agent',
    fix: 'nothing to do; per endpoint-minute figures are in virtual time either way (lower --virtual-minutes to shorten the run)',
  }),
  'network-paths-skipped': entry<{ count: number; networks: string[]; reason: string }>({
    message: (p) => `the suite's ${p.count} scenarios on ${p.networks.join(' and ')} were left out: ${p.reason}`,
    why: 'without emulated paths the run measures bytes and loopback latency, not what reuse saves in round trips',
    fix: 'run as root (network namespaces and TAP devices), or ask for loopback alone with --network loopback',
  }),
  'link-queue-drops': entry<{ network: string; up: number; down: number }>({
    message: (p) =>
      `the ${p.network} link's queue overflowed: ${p.up} frames dropped upstream and ${p.down} downstream (tail drop); TCP retransmitted them, so the capture counts retransmitted bytes and latency includes recovery`,
    why: 'a path that drops packets is part of the measurement: retransmissions add bytes and round trips',
    fix: 'a larger queue (queue=... in a custom --network profile) or a higher rate, if the drops are not what you meant to measure',
  }),
  'server-process-replaced': entry<{ server: string; exits: string[] }>({
    message: (p) =>
      `${p.server}: ${p.exits.join('; ')} during the scenario and was replaced; the connections it held were cut, so connections, handshakes and bytes include reconnections the agent would not have made`,
    why: 'a crashed server process turns kept-alive connections into new ones: reuse looks worse than it is',
    fix: "find why it died in the server's error log, then run the scenario again",
  }),
  'unexpected-retries': entry<{ retried: number; expected: number }>({
    message: (p) =>
      `${p.retried} requests were retried on a new connection after their kept-alive connection failed (closed or reset); the schedule explains ${p.expected} (a channel idle longer than the server's idle timeout)`,
    why: 'each retry is a connection, a handshake and a request the workload does not call for',
    fix: "look for a server process that died or reset connections (its error log); on a loaded machine requests run late: lower --time-compression",
  }),
  'client-behind-schedule': entry<{ p50Ms: number; p99Ms: number; maxMs: number; clientThreads: number }>({
    message: (p) =>
      `the client fell behind its schedule: 1% of requests went out more than ${(p.p99Ms / 1000).toFixed(1)} s after they were due (median ${p.p50Ms.toFixed(0)} ms, worst ${(p.maxMs / 1000).toFixed(1)} s, ${p.clientThreads} client thread${p.clientThreads === 1 ? '' : 's'})`,
    why: 'late requests bunch up: the run measured a slower, burstier fleet than the schedule describes, and the client, not the server, set the pace',
    fix: 'lower --max-rate (or --time-compression), or give the client more cores (--client-threads); the fleet.coresBusy figures say which side was at its ceiling',
  }),
  'output-failed': entry<{ done: number; count: number; error: string }>({
    message: (p) => `the run stopped after ${p.done} of ${p.count} scenarios: ${p.error}`,
    why: 'the scenarios that did not run are missing, and no later scenario could have written its capture',
    fix: 'free space on the disk of --out (or choose another folder) and run again',
  }),
  'busy-machine': entry<{ load: number; cores: number; runs: number[] }>({
    message: (p) =>
      `the machine's load average reached ${p.load.toFixed(2)} on ${p.cores} cores during run${p.runs.length > 1 ? 's' : ''} ${p.runs.join(', ')}: latency and CPU figures include waiting for a core`,
    why: 'on a machine busier than its cores, requests and the server wait for CPU: timings grow and spread, and ACK timing moves wire bytes a little',
    fix: 'run when the machine is quieter, or raise --runs and read the spread',
  }),
  'large-spread': entry<{ figures: { figure: string; pct: number; limitPct: number }[] }>({
    message: (p) =>
      `figures spread widely between repetitions: ${p.figures.map((f) => `${f.figure} ±${f.pct.toFixed(1)}% (sd/mean; expected under ${f.limitPct}%)`).join(', ')}`,
    why: 'one run of such a figure is not a measurement of the transport: another run would say something else',
    fix: 'raise --runs, and check the load average (a busy machine spreads timings)',
  }),
  interrupted: entry<{ done: number; count: number }>({
    message: (p) => `the run was interrupted after ${p.done} of ${p.count} scenarios; results hold what finished`,
    why: 'the scenarios that did not run are missing from every comparison',
    fix: 'run again to measure the remaining scenarios',
  }),
} as const;

export type WarningKind = keyof typeof WARNINGS;

/** The facts a kind's message is made from. */
export type WarningParams<K extends WarningKind> = Parameters<(typeof WARNINGS)[K]['message']>[0];

/** Every kind, in catalogue order. */
export const WARNING_KINDS = Object.keys(WARNINGS) as WarningKind[];

/** A warning of `kind`, its message made from `params`. */
export function warning<K extends WarningKind>(kind: K, params: WarningParams<K>, count?: number): Warning {
  const e = WARNINGS[kind] as Entry<WarningParams<K>>;
  return { kind, message: e.message(params), fix: e.fix, ...(count === undefined ? {} : { count }) };
}

/** Why a kind matters (for reports that explain a warning). */
export function warningWhy(kind: WarningKind): string {
  return WARNINGS[kind].why;
}

/**
 * Collects warnings, one entry per kind with a count, in order of first occurrence. A kind seen before only
 * increases that entry's count (its first message is kept), so the message of a repeated condition is made
 * once: `note` takes the facts as a method called with `self` only the first time, which lets hot paths
 * pass a method instead of making a closure per call.
 */
export class WarningSet {
  private readonly byKind = new Map<WarningKind, Warning>();

  /** Adds a built warning (its own count, default 1). */
  add(w: Warning): void {
    const seen = this.byKind.get(w.kind);
    const count = w.count ?? 1;
    if (seen === undefined) this.byKind.set(w.kind, { ...w, count });
    else seen.count = (seen.count ?? 1) + count;
  }

  addAll(warnings: Iterable<Warning>): void {
    for (const w of warnings) this.add(w);
  }

  /** Counts one occurrence of `kind`; `facts` is called (with `self`) only for the first. */
  note<K extends WarningKind, T>(kind: K, self: T, facts: (this: T) => WarningParams<K>): void {
    const seen = this.byKind.get(kind);
    if (seen === undefined) this.byKind.set(kind, warning(kind, facts.call(self), 1));
    else seen.count = (seen.count ?? 1) + 1;
  }

  get size(): number {
    return this.byKind.size;
  }

  toArray(): Warning[] {
    return [...this.byKind.values()];
  }
}
