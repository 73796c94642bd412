/**
 * Golden expectations, extracted by tshark and never by this project's code: for one capture, what
 * DESIGN.md's counters must be, per direction, per connection and in total (`NAME.expected.json` beside
 * the capture). The golden tests import `deriveExpectation` to re-derive every committed expectation with
 * the installed tshark, and the fresh-capture test uses it on captures made at test time.
 *
 *   npx tsx scripts/golden/make-expected.ts --pcap FILE --server-port N [--server-port N]...
 *                                           [--tls-port N]... [--keylog FILE]
 *   npx tsx scripts/golden/make-expected.ts --all [DIR]      re-derive every DIR/*.expected.json (default
 *                                                            fixtures/pcaps) from the inputs it names
 *
 * How tshark's output becomes counters:
 * - One `tshark -T fields` pass lists every TCP frame (ICMP errors quoting a TCP header excluded) with its
 *   lengths, stream, ports, flags and TLS record fields. Server ports are decoded as TLS (`-d
 *   tcp.port==N,tls`) when listed in `tlsPorts`; out-of-order segments are reassembled
 *   (`tcp.reassemble_out_of_order`, off by default in tshark 4.0) so records split across reordered
 *   segments are still seen. tshark lists a record in the frame that completes it, so sums over frames
 *   count each completed record once; records cut by the end of the capture are never listed.
 * - Record types. Verified on decrypted TLS 1.3 captures with tshark 4.0.17: `tls.record.opaque_type` holds
 *   the OUTER type (always 23) of every TLS 1.3 encrypted record, decrypted or not; `tls.record.content_type`
 *   holds the type of every plaintext record and, for an encrypted record tshark decrypted, its INNER type
 *   (22 for EncryptedExtensions/Certificate/Finished/NewSessionTicket/KeyUpdate, 23, 21 for close_notify).
 *   `tls.record.length` is the outer length (the fields of a frame sum to its TCP payload). So when every
 *   record of a frame was decrypted, content_type and length pair up one to one; when content types are
 *   missing, those records were not decrypted and only their count and bytes are known.
 * - retransmittedBytes = sum of tcp.len − bytes of the stream tshark reassembles (`-z follow,tcp,raw,N`),
 *   per direction, which also counts partial overlaps right.
 * - Handshakes, from the server's ServerHello: TLS 1.3 (supported_versions 0x0304) is resumed iff the
 *   ServerHello carries pre_shared_key (extension 41); TLS 1.2 and older are resumed iff the server sent no
 *   Certificate message in that stream. A HelloRetryRequest would count as a ServerHello: no capture here
 *   has one.
 *
 * `compare` lists what tshark can truly tell about a capture; the tests compare exactly those fields:
 * - truncated frames (a short snaplen): frame, byte and control counts only; tshark sees neither the
 *   records nor the reassembled stream;
 * - TLS 1.3 records that could not be decrypted (no key log): `tls.records` and `tls.recordBytes` (all
 *   record bytes, header included, whatever their type: handshake + appData + alert + other in the
 *   analyzer's counters) but not the handshake/application-data/alert split; `tls.exact` is then false
 *   for each direction (and total) holding such records, true elsewhere;
 * - `tlsVersion` and `handshake` are compared per connection wherever the handshake counts are.
 * Fields that are not comparable are null.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';

/** What an expectation is derived from. Paths are absolute or relative to the working directory. */
export interface ExpectationInputs {
  pcapPath: string;
  /** Ports whose side of a TCP connection is the server (the analyzer's `serverPorts`). */
  serverPorts: number[];
  /** Server ports that carry TLS (the rest carry plain text and are not decoded as TLS). */
  tlsPorts: number[];
  /** NSS key log tshark decrypts TLS 1.3 with, or null. */
  keylogPath: string | null;
}

/** TLS accounting of one direction; null where tshark cannot tell (see `compare`). */
export interface ExpectedTls {
  records: number | null;
  handshakeBytes: number | null;
  appDataBytes: number | null;
  alertBytes: number | null;
  /** Bytes of all completed records, 5-byte headers included, whatever their type. */
  recordBytes: number | null;
  /** Every record's (inner) type was known: false where TLS 1.3 records stayed encrypted. */
  exact: boolean | null;
}

/** DESIGN.md's TrafficCounters for one direction, as far as tshark tells them. */
export interface ExpectedDirection {
  frames: number;
  wireBytes: number;
  ipBytes: number;
  tcpPayloadBytes: number;
  retransmittedBytes: number | null;
  controlFrames: number;
  tls: ExpectedTls;
}

