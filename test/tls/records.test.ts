/**
 * The record walker on hand-built streams: framing across any slicing, non-TLS streams, capture gaps, bytes
 * not captured, and the TLS 1.2 handshake classification. Every test checks the accounting invariant.
 */
import { describe, expect, it } from 'vitest';
import { emptyTlsCounters, type TlsCounters } from '../../bench/model/index.ts';
import { TlsStreamWalker } from '../../bench/tls/walker.ts';
import { MAX_RECORD_BODY_BYTES } from '../../bench/tls/records.ts';
import { clientHello, feed, handshake, record, serverHello, type Step } from './support/build.ts';
import { expectBalanced } from './support/invariant.ts';

const HANDSHAKE = 22;
const APP = 23;
const CCS = 20;
const ALERT = 21;

function counters(fields: Partial<TlsCounters>): TlsCounters {
  return { ...emptyTlsCounters(), ...fields };
}

function run(steps: Step[], pieceBytes = Infinity): TlsStreamWalker {
  const conn = new TlsStreamWalker();
  const fed = feed(conn, steps, pieceBytes);
  expectBalanced(conn, fed);
  return conn;
}

/** A TLS 1.2 full handshake (ECDHE-RSA-AES128-GCM-SHA256), then application data each way. */
const TLS12 = {
  clientHello: record(HANDSHAKE, clientHello({ serverName: 'api.example', suites: [0xc02f, 0xc030] }), 0x0301),
  serverFlight: Buffer.concat([
    record(HANDSHAKE, Buffer.concat([serverHello({ suite: 0xc02f }), handshake(11, Buffer.alloc(900, 1))])),
    record(HANDSHAKE, Buffer.concat([handshake(12, Buffer.alloc(300, 2)), handshake(14, Buffer.alloc(0))])),
  ]),
  clientFinish: Buffer.concat([
    record(HANDSHAKE, handshake(16, Buffer.alloc(66, 3))),
    record(CCS, Buffer.from([1])),
    record(HANDSHAKE, Buffer.alloc(40, 4)), // encrypted Finished: 8 nonce + 16 message + 16 tag
  ]),
  serverFinish: Buffer.concat([
    record(HANDSHAKE, handshake(4, Buffer.alloc(150, 5))),
    record(CCS, Buffer.from([1])),
    record(HANDSHAKE, Buffer.alloc(40, 6)),
  ]),
  request: record(APP, Buffer.alloc(8 + 100 + 16, 7)),
  response: record(APP, Buffer.alloc(8 + 1000 + 16, 8)),
};

function tls12Full(): Step[] {
  return [
    { dir: 'up', data: TLS12.clientHello },
    { dir: 'down', data: TLS12.serverFlight },
    { dir: 'up', data: TLS12.clientFinish },
    { dir: 'down', data: TLS12.serverFinish },
    { dir: 'up', data: TLS12.request },
    { dir: 'down', data: TLS12.response },
  ];
}

