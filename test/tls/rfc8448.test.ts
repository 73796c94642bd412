/**
 * TLS 1.3 against the published traces of RFC 8448: the key schedule's published keys and IVs, each record's
 * inner type, and the whole §3 connection accounted with and without its secrets.
 */
import { describe, expect, it } from 'vitest';
import type { Direction } from '../../bench/model/index.ts';
import { TlsStreamWalker } from '../../bench/tls/walker.ts';
import { parseKeyLog, type KeyLog } from '../../bench/tls/keylog.ts';
import { cipherSuite } from '../../bench/tls/suites.ts';
import { openRecord, trafficKey } from '../../bench/tls/tls13.ts';
import { feed, type Step } from './support/build.ts';
import { expectBalanced } from './support/invariant.ts';
import { RFC8448_HELLO_RETRY, RFC8448_SIMPLE } from './support/rfc8448.ts';

const AES_128_GCM = cipherSuite(0x1301)!;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const S = RFC8448_SIMPLE.secrets;

function keyLogLines(secrets: Record<keyof typeof S, string> = S): string {
  const r = RFC8448_SIMPLE.clientRandom;
  return [
    `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${r} ${secrets.clientHandshake}`,
    `SERVER_HANDSHAKE_TRAFFIC_SECRET ${r} ${secrets.serverHandshake}`,
    `CLIENT_TRAFFIC_SECRET_0 ${r} ${secrets.clientApplication}`,
    `SERVER_TRAFFIC_SECRET_0 ${r} ${secrets.serverApplication}`,
  ].join('\n');
}

function keyLog(text = keyLogLines()): KeyLog {
  return parseKeyLog(text, 'rfc8448.keys').keyLog;
}

const bytes = (name: string): Buffer => hex(RFC8448_SIMPLE.records.find((r) => r.name === name)!.hex);
const size = (name: string): number => bytes(name).length;

function simpleSteps(): Step[] {
  return RFC8448_SIMPLE.records.map((r) => ({ dir: r.dir as Direction, data: hex(r.hex) }));
}

function run(steps: Step[], options: { keyLog?: KeyLog } = {}, pieceBytes = Infinity): TlsStreamWalker {
  const conn = new TlsStreamWalker(options);
  expectBalanced(conn, feed(conn, steps, pieceBytes));
  return conn;
}

describe('key schedule (RFC 8446 §7.1, §7.3) against RFC 8448 §3', () => {
  it('derives the published write keys and IVs', () => {
    expect(trafficKey(AES_128_GCM, hex(S.serverHandshake))).toEqual({
      key: hex('3fce516009c21727d0f2e4e86ee403bc'),
      iv: hex('5d313eb2671276ee13000b30'),
    });
    expect(trafficKey(AES_128_GCM, hex(S.clientApplication))).toEqual({
      key: hex('17422dda596ed5d9acd890e3c63f5051'),
      iv: hex('5b78923dee08579033e523d9'),
    });
  });

  it('opens records by sequence number and reads their inner type, padding stripped', () => {
    const client = trafficKey(AES_128_GCM, hex(S.clientApplication));
    const data = bytes('client application data (50 bytes)');
    const opened = openRecord(AES_128_GCM, client, 0, data.subarray(0, 5), data.subarray(5));
    expect(opened?.type).toBe(23);
    expect(opened?.content).toEqual(Buffer.from(Array.from({ length: 50 }, (_, i) => i)));
    const alert = bytes('client close_notify');
    expect(openRecord(AES_128_GCM, client, 1, alert.subarray(0, 5), alert.subarray(5))).toEqual({
      type: 21,
      content: hex('0100'),
    });
    // The wrong sequence number, or a changed header (it is the AAD), does not verify.
    expect(openRecord(AES_128_GCM, client, 1, data.subarray(0, 5), data.subarray(5))).toBeNull();
    const header = Buffer.from(data.subarray(0, 5));
    header[2] = 0x01;
    expect(openRecord(AES_128_GCM, client, 0, header, data.subarray(5))).toBeNull();
    const server = trafficKey(AES_128_GCM, hex(S.serverApplication));
    const ticket = bytes('server NewSessionTicket');
    expect(openRecord(AES_128_GCM, server, 0, ticket.subarray(0, 5), ticket.subarray(5))?.type).toBe(22);
  });

  it('returns null, never throws, when the key is wrong, for every TLS 1.3 suite', () => {
    const data = bytes('client application data (50 bytes)');
    for (const code of [0x1301, 0x1302, 0x1303, 0x1304, 0x1305]) {
      const suite = cipherSuite(code)!;
      // The other direction's secret: right shape, wrong key.
      const key = trafficKey(suite, hex(S.serverApplication));
      expect(openRecord(suite, key, 0, data.subarray(0, 5), data.subarray(5)), suite.name).toBeNull();
    }
  });
});