/** A connection's handshake: `none` carried no TLS record, `incomplete` had records but no ServerHello. */
export type ExpectedHandshake = 'full' | 'resumed' | 'none' | 'incomplete';

/** One TCP connection on a server port, as tshark sees it. */
export interface ExpectedConnection {
  /** `ip:port`, IPv6 addresses in brackets: `[::1]:50432`. */
  client: string;
  server: string;
  /** The capture holds the client's SYN. */
  synSeen: boolean;
  up: ExpectedDirection;
  down: ExpectedDirection;
  tlsVersion: string | null;
  handshake: ExpectedHandshake | null;
}

/** The content of `NAME.expected.json`. */
export interface Expectation {
  /** First line of `tshark --version`. */
  tshark: string;
  /** The exact tshark command lines, run in the capture's directory. */
  commands: string[];
  serverPorts: number[];
  tlsPorts: number[];
  /** Key log file name, in the capture's directory, or null. */
  keylog: string | null;
  compare: CompareKey[];
  total: {
    up: ExpectedDirection;
    down: ExpectedDirection;
    connections: number;
    fullHandshakes: number | null;
    resumedHandshakes: number | null;
  };
  connections: ExpectedConnection[];
}

/** Every field an expectation can declare comparable. */
export const COMPARE_KEYS = [
  'frames',
  'wireBytes',
  'ipBytes',
  'tcpPayloadBytes',
  'retransmittedBytes',
  'controlFrames',
  'tls.records',
  'tls.recordBytes',
  'tls.handshakeBytes',
  'tls.appDataBytes',
  'tls.alertBytes',
  'tls.exact',
  'connections',
  'fullHandshakes',
  'resumedHandshakes',
  'tlsVersion',
  'handshake',
] as const;
/** A field name of `compare`: a counter path (`tls.records`), a total (`connections`) or a connection fact. */
export type CompareKey = (typeof COMPARE_KEYS)[number];

const TLS_CHANGE_CIPHER_SPEC = 20;
const TLS_ALERT = 21;
const TLS_HANDSHAKE = 22;
const TLS_APPLICATION_DATA = 23;
const TLS_RECORD_HEADER_BYTES = 5;
const HANDSHAKE_SERVER_HELLO = 2;
const HANDSHAKE_CERTIFICATE = 11;
const EXTENSION_PRE_SHARED_KEY = 41;
const IPV6_HEADER_BYTES = 40;
const TCP_FLAG_SYN = 0x02;
const TCP_FLAG_ACK = 0x10;
const VERSION_NAMES: Record<number, string> = { 0x0304: 'TLS1.3', 0x0303: 'TLS1.2', 0x0302: 'TLS1.1', 0x0301: 'TLS1.0' };

/** The `-e` fields of the frame listing, in column order. */
const FIELDS = [
  'frame.number',
  'frame.len',
  'frame.cap_len',
  'ip.len',
  'ipv6.plen',
  'tcp.len',
  'tcp.stream',
  'ip.src',
  'ipv6.src',
  'ip.dst',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tls.record.content_type',
  'tls.record.opaque_type',
  'tls.record.length',
  'tls.handshake.type',
  'tls.handshake.extension.type',
  'tls.handshake.extensions.supported_version',
  'tls.handshake.version',
] as const;
type Field = (typeof FIELDS)[number];

/** Where `NAME.expected.json` goes for a capture `NAME.pcap` / `NAME.pcapng`. */
export function expectationPathFor(pcapPath: string): string {
  return join(dirname(pcapPath), `${basename(pcapPath).replace(/\.(pcap|pcapng)$/, '')}.expected.json`);
}

/** Reads a committed expectation and the inputs it was derived from (its capture sits beside it). */
export function readExpectation(expectationPath: string): { expectation: Expectation; inputs: ExpectationInputs } {
  const expectation = JSON.parse(readFileSync(expectationPath, 'utf8')) as Expectation;
  const directory = dirname(expectationPath);
  const name = basename(expectationPath, '.expected.json');
  const pcap = readdirSync(directory).find((file) => file === `${name}.pcap` || file === `${name}.pcapng`);
  if (!pcap) throw new Error(`${expectationPath}: no ${name}.pcap or ${name}.pcapng beside it`);
  return {
    expectation,
    inputs: {
      pcapPath: join(directory, pcap),
      serverPorts: expectation.serverPorts,
      tlsPorts: expectation.tlsPorts,
      keylogPath: expectation.keylog === null ? null : join(directory, expectation.keylog),
    },
  };
}