describe('record framing', () => {
  it('accounts a TLS 1.2 full handshake and one exchange, and reads the hellos', () => {
    const conn = run(tls12Full());
    expect(conn.counters('up')).toEqual(
      counters({
        records: 5,
        handshakeBytes: TLS12.clientHello.length + TLS12.clientFinish.length,
        appDataBytes: 5 + 124,
        appDataOverheadBytes: 5 + 8 + 16,
      }),
    );
    expect(conn.counters('down')).toEqual(
      counters({
        records: 6,
        handshakeBytes: TLS12.serverFlight.length + TLS12.serverFinish.length,
        appDataBytes: 5 + 1024,
        appDataOverheadBytes: 5 + 8 + 16,
      }),
    );
    expect(conn.info()).toEqual({
      version: 'TLS1.2',
      cipherSuite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      handshake: 'full',
      serverName: 'api.example',
      decrypted: false,
      plaintextPrefix: null,
    });
    expect(conn.requests).toBe(1);
    expect(conn.warnings).toEqual([]);
  });

  it('gives the same counters whatever the slicing: whole, 1 byte, 7 bytes, 4096 bytes', () => {
    const whole = run(tls12Full());
    for (const piece of [1, 2, 3, 5, 7, 4096]) {
      const sliced = run(tls12Full(), piece);
      expect(sliced.counters('up')).toEqual(whole.counters('up'));
      expect(sliced.counters('down')).toEqual(whole.counters('down'));
      expect(sliced.info()).toEqual(whole.info());
    }
  });

  it('splits a two-record stream at every offset', () => {
    const stream = Buffer.concat([record(APP, Buffer.alloc(10, 1)), record(ALERT, Buffer.from([1, 0]))]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const conn = run([
        { dir: 'down', data: stream.subarray(0, cut) },
        { dir: 'down', data: stream.subarray(cut) },
      ]);
      expect(conn.counters('down')).toEqual(counters({ records: 2, appDataBytes: 15, appDataOverheadBytes: 5, alertBytes: 7 }));
    }
  });

  it('accepts zero-length and maximum-length records, and heartbeat records as other', () => {
    const conn = run([
      {
        dir: 'down',
        data: Buffer.concat([
          record(APP, Buffer.alloc(0)),
          record(APP, Buffer.alloc(MAX_RECORD_BODY_BYTES, 9)),
          record(24, Buffer.alloc(19, 1)),
        ]),
      },
    ]);
    expect(conn.counters('down')).toMatchObject({
      records: 3,
      appDataBytes: 5 + 5 + MAX_RECORD_BODY_BYTES,
      otherBytes: 24,
      nonTlsBytes: 0,
    });
  });

  it('counts a stream whose first bytes are not a record header as non-TLS, and info() is null', () => {
    const request = Buffer.from('GET /config HTTP/1.1\r\nHost: api\r\n\r\n');
    const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
    const conn = run([
      { dir: 'up', data: request },
      { dir: 'down', data: response },
      { dir: 'up', data: record(APP, Buffer.alloc(20)) },
    ]);
    expect(conn.counters('up')).toEqual(counters({ nonTlsBytes: request.length + 25 }));
    expect(conn.counters('down')).toEqual(counters({ nonTlsBytes: response.length }));
    expect(conn.info()).toBeNull();
    expect(conn.requests).toBe(0);
  });

  it('rejects a header whose length exceeds 2^14 + 2048, or whose version is not 3.x, byte by byte', () => {
    const tooLong = Buffer.from([APP, 0x03, 0x03, 0x48, 0x01, 0, 0]);
    const badVersion = Buffer.from([HANDSHAKE, 0x03, 0x05, 0x00, 0x01, 0]);
    for (const data of [tooLong, badVersion]) {
      const conn = run([{ dir: 'up', data }], 1);
      expect(conn.counters('up')).toEqual(counters({ nonTlsBytes: data.length }));
      expect(conn.info()).toBeNull();
    }
  });

  it('counts a record cut by the end of the capture as incomplete, header bytes included', () => {
    const full = record(APP, Buffer.alloc(100, 1));
    const conn = run([
      { dir: 'up', data: full },
      { dir: 'up', data: full.subarray(0, 60) },
      { dir: 'down', data: full.subarray(0, 3) },
    ]);
    expect(conn.counters('up')).toEqual(counters({ records: 1, appDataBytes: 105, appDataOverheadBytes: 5, incompleteBytes: 60 }));
    expect(conn.counters('down')).toEqual(counters({ incompleteBytes: 3 }));
  });

  it('refuses pushes after end()', () => {
    const conn = new TlsStreamWalker();
    conn.end();
    expect(() => conn.push('up', Buffer.from([APP]))).toThrow(/after end/);
  });
});