describe('RFC 8448 §3 connection', () => {
  const handshakeUp = size('ClientHello') + size('client Finished');
  const handshakeDown = size('ServerHello') + size('server EncryptedExtensions..Finished') + size('server NewSessionTicket');

  it('with the key log: every record by its inner type, exactly', () => {
    const conn = run(simpleSteps(), { keyLog: keyLog() });
    expect(conn.counters('up')).toEqual({
      records: 4,
      handshakeBytes: handshakeUp,
      appDataBytes: 72,
      appDataOverheadBytes: 5 + 16 + 1,
      alertBytes: 24,
      otherBytes: 0,
      nonTlsBytes: 0,
      incompleteBytes: 0,
      exact: true,
    });
    expect(conn.counters('down')).toEqual({
      records: 5,
      handshakeBytes: handshakeDown,
      appDataBytes: 72,
      appDataOverheadBytes: 22,
      alertBytes: 24,
      otherBytes: 0,
      nonTlsBytes: 0,
      incompleteBytes: 0,
      exact: true,
    });
    expect(conn.info()).toEqual({
      version: 'TLS1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      handshake: 'full',
      serverName: 'server',
      decrypted: true,
      plaintextPrefix: null,
    });
    expect(conn.requests).toBe(1);
    expect(conn.warnings).toEqual([]);
  });

  it('one byte at a time gives the same result', () => {
    const whole = run(simpleSteps(), { keyLog: keyLog() });
    const bytewise = run(simpleSteps(), { keyLog: keyLog() }, 1);
    for (const dir of ['up', 'down'] as const) expect(bytewise.counters(dir)).toEqual(whole.counters(dir));
    expect(bytewise.info()).toEqual(whole.info());
  });

  it('without keys: by position, not exact, with a warning that says how to fix it', () => {
    const conn = run(simpleSteps());
    // The client's first encrypted record (Finished) is handshake; its data and close_notify are app data.
    expect(conn.counters('up')).toMatchObject({ handshakeBytes: handshakeUp, appDataBytes: 72 + 24, alertBytes: 0, exact: false });
    // The server's flight before the client's Finished is handshake; the ticket after it is counted as app data.
    expect(conn.counters('down')).toMatchObject({
      handshakeBytes: size('ServerHello') + size('server EncryptedExtensions..Finished'),
      appDataBytes: size('server NewSessionTicket') + 72 + 24,
      appDataOverheadBytes: 3 * 22,
      exact: false,
    });
    expect(conn.info()).toMatchObject({ version: 'TLS1.3', handshake: 'full', decrypted: false });
    expect(conn.warnings).toEqual([
      {
        kind: 'tls13-no-keys',
        message: 'TLS 1.3 records were classified by position, not decrypted: no key log was given',
        fix: 'pass --keylog FILE (SSLKEYLOGFILE)',
        count: 7,
      },
    ]);
  });

  it('a key log without this connection is the same as no keys', () => {
    const other = run(simpleSteps(), { keyLog: keyLog(`CLIENT_RANDOM ${'11'.repeat(32)} ${'22'.repeat(48)}`) });
    expect(other.warnings[0]?.message).toContain(`no entry for client random ${RFC8448_SIMPLE.clientRandom}`);
    expect(other.counters('down')).toEqual(run(simpleSteps()).counters('down'));
  });

  it('a key log with the handshake secrets alone: the handshake records are opened, the rest by position', () => {
    const partial = run(simpleSteps(), { keyLog: keyLog(keyLogLines().split('\n').slice(0, 2).join('\n')) });
    expect(partial.warnings.map((w) => w.kind)).toEqual(['tls13-no-keys']);
    expect(partial.warnings[0]?.message).toContain('has the handshake secrets but not the application traffic secrets');
    expect(partial.info()?.decrypted).toBe(true);
    // The client's Finished is opened (handshake); its request and close_notify, under the application key,
    // go by position: application data.
    expect(partial.counters('up')).toMatchObject({ handshakeBytes: handshakeUp, appDataBytes: 72 + 24, alertBytes: 0, exact: false });
    expect(partial.counters('down')).toMatchObject({
      handshakeBytes: size('ServerHello') + size('server EncryptedExtensions..Finished'),
      appDataBytes: size('server NewSessionTicket') + 72 + 24,
      exact: false,
    });
  });

  it('wrong keys: a decrypt-failed warning, then classification by position', () => {
    const wrong = { ...S, serverHandshake: S.serverHandshake.replace(/^b6/, 'b7') };
    const conn = run(simpleSteps(), { keyLog: keyLog(keyLogLines(wrong)) });
    expect(conn.warnings.map((w) => w.kind)).toEqual(['tls13-decrypt-failed']);
    // The client side still decrypts: its counters are exact.
    expect(conn.counters('up')).toMatchObject({ handshakeBytes: handshakeUp, appDataBytes: 72, alertBytes: 24, exact: true });
    expect(conn.counters('down')).toMatchObject({ appDataBytes: size('server NewSessionTicket') + 72 + 24, exact: false });
  });

  it('a lost record (capture gap): resynchronised and decryption found again by sequence search', () => {
    const steps = simpleSteps().flatMap((step): Step[] =>
      'data' in step && step.data.equals(bytes('server NewSessionTicket')) ? [{ dir: 'down', gap: true }] : [step],
    );
    const conn = run(steps, { keyLog: keyLog() });
    expect(conn.counters('down')).toEqual({
      records: 4,
      handshakeBytes: size('ServerHello') + size('server EncryptedExtensions..Finished'),
      appDataBytes: 72,
      appDataOverheadBytes: 22,
      alertBytes: 24,
      otherBytes: 0,
      nonTlsBytes: 0,
      incompleteBytes: 0,
      exact: false,
    });
    expect(conn.warnings).toEqual([]);
  });

  it('uncaptured bytes inside a record: that record by position, the next ones decrypted again', () => {
    const data = bytes('server application data (50 bytes)');
    const steps = simpleSteps().flatMap((step): Step[] =>
      'data' in step && step.data.equals(data)
        ? [
            { dir: 'down', data: data.subarray(0, 20) },
            { dir: 'down', skip: 30 },
            { dir: 'down', data: data.subarray(50) },
          ]
        : [step],
    );
    const conn = run(steps, { keyLog: keyLog() });
    expect(conn.counters('down')).toMatchObject({ handshakeBytes: 1001, appDataBytes: 72, alertBytes: 24, exact: false });
    expect(conn.warnings).toEqual([]);
  });

  it('a capture that starts mid-connection (no hellos): records by outer type, handshake incomplete', () => {
    const steps: Step[] = [
      { dir: 'up', gap: true },
      { dir: 'down', gap: true },
      ...simpleSteps().slice(5),
    ];
    const conn = run(steps, { keyLog: keyLog() });
    expect(conn.info()).toEqual({ version: null, cipherSuite: null, handshake: 'incomplete', serverName: null, decrypted: false, plaintextPrefix: null });
    expect(conn.counters('up')).toMatchObject({ appDataBytes: 72 + 24, exact: false });
  });
});

describe('RFC 8448 §5 HelloRetryRequest', () => {
  it('the HelloRetryRequest is not the ServerHello; both ClientHellos are handshake', () => {
    const steps = RFC8448_HELLO_RETRY.records.map((r) => ({ dir: r.dir as Direction, data: hex(r.hex) }));
    const conn = run(steps);
    const total = (dir: Direction): number =>
      RFC8448_HELLO_RETRY.records.filter((r) => r.dir === dir).reduce((n, r) => n + r.hex.length / 2, 0);
    expect(conn.counters('up')).toMatchObject({ records: 3, handshakeBytes: total('up'), appDataBytes: 0 });
    expect(conn.counters('down')).toMatchObject({ records: 3, handshakeBytes: total('down'), appDataBytes: 0 });
    expect(conn.info()).toEqual({
      version: 'TLS1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      handshake: 'full',
      serverName: 'server',
      decrypted: false,
      plaintextPrefix: null,
    });
  });
});