/** A shell-readable rendering of a command line, for the record in `commands`. */
function commandLine(args: string[]): string {
  return ['tshark', ...args].map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}

async function tshark(args: string[], cwd: string): Promise<string> {
  const result = await execa('tshark', args, { cwd, maxBuffer: 256 * 1024 * 1024 });
  return result.stdout;
}

interface Frame {
  number: number;
  frameLen: number;
  capLen: number;
  ipBytes: number;
  tcpLen: number;
  stream: number;
  src: string;
  dst: string;
  flags: number;
  contentTypes: number[];
  opaqueTypes: number[];
  recordLengths: number[];
  handshakeTypes: number[];
  extensionTypes: number[];
  supportedVersions: number[];
  handshakeVersions: number[];
}

function endpoint(address: string, port: string): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function parseFrames(output: string): Frame[] {
  return output
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const columns = line.split('\t');
      const text = (field: Field): string => columns[FIELDS.indexOf(field)] ?? '';
      const numbers = (field: Field): number[] =>
        text(field) === '' ? [] : text(field).split(',').map((value) => Number(value));
      const first = (field: Field): number => {
        const value = numbers(field)[0];
        if (value === undefined || Number.isNaN(value)) throw new Error(`tshark frame ${text('frame.number')}: no ${field}`);
        return value;
      };
      // A tunnel (GRE, VXLAN) gives tshark an IP layer per encapsulation, outermost first: the segment's own
      // is the last (the fixtures tunnel IPv4 in IPv4).
      const innermost = (field: Field): string => text(field).split(',').at(-1) ?? '';
      const last = (field: Field): number => {
        const value = numbers(field).at(-1);
        if (value === undefined || Number.isNaN(value)) throw new Error(`tshark frame ${text('frame.number')}: no ${field}`);
        return value;
      };
      // IPv4 total length covers the header; IPv6's payload length does not (fixed 40-byte header).
      const ipBytes = text('ip.len') !== '' ? last('ip.len') : IPV6_HEADER_BYTES + last('ipv6.plen');
      return {
        number: first('frame.number'),
        frameLen: first('frame.len'),
        capLen: first('frame.cap_len'),
        ipBytes,
        tcpLen: first('tcp.len'),
        stream: first('tcp.stream'),
        src: endpoint(innermost('ip.src') || innermost('ipv6.src'), text('tcp.srcport')),
        dst: endpoint(innermost('ip.dst') || innermost('ipv6.dst'), text('tcp.dstport')),
        flags: first('tcp.flags'),
        contentTypes: numbers('tls.record.content_type'),
        opaqueTypes: numbers('tls.record.opaque_type'),
        recordLengths: numbers('tls.record.length'),
        handshakeTypes: numbers('tls.handshake.type'),
        extensionTypes: numbers('tls.handshake.extension.type'),
        supportedVersions: numbers('tls.handshake.extensions.supported_version'),
        handshakeVersions: numbers('tls.handshake.version'),
      };
    });
}

/** Bytes of each stream's reassembled data per node, from `-z follow,tcp,raw,N` blocks. */
function parseFollow(output: string): Map<number, Map<string, number>> {
  const streams = new Map<number, Map<string, number>>();
  for (const block of output.split(/^=+$/m)) {
    const stream = /^Filter: tcp\.stream eq (\d+)$/m.exec(block);
    const node0 = /^Node 0: (.+)$/m.exec(block);
    const node1 = /^Node 1: (.+)$/m.exec(block);
    if (!stream || !node0 || !node1) continue;
    const names = [followEndpoint(node0[1]!), followEndpoint(node1[1]!)] as const;
    const bytes = new Map<string, number>(names.map((name) => [name, 0]));
    for (const line of block.split('\n')) {
      // Raw follow output: one hex line per chunk; node 1's lines are indented with a tab.
      const match = /^(\t?)([0-9a-f]+)$/.exec(line);
      if (!match) continue;
      const name = names[match[1] === '\t' ? 1 : 0];
      bytes.set(name, (bytes.get(name) ?? 0) + match[2]!.length / 2);
    }
    streams.set(Number(stream[1]), bytes);
  }
  return streams;
}