describe('capture gaps and uncaptured bytes', () => {
  const a = record(APP, Buffer.alloc(200, 1));
  const b = record(APP, Buffer.alloc(300, 2));

  it('gap(): the record in progress is incomplete, bytes up to the next plausible header are non-TLS', () => {
    const garbage = Buffer.from('0123456789'); // the tail of a record whose start was lost
    const conn = run([
      { dir: 'down', data: a },
      { dir: 'down', data: b.subarray(0, 120) },
      { dir: 'down', gap: true },
      { dir: 'down', data: Buffer.concat([garbage, a, b]) },
    ]);
    expect(conn.counters('down')).toEqual(
      counters({
        records: 3,
        appDataBytes: 205 * 2 + 305,
        appDataOverheadBytes: 15,
        nonTlsBytes: 10,
        incompleteBytes: 120,
        exact: false,
      }),
    );
  });

  it('resynchronises on a header split across pushes, at every split', () => {
    const garbage = Buffer.from([0x01, 0x17, 0x03, 0x09, 0x02]); // 0x17 0x03 then a bad version: not a header
    const stream = Buffer.concat([garbage, b, a]);
    for (let cut = 0; cut <= stream.length; cut++) {
      for (const piece of [1, 2, Infinity]) {
        const conn = run(
          [
            { dir: 'up', gap: true },
            { dir: 'up', data: stream.subarray(0, cut) },
            { dir: 'up', data: stream.subarray(cut) },
          ],
          piece,
        );
        expect(conn.counters('up')).toEqual(
          counters({ records: 2, appDataBytes: 305 + 205, appDataOverheadBytes: 10, nonTlsBytes: 5, exact: false }),
        );
      }
    }
  });

  it('a gap before any data: a stream whose start was not captured still finds its records', () => {
    const conn = run([
      { dir: 'down', gap: true },
      { dir: 'down', data: Buffer.concat([Buffer.alloc(33, 0xee), a]) },
    ]);
    expect(conn.counters('down')).toMatchObject({ records: 1, appDataBytes: 205, nonTlsBytes: 33, exact: false });
    expect(conn.info()).toMatchObject({ handshake: 'incomplete', version: null, cipherSuite: null });
    expect(conn.warnings.map((w) => w.kind)).toEqual(['tls-suite-unknown']);
  });

  it('a resync that never finds a header leaves everything non-TLS, carried bytes included', () => {
    const conn = run([
      { dir: 'up', data: a.subarray(0, 50) },
      { dir: 'up', gap: true },
      { dir: 'up', data: Buffer.from([0x42, 0x17, 0x03]) },
    ]);
    expect(conn.counters('up')).toEqual(counters({ incompleteBytes: 50, nonTlsBytes: 3, exact: false }));
  });

  it('skip() inside a record body is accounted to that record, exactly', () => {
    const conn = run([
      { dir: 'down', data: a.subarray(0, 40) },
      { dir: 'down', skip: 165 },
      { dir: 'down', data: b.subarray(0, 60) },
      { dir: 'down', skip: 245 },
    ]);
    expect(conn.counters('down')).toEqual(counters({ records: 2, appDataBytes: 510, appDataOverheadBytes: 10 }));
    // No hellos in these streams: the suite is unknown, so overhead is the header only (and warned about).
    expect(conn.warnings.map((w) => w.kind)).toEqual(['tls-suite-unknown']);
  });

  it('skip() over a record header loses sync: the rest of the skip is non-TLS, then resync', () => {
    const conn = run([
      { dir: 'down', data: a.subarray(0, 40) },
      { dir: 'down', skip: 165 + 7 }, // the end of a, and 7 bytes of b (its header among them)
      { dir: 'down', data: b.subarray(7) },
      { dir: 'down', data: a },
    ]);
    expect(conn.counters('down')).toEqual(
      counters({ records: 2, appDataBytes: 410, appDataOverheadBytes: 10, nonTlsBytes: 7 + 298, exact: false }),
    );
    expect(conn.warnings.map((w) => w.kind)).toEqual(['tls-suite-unknown', 'tls-lost-sync']);
  });

  it('skip() in the middle of a header: those header bytes are incomplete, the skipped ones non-TLS', () => {
    const conn = run([
      { dir: 'up', data: Buffer.concat([a, b.subarray(0, 2)]) },
      { dir: 'up', skip: 10 },
      { dir: 'up', data: b.subarray(12) },
    ]);
    expect(conn.counters('up')).toMatchObject({ records: 1, appDataBytes: 205, incompleteBytes: 2, nonTlsBytes: 10 + 293 });
  });

  it('skip() on a non-TLS stream is non-TLS', () => {
    const conn = run([
      { dir: 'up', data: Buffer.from('PING\r\n') },
      { dir: 'up', skip: 1000 },
    ]);
    expect(conn.counters('up')).toEqual(counters({ nonTlsBytes: 1006 }));
  });

  it('an implausible header in the middle of a TLS stream loses sync and warns', () => {
    const conn = run([{ dir: 'up', data: Buffer.concat([a, Buffer.from('garbage!'), b]) }]);
    expect(conn.counters('up')).toMatchObject({ records: 2, appDataBytes: 510, nonTlsBytes: 8, exact: false });
    expect(conn.warnings.find((w) => w.kind === 'tls-lost-sync')).toMatchObject({ count: 1 });
  });
});