/** tshark prints follow nodes as `addr:port` (IPv6 unbracketed); normalise to `endpoint()`'s form. */
function followEndpoint(text: string): string {
  const colon = text.lastIndexOf(':');
  return endpoint(text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), text.slice(colon + 1));
}

interface DirectionTally {
  frames: number;
  wireBytes: number;
  ipBytes: number;
  tcpPayloadBytes: number;
  controlFrames: number;
  records: number;
  recordBytes: number;
  handshakeBytes: number;
  appDataBytes: number;
  alertBytes: number;
  undecryptedRecords: number;
}

function emptyTally(): DirectionTally {
  return {
    frames: 0,
    wireBytes: 0,
    ipBytes: 0,
    tcpPayloadBytes: 0,
    controlFrames: 0,
    records: 0,
    recordBytes: 0,
    handshakeBytes: 0,
    appDataBytes: 0,
    alertBytes: 0,
    undecryptedRecords: 0,
  };
}

interface StreamTally {
  stream: number;
  client: string;
  server: string;
  synSeen: boolean;
  up: DirectionTally;
  down: DirectionTally;
  serverHello: { version: string; pskAccepted: boolean } | null;
  serverCertificate: boolean;
}

function addFrame(tally: DirectionTally, frame: Frame, context: string): void {
  tally.frames += 1;
  tally.wireBytes += frame.frameLen;
  tally.ipBytes += frame.ipBytes;
  tally.tcpPayloadBytes += frame.tcpLen;
  if (frame.tcpLen === 0) tally.controlFrames += 1;
  const lengths = frame.recordLengths;
  tally.records += lengths.length;
  tally.recordBytes += lengths.reduce((sum, length) => sum + length + TLS_RECORD_HEADER_BYTES, 0);
  if (frame.contentTypes.length === lengths.length) {
    lengths.forEach((length, i) => {
      const type = frame.contentTypes[i];
      const bytes = length + TLS_RECORD_HEADER_BYTES;
      if (type === TLS_HANDSHAKE || type === TLS_CHANGE_CIPHER_SPEC) tally.handshakeBytes += bytes;
      else if (type === TLS_APPLICATION_DATA) tally.appDataBytes += bytes;
      else if (type === TLS_ALERT) tally.alertBytes += bytes;
    });
  } else if (frame.contentTypes.length + frame.opaqueTypes.length === lengths.length) {
    tally.undecryptedRecords += frame.opaqueTypes.length;
  } else {
    throw new Error(
      `${context} frame ${frame.number}: ${lengths.length} record lengths but ${frame.contentTypes.length} content ` +
        `types and ${frame.opaqueTypes.length} opaque types; cannot pair records with types`,
    );
  }
}

function tallyStreams(frames: Frame[], serverPorts: number[], context: string): StreamTally[] {
  const streams = new Map<number, StreamTally>();
  const isServer = (address: string): boolean => serverPorts.includes(Number(address.slice(address.lastIndexOf(':') + 1)));
  for (const frame of frames) {
    let tally = streams.get(frame.stream);
    if (!tally) {
      const srcIsServer = isServer(frame.src);
      const dstIsServer = isServer(frame.dst);
      // Neither side on a server port: the analyzer filters the connection out, so does the expectation.
      if (!srcIsServer && !dstIsServer) continue;
      if (srcIsServer && dstIsServer) throw new Error(`${context} stream ${frame.stream}: both ports are server ports`);
      tally = {
        stream: frame.stream,
        client: srcIsServer ? frame.dst : frame.src,
        server: srcIsServer ? frame.src : frame.dst,
        synSeen: false,
        up: emptyTally(),
        down: emptyTally(),
        serverHello: null,
        serverCertificate: false,
      };
      streams.set(frame.stream, tally);
    }
    const up = frame.src === tally.client;
    if (up && (frame.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) === TCP_FLAG_SYN) tally.synSeen = true;
    addFrame(up ? tally.up : tally.down, frame, context);
    if (up) continue;
    if (frame.handshakeTypes.includes(HANDSHAKE_CERTIFICATE)) tally.serverCertificate = true;
    if (frame.handshakeTypes.includes(HANDSHAKE_SERVER_HELLO) && !tally.serverHello) {
      const legacyVersion = frame.handshakeVersions[0];
      const version = frame.supportedVersions.includes(0x0304) ? 0x0304 : legacyVersion;
      tally.serverHello = {
        version: (version === undefined ? undefined : VERSION_NAMES[version]) ?? `0x${(version ?? 0).toString(16)}`,
        pskAccepted: frame.extensionTypes.includes(EXTENSION_PRE_SHARED_KEY),
      };
    }
  }
  return [...streams.values()];
}

function handshakeOf(stream: StreamTally): ExpectedHandshake {
  if (stream.up.records + stream.down.records === 0) return 'none';
  if (!stream.serverHello) return 'incomplete';
  if (stream.serverHello.version === 'TLS1.3') return stream.serverHello.pskAccepted ? 'resumed' : 'full';
  return stream.serverCertificate ? 'full' : 'resumed';
}

interface Comparability {
  retransmitted: boolean;
  records: boolean;
  recordTypes: boolean;
  handshakes: boolean;
}

function direction(tally: DirectionTally, retransmittedBytes: number | null, can: Comparability): ExpectedDirection {
  return {
    frames: tally.frames,
    wireBytes: tally.wireBytes,
    ipBytes: tally.ipBytes,
    tcpPayloadBytes: tally.tcpPayloadBytes,
    retransmittedBytes: can.retransmitted ? retransmittedBytes : null,
    controlFrames: tally.controlFrames,
    tls: {
      records: can.records ? tally.records : null,
      handshakeBytes: can.recordTypes ? tally.handshakeBytes : null,
      appDataBytes: can.recordTypes ? tally.appDataBytes : null,
      alertBytes: can.recordTypes ? tally.alertBytes : null,
      recordBytes: can.records ? tally.recordBytes : null,
      exact: can.records ? tally.undecryptedRecords === 0 : null,
    },
  };
}

function sumDirections(directions: ExpectedDirection[], can: Comparability): ExpectedDirection {
  const sum = (pick: (d: ExpectedDirection) => number | null): number =>
    directions.reduce((total, d) => total + (pick(d) ?? 0), 0);
  const retransmitted = sum((d) => d.retransmittedBytes);
  return {
    frames: sum((d) => d.frames),
    wireBytes: sum((d) => d.wireBytes),
    ipBytes: sum((d) => d.ipBytes),
    tcpPayloadBytes: sum((d) => d.tcpPayloadBytes),
    retransmittedBytes: can.retransmitted ? retransmitted : null,
    controlFrames: sum((d) => d.controlFrames),
    tls: {
      records: can.records ? sum((d) => d.tls.records) : null,
      handshakeBytes: can.recordTypes ? sum((d) => d.tls.handshakeBytes) : null,
      appDataBytes: can.recordTypes ? sum((d) => d.tls.appDataBytes) : null,
      alertBytes: can.recordTypes ? sum((d) => d.tls.alertBytes) : null,
      recordBytes: can.records ? sum((d) => d.tls.recordBytes) : null,
      exact: can.records ? directions.every((d) => d.tls.exact === true) : null,
    },
  };
}