describe('TLS 1.2 handshake kinds and record overhead', () => {
  const random = Buffer.alloc(32, 0x11);
  const ccs = record(CCS, Buffer.from([1]));

  it('resumed: ServerHello, NewSessionTicket, ChangeCipherSpec with no Certificate', () => {
    const conn = run([
      { dir: 'up', data: record(HANDSHAKE, clientHello({ random })) },
      {
        dir: 'down',
        data: Buffer.concat([
          record(HANDSHAKE, serverHello({ suite: 0xc030 })),
          record(HANDSHAKE, handshake(4, Buffer.alloc(90))),
          ccs,
        ]),
      },
    ]);
    expect(conn.info()).toMatchObject({
      handshake: 'resumed',
      version: 'TLS1.2',
      cipherSuite: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    });
  });

  it('resumed by an echoed session ID when the flight was cut before ChangeCipherSpec', () => {
    const sessionId = Buffer.alloc(32, 0x5a);
    const conn = run([
      { dir: 'up', data: record(HANDSHAKE, clientHello({ sessionId })) },
      { dir: 'down', data: record(HANDSHAKE, serverHello({ suite: 0xc02f, sessionId })) },
    ]);
    expect(conn.info()?.handshake).toBe('resumed');
  });

  it('incomplete without a ServerHello; full with a Certificate even when a session ID was offered', () => {
    const sessionId = Buffer.alloc(32, 0x5a);
    const hello = record(HANDSHAKE, clientHello({ sessionId }));
    expect(run([{ dir: 'up', data: hello }]).info()).toMatchObject({ handshake: 'incomplete', version: null });
    const full = run([
      { dir: 'up', data: hello },
      {
        dir: 'down',
        data: Buffer.concat([
          record(HANDSHAKE, serverHello({ suite: 0xc02f, sessionId: Buffer.alloc(32, 0x77) })),
          record(HANDSHAKE, handshake(11, Buffer.alloc(10))),
        ]),
      },
    ]);
    expect(full.info()?.handshake).toBe('full');
  });

  it('handshake messages spanning records, several per record, and hellos split across records', () => {
    const messages = Buffer.concat([
      serverHello({ suite: 0xcca8 }),
      handshake(11, Buffer.alloc(3000, 1)),
      handshake(14, Buffer.alloc(0)),
    ]);
    const pieces = [messages.subarray(0, 20), messages.subarray(20, 1500), messages.subarray(1500)];
    const records = pieces.map((m) => record(HANDSHAKE, m));
    const conn = run([
      { dir: 'up', data: record(HANDSHAKE, clientHello({ serverName: 'a.b' })) },
      { dir: 'down', data: Buffer.concat(records) },
      { dir: 'up', data: record(APP, Buffer.alloc(116)) },
      { dir: 'down', data: record(APP, Buffer.alloc(216)) },
    ]);
    expect(conn.info()).toMatchObject({ handshake: 'full', cipherSuite: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256' });
    // ChaCha20-Poly1305 in TLS 1.2: header + 16-byte tag, no explicit nonce (RFC 7905 §2).
    expect(conn.counters('up').appDataOverheadBytes).toBe(21);
    expect(conn.counters('down').appDataOverheadBytes).toBe(21);
  });

  it('CBC overhead: explicit IV (TLS 1.1+), MAC and one padding byte, with a warning that it is a lower bound', () => {
    const conn = run([
      { dir: 'up', data: record(HANDSHAKE, clientHello()) },
      { dir: 'down', data: record(HANDSHAKE, serverHello({ suite: 0x002f })) },
      { dir: 'up', data: record(APP, Buffer.alloc(16 + 64)) },
      { dir: 'up', data: record(APP, Buffer.alloc(16 + 128)) },
    ]);
    expect(conn.counters('up').appDataOverheadBytes).toBe(2 * (5 + 16 + 20 + 1));
    expect(conn.warnings).toMatchObject([{ kind: 'tls-cbc-overhead-estimated', count: 2 }]);
  });

  it('an unknown suite is named by its code and its overhead counted as the header only', () => {
    const conn = run([
      { dir: 'up', data: record(HANDSHAKE, clientHello()) },
      { dir: 'down', data: record(HANDSHAKE, serverHello({ suite: 0x1234 })) },
      { dir: 'down', data: record(APP, Buffer.alloc(50)) },
    ]);
    expect(conn.info()?.cipherSuite).toBe('0x1234');
    expect(conn.counters('down').appDataOverheadBytes).toBe(5);
    // Neither a Certificate nor a ChangeCipherSpec followed the ServerHello: full or resumed is not known.
    expect(conn.info()?.handshake).toBe('unknown');
    expect(conn.warnings.map((w) => w.kind)).toEqual(['tls-suite-unknown', 'tls-handshake-unknown']);
  });

  it('a malformed ServerHello is warned about; the record still counts', () => {
    const conn = run([
      { dir: 'up', data: record(HANDSHAKE, clientHello()) },
      { dir: 'down', data: record(HANDSHAKE, handshake(2, Buffer.alloc(10))) },
    ]);
    expect(conn.counters('down')).toMatchObject({ records: 1, handshakeBytes: 19 });
    expect(conn.info()?.handshake).toBe('incomplete');
    expect(conn.warnings.map((w) => w.kind)).toEqual(['tls-hello-unparsed']);
  });
});

describe('TLS 1.3 handshake kind', () => {
  it('resumed iff the ServerHello carries pre_shared_key; the version comes from supported_versions', () => {
    for (const psk of [false, true]) {
      const conn = run([
        { dir: 'up', data: record(HANDSHAKE, clientHello({ suites: [0x1302] }), 0x0301) },
        { dir: 'down', data: record(HANDSHAKE, serverHello({ suite: 0x1302, tls13: true, psk })) },
      ]);
      expect(conn.info()).toMatchObject({
        version: 'TLS1.3',
        cipherSuite: 'TLS_AES_256_GCM_SHA384',
        handshake: psk ? 'resumed' : 'full',
      });
    }
  });
});

describe('TLS 1.3 drafts (0x7F10-0x7F17)', () => {
  it('a draft without pre_shared_key is unknown with a warning naming the draft, never full or resumed', () => {
    for (const draft of [0x16, 0x17]) {
      const conn = run([
        { dir: 'up', data: record(HANDSHAKE, clientHello({ suites: [0x1301] }), 0x0301) },
        { dir: 'down', data: Buffer.concat([record(HANDSHAKE, serverHello({ suite: 0x1301, draft })), record(APP, Buffer.alloc(2000))]) },
        { dir: 'up', data: record(APP, Buffer.alloc(80)) },
      ]);
      expect(conn.info()?.handshake, `draft ${draft}`).toBe('unknown');
      const warning = conn.warnings.find((w) => w.kind === 'tls-handshake-unknown');
      expect(warning?.message).toContain('a TLS 1.3 draft whose handshake this analyzer does not parse');
    }
  });

  it('a draft before 22 (its version in legacy_version, no session id) is read too, and is unknown', () => {
    // draft-ietf-tls-tls13-21 §4.1.3: version(2) random(32) cipher_suite(2) extensions.
    const body = Buffer.concat([Buffer.from([0x7f, 0x15]), Buffer.alloc(32, 0xcd), Buffer.from([0x13, 0x01]), Buffer.from([0x00, 0x00])]);
    const conn = run([
      { dir: 'up', data: record(HANDSHAKE, clientHello({ suites: [0x1301] }), 0x0301) },
      { dir: 'down', data: record(HANDSHAKE, handshake(2, body)) },
    ]);
    expect(conn.info()?.handshake).toBe('unknown');
    expect(conn.warnings.map((w) => w.kind)).toContain('tls-handshake-unknown');
  });
});

describe('request estimate', () => {
  it('counts client flights answered by server flights, in capture order', () => {
    const up = record(APP, Buffer.alloc(30));
    const down = record(APP, Buffer.alloc(40));
    const conn = run([
      { dir: 'down', data: down }, // unsolicited: not a request
      { dir: 'up', data: up },
      { dir: 'up', data: up },
      { dir: 'down', data: down },
      { dir: 'down', data: down },
      { dir: 'up', data: up },
      { dir: 'down', data: down },
      { dir: 'up', data: up }, // never answered
    ]);
    expect(conn.requests).toBe(2);
  });
});