/** Runs tshark on a capture and returns its expectation (see the file comment for every rule). */
export async function deriveExpectation(inputs: ExpectationInputs): Promise<Expectation> {
  const directory = dirname(resolve(inputs.pcapPath));
  const pcap = basename(inputs.pcapPath);
  const keylog = inputs.keylogPath === null ? null : relative(directory, resolve(inputs.keylogPath));
  const common = ['-r', pcap, '-n', '-o', 'tcp.reassemble_out_of_order:TRUE'];
  if (keylog !== null) common.push('-o', `tls.keylog_file:${keylog}`);
  for (const port of inputs.tlsPorts) common.push('-d', `tcp.port==${port},tls`);

  const fieldArgs = [...common, '-Y', 'tcp && !icmp && !icmpv6', '-T', 'fields', '-E', 'separator=/t'];
  for (const field of FIELDS) fieldArgs.push('-e', field);
  const frames = parseFrames(await tshark(fieldArgs, directory));
  const streams = tallyStreams(frames, inputs.serverPorts, pcap);

  const followArgs = [...common, '-q'];
  for (const stream of streams) followArgs.push('-z', `follow,tcp,raw,${stream.stream}`);
  const follow = streams.length > 0 ? parseFollow(await tshark(followArgs, directory)) : new Map<number, Map<string, number>>();

  const truncated = frames.some((frame) => frame.capLen < frame.frameLen);
  const undecrypted = streams.some((s) => s.up.undecryptedRecords + s.down.undecryptedRecords > 0);
  if (undecrypted && keylog !== null) {
    throw new Error(`${pcap}: tshark left TLS 1.3 records encrypted despite ${keylog}; is the key log complete?`);
  }
  const can: Comparability = {
    retransmitted: !truncated,
    records: !truncated,
    recordTypes: !truncated && !undecrypted,
    handshakes: !truncated,
  };

  const connections: ExpectedConnection[] = streams.map((stream) => {
    const reassembled = follow.get(stream.stream);
    const retransmitted = (tally: DirectionTally, sender: string): number | null => {
      if (!can.retransmitted) return null;
      const streamBytes = reassembled?.get(sender);
      if (streamBytes === undefined) {
        // follow prints nothing for a stream without payload.
        if (tally.tcpPayloadBytes === 0) return 0;
        throw new Error(`${pcap} stream ${stream.stream}: tshark's follow output has no node ${sender}`);
      }
      return tally.tcpPayloadBytes - streamBytes;
    };
    const handshake = handshakeOf(stream);
    return {
      client: stream.client,
      server: stream.server,
      synSeen: stream.synSeen,
      up: direction(stream.up, retransmitted(stream.up, stream.client), can),
      down: direction(stream.down, retransmitted(stream.down, stream.server), can),
      tlsVersion: can.handshakes ? (stream.serverHello?.version ?? null) : null,
      handshake: can.handshakes ? handshake : null,
    };
  });

  const compare: CompareKey[] = ['frames', 'wireBytes', 'ipBytes', 'tcpPayloadBytes', 'controlFrames', 'connections'];
  if (can.retransmitted) compare.push('retransmittedBytes');
  if (can.records) compare.push('tls.records', 'tls.recordBytes', 'tls.exact');
  if (can.recordTypes) compare.push('tls.handshakeBytes', 'tls.appDataBytes', 'tls.alertBytes');
  if (can.handshakes) compare.push('fullHandshakes', 'resumedHandshakes', 'tlsVersion', 'handshake');
  const count = (kind: ExpectedHandshake): number => connections.filter((c) => c.handshake === kind).length;

  const version = (await execa('tshark', ['--version'])).stdout.split('\n')[0] ?? '';
  return {
    tshark: version,
    commands: [commandLine(fieldArgs), ...(streams.length > 0 ? [commandLine(followArgs)] : [])],
    serverPorts: inputs.serverPorts,
    tlsPorts: inputs.tlsPorts,
    keylog,
    compare: COMPARE_KEYS.filter((key) => compare.includes(key)),
    total: {
      up: sumDirections(connections.map((c) => c.up), can),
      down: sumDirections(connections.map((c) => c.down), can),
      connections: connections.filter((c) => c.synSeen).length,
      fullHandshakes: can.handshakes ? count('full') : null,
      resumedHandshakes: can.handshakes ? count('resumed') : null,
    },
    connections,
  };
}

/** Derives and writes `NAME.expected.json` beside the capture; returns its path. */
export async function writeExpectation(inputs: ExpectationInputs): Promise<string> {
  const path = expectationPathFor(inputs.pcapPath);
  writeFileSync(path, `${JSON.stringify(await deriveExpectation(inputs), null, 2)}\n`);
  return path;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      pcap: { type: 'string' },
      'server-port': { type: 'string', multiple: true },
      'tls-port': { type: 'string', multiple: true },
      keylog: { type: 'string' },
      all: { type: 'boolean' },
    },
  });
  const ports = (flag: string, list: string[] | undefined): number[] =>
    (list ?? []).map((text) => {
      const port = Number(text);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--${flag}: expected a port, got "${text}"`);
      return port;
    });
  if (values.all) {
    const directory = positionals[0] ?? join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/pcaps');
    for (const file of readdirSync(directory).filter((f) => f.endsWith('.expected.json')).sort()) {
      const { inputs } = readExpectation(join(directory, file));
      process.stdout.write(`${await writeExpectation(inputs)}\n`);
    }
    return;
  }
  if (!values.pcap) throw new Error('--pcap FILE is required (or --all [DIR])');
  const serverPorts = ports('server-port', values['server-port']);
  if (serverPorts.length === 0) throw new Error('--server-port N is required');
  const path = await writeExpectation({
    pcapPath: values.pcap,
    serverPorts,
    tlsPorts: ports('tls-port', values['tls-port']),
    keylogPath: values.keylog ?? null,
  });
  process.stdout.write(`${path}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`make-expected: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
