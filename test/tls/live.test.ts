/**
 * Real TLS from Node/OpenSSL on 127.0.0.1, every byte teed off the client's TCP socket, then accounted. The
 * expected numbers come from outside the code under test: the raw socket's byte counters, the application
 * bytes the test wrote, record sizes from the RFCs (header + explicit nonce + tag + inner type), and what
 * OpenSSL says it negotiated (protocol, suite, session reuse).
 */
import { createServer as netCreateServer, type AddressInfo, type Socket } from 'node:net';
import * as tls from 'node:tls';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Direction } from '../../bench/model/index.ts';
import { TlsStreamWalker } from '../../bench/tls/walker.ts';
import { parseKeyLog } from '../../bench/tls/keylog.ts';
import type { Step } from './support/build.ts';
import { feed } from './support/build.ts';
import { expectBalanced } from './support/invariant.ts';
import {
  makeCertificate,
  payload,
  runClient,
  ScriptServer,
  TapSocket,
  type Chunk,
  type Exchange,
  type Transcript,
} from './support/live.ts';

/** The largest plaintext fragment (RFC 8446 §5.1): OpenSSL splits each write into records of at most this. */
const MAX_FRAGMENT = 2 ** 14;

/**
 * Bytes each application-data record adds to its plaintext, per suite: 5-byte header, then TLS 1.3: inner
 * type (1) + tag; TLS 1.2 AES-GCM: explicit nonce (8) + tag (16); TLS 1.2 ChaCha20: tag (16).
 */
const RECORD_OVERHEAD: Record<string, number> = {
  TLS_AES_128_GCM_SHA256: 5 + 1 + 16,
  TLS_AES_256_GCM_SHA384: 5 + 1 + 16,
  TLS_CHACHA20_POLY1305_SHA256: 5 + 1 + 16,
  TLS_AES_128_CCM_SHA256: 5 + 1 + 16,
  TLS_AES_128_CCM_8_SHA256: 5 + 1 + 8,
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 5 + 8 + 16,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 5 + 8 + 16,
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 5 + 16,
};
/** A close_notify alert is 2 bytes of plaintext. */
const CLOSE_NOTIFY = 2;

/** Sizes that cross the fragment limit, and a 1-byte request. */
const SCRIPT: Exchange[] = [
  { request: 300, response: 11_000 },
  { request: 20_000, response: 500 },
  { request: 1, response: 40_000 },
];

let cert: { key: Buffer; cert: Buffer };
beforeAll(async () => {
  cert = await makeCertificate();
});

function plaintextBytes(dir: Direction, script: Exchange[]): number {
  return script.reduce((n, e) => n + (dir === 'up' ? e.request : e.response), 0);
}

function appRecords(dir: Direction, script: Exchange[]): number {
  return script.reduce((n, e) => n + Math.ceil((dir === 'up' ? e.request : e.response) / MAX_FRAGMENT), 0);
}

function steps(chunks: Chunk[]): Step[] {
  return chunks.map((c) => ({ dir: c.dir, data: c.data }));
}

/** Accounts a transcript, with or without its key log, checking the invariant and the socket's counters. */
function account(t: Transcript, options: { keys: boolean; pieceBytes?: number; steps?: Step[] }): TlsStreamWalker {
  const keyLog = options.keys ? parseKeyLog(t.keyLogLines.join('\n'), 'node keylog').keyLog : undefined;
  const conn = new TlsStreamWalker(keyLog === undefined ? {} : { keyLog });
  const fed = feed(conn, options.steps ?? steps(t.chunks), options.pieceBytes);
  expectBalanced(conn, fed);
  if (options.steps === undefined) expect(fed).toEqual(t.socketBytes);
  return conn;
}

/** Everything that can be said exactly about a connection that ran SCRIPT, from outside the code under test. */
function expectExact(conn: TlsStreamWalker, t: Transcript, script: Exchange[]): void {
  const overhead = RECORD_OVERHEAD[t.cipherStandardName];
  expect(overhead, t.cipherStandardName).toBeDefined();
  for (const dir of ['up', 'down'] as const) {
    const records = appRecords(dir, script);
    expect(conn.counters(dir), dir).toMatchObject({
      appDataBytes: plaintextBytes(dir, script) + records * (overhead as number),
      appDataOverheadBytes: records * (overhead as number),
      alertBytes: (overhead as number) + CLOSE_NOTIFY,
      otherBytes: 0,
      nonTlsBytes: 0,
      incompleteBytes: 0,
      exact: true,
    });
    expect(conn.counters(dir).handshakeBytes).toBeGreaterThan(0);
  }
  expect(conn.info()).toEqual({
    version: t.protocol?.replace('TLSv', 'TLS'),
    cipherSuite: t.cipherStandardName,
    handshake: t.reused ? 'resumed' : 'full',
    serverName: 'localhost',
    decrypted: t.protocol === 'TLSv1.3',
    plaintextPrefix: null,
  });
  expect(conn.requests).toBe(script.length);
  expect(conn.warnings).toEqual([]);
}

/** Runs a fresh connection and one resuming its session against the same server. */
async function freshAndResumed(serverOptions: tls.TlsOptions, clientOptions: tls.ConnectionOptions = {}) {
  const server = new ScriptServer({ ...cert, ...serverOptions }, SCRIPT);
  const port = await server.listen();
  try {
    const fresh = await runClient(port, SCRIPT, clientOptions);
    const resumed = await runClient(port, SCRIPT, { ...clientOptions, session: fresh.session });
    return { fresh, resumed };
  } finally {
    await server.close();
  }
}

describe('TLS 1.3 from Node, each cipher suite, fresh and resumed', () => {
  const suites = [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'TLS_AES_128_CCM_SHA256',
    'TLS_AES_128_CCM_8_SHA256',
  ];
  for (const suite of suites) {
    it(suite, async () => {
      const tls13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: suite } as const;
      const { fresh, resumed } = await freshAndResumed(tls13, tls13);
      expect([fresh.cipherStandardName, fresh.reused, resumed.reused]).toEqual([suite, false, true]);
      for (const t of [fresh, resumed]) {
        const keyed = account(t, { keys: true });
        expectExact(keyed, t, SCRIPT);

        // Without keys the position rule puts the server's NewSessionTickets and both close_notify alerts in
        // application data; everything else lands where the keys put it.
        const blind = account(t, { keys: false });
        const k = { up: keyed.counters('up'), down: keyed.counters('down') };
        expect(blind.counters('up')).toMatchObject({
          handshakeBytes: k.up.handshakeBytes,
          appDataBytes: k.up.appDataBytes + k.up.alertBytes,
          alertBytes: 0,
          exact: false,
        });
        // OpenSSL sends tickets after a full handshake, none after resuming.
        const tickets = k.down.handshakeBytes - blind.counters('down').handshakeBytes;
        expect(tickets > 0).toBe(!t.reused);
        expect(blind.counters('down')).toMatchObject({
          appDataBytes: k.down.appDataBytes + k.down.alertBytes + tickets,
          alertBytes: 0,
          exact: false,
        });
        expect(blind.info()).toEqual({ ...keyed.info(), decrypted: false });
        expect(blind.warnings.map((w) => [w.kind, w.fix])).toEqual([['tls13-no-keys', 'pass --keylog FILE (SSLKEYLOGFILE)']]);
      }
    });
  }
});

describe('TLS 1.2 from Node, each AEAD family, fresh and resumed by ticket', () => {
  const suites = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'];
  for (const suite of suites) {
    it(suite, async () => {
      const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: suite } as const;
      const { fresh, resumed } = await freshAndResumed(tls12, tls12);
      expect([fresh.reused, resumed.reused]).toEqual([false, true]);
      for (const t of [fresh, resumed]) {
        // TLS 1.2 needs no keys: the outer content types tell everything.
        expectExact(account(t, { keys: false }), t, SCRIPT);
        expectExact(account(t, { keys: true }), t, SCRIPT);
      }
    });
  }

  it('resumed by session ID (tickets off): an abbreviated handshake with no ticket', async () => {
    const sessions = new Map<string, Buffer>();
    const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
    const server = new ScriptServer(
      { ...cert, ...tls12, secureOptions: (await import('node:crypto')).constants.SSL_OP_NO_TICKET },
      SCRIPT,
    );
    server.server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      sessions.set(id.toString('hex'), data);
      done();
    });
    server.server.on('resumeSession', (id: Buffer, done: (error: Error | null, data: Buffer | null) => void) =>
      done(null, sessions.get(id.toString('hex')) ?? null),
    );
    const port = await server.listen();
    try {
      const fresh = await runClient(port, SCRIPT, tls12);
      const resumed = await runClient(port, SCRIPT, { ...tls12, session: fresh.session });
      expect([fresh.reused, resumed.reused]).toEqual([false, true]);
      for (const t of [fresh, resumed]) expectExact(account(t, { keys: false }), t, SCRIPT);
    } finally {
      await server.close();
    }
  });

  it('CBC (ECDHE-RSA-AES128-SHA256): exact record bytes, overhead a documented lower bound', async () => {
    const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256' } as const;
    const { fresh } = await freshAndResumed(tls12, tls12);
    const conn = account(fresh, { keys: false });
    // OpenSSL negotiates encrypt_then_mac (RFC 7366): IV (16) + CBC(plaintext + padding, >= 1 byte) + HMAC-SHA256 (32).
    const record = (n: number): number => 5 + 16 + (Math.floor(n / 16) + 1) * 16 + 32;
    const writes = (dir: Direction): number[] =>
      SCRIPT.flatMap((e) => {
        const n = dir === 'up' ? e.request : e.response;
        return Array.from({ length: Math.ceil(n / MAX_FRAGMENT) }, (_, i) => Math.min(MAX_FRAGMENT, n - i * MAX_FRAGMENT));
      });
    for (const dir of ['up', 'down'] as const) {
      const c = conn.counters(dir);
      expect(c.appDataBytes).toBe(writes(dir).reduce((sum, n) => sum + record(n), 0));
      expect(c.appDataOverheadBytes).toBe(writes(dir).length * (5 + 16 + 32 + 1));
      expect(c.appDataOverheadBytes).toBeLessThanOrEqual(c.appDataBytes - plaintextBytes(dir, SCRIPT));
      expect(c.alertBytes).toBe(record(CLOSE_NOTIFY));
    }
    expect(conn.info()?.cipherSuite).toBe(fresh.cipherStandardName);
    expect(conn.warnings.map((w) => w.kind)).toEqual(['tls-cbc-overhead-estimated']);
  });

  it('renegotiation: the second handshake is encrypted handshake records, still handshake bytes', async () => {
    const tls12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
    const server = new ScriptServer({ ...cert, ...tls12 }, SCRIPT);
    const port = await server.listen();
    try {
      const plain = await runClient(port, SCRIPT, tls12);
      const renegotiated = await runClient(port, SCRIPT, { ...tls12, renegotiateAfter: 1 });
      const before = account(plain, { keys: false });
      const after = account(renegotiated, { keys: false });
      expectExact(after, renegotiated, SCRIPT);
      for (const dir of ['up', 'down'] as const) {
        expect(after.counters(dir).handshakeBytes).toBeGreaterThan(before.counters(dir).handshakeBytes + 100);
      }
    } finally {
      await server.close();
    }
  });
});

describe('HelloRetryRequest', () => {
  it('a client key share the server does not take: HRR, then the real ServerHello', async () => {
    const server = new ScriptServer({ ...cert, minVersion: 'TLSv1.3', ecdhCurve: 'P-256' }, SCRIPT);
    const port = await server.listen();
    try {
      const t = await runClient(port, SCRIPT, { ecdhCurve: 'X25519:P-256' });
      // The server's first handshake message is a ServerHello whose random is SHA-256("HelloRetryRequest").
      const first = Buffer.concat(t.chunks.filter((c) => c.dir === 'down').map((c) => c.data));
      expect(first[5]).toBe(2);
      expect(first.subarray(11, 43).toString('hex')).toBe('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');
      expectExact(account(t, { keys: true }), t, SCRIPT);
    } finally {
      await server.close();
    }
  });
});

describe('slicing, gaps and uncaptured bytes on real traffic', () => {
  let t13: Transcript;
  let t12: Transcript;
  beforeAll(async () => {
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      const server = new ScriptServer({ ...cert, minVersion: version, maxVersion: version }, SCRIPT);
      const port = await server.listen();
      const t = await runClient(port, SCRIPT);
      await server.close();
      if (version === 'TLSv1.3') t13 = t;
      else t12 = t;
    }
  });

  it('1, 3 and 1000-byte pushes give the counters of whole socket reads', () => {
    for (const t of [t13, t12]) {
      const whole = account(t, { keys: true });
      for (const piece of [1, 3, 1000]) {
        const sliced = account(t, { keys: true, pieceBytes: piece });
        for (const dir of ['up', 'down'] as const) expect(sliced.counters(dir)).toEqual(whole.counters(dir));
        expect(sliced.info()).toEqual(whole.info());
        expect(sliced.requests).toBe(whole.requests);
      }
    }
  });

  /**
   * The transcript in capture order with the server's bytes re-cut into whole records (each at the point its
   * last byte arrived, found by the lengths in the record headers), so a test can drop or damage one.
   */
  type RecordStep = { dir: Direction; data: Buffer; record: number };
  function serverRecordSteps(t: Transcript): { steps: RecordStep[]; records: Buffer[] } {
    const steps: RecordStep[] = [];
    const records: Buffer[] = [];
    let pending = Buffer.alloc(0);
    for (const chunk of t.chunks) {
      if (chunk.dir === 'up') {
        steps.push({ dir: 'up', data: chunk.data, record: -1 });
        continue;
      }
      pending = Buffer.concat([pending, chunk.data]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
        const end = 5 + pending.readUInt16BE(3);
        records.push(pending.subarray(0, end));
        steps.push({ dir: 'down', data: pending.subarray(0, end), record: records.length - 1 });
        pending = pending.subarray(end);
      }
    }
    expect(pending.length).toBe(0);
    return { steps, records };
  }

  /** Index of a large application-data record of the server's, after the handshake. */
  function bigServerRecord(records: Buffer[]): number {
    const index = records.findIndex((r, i) => i > 5 && r.length > 10_000);
    expect(index).toBeGreaterThan(0);
    return index;
  }

  it('a whole server record lost (gap): TLS 1.3 decryption finds its sequence again', () => {
    const { steps, records } = serverRecordSteps(t13);
    const big = bigServerRecord(records);
    const lost = records[big] as Buffer;
    const conn = account(t13, {
      keys: true,
      steps: steps.map((step): Step => (step.record === big ? { dir: 'down', gap: true } : step)),
    });
    const whole = account(t13, { keys: true }).counters('down');
    expect(conn.counters('down')).toEqual({
      ...whole,
      records: whole.records - 1,
      appDataBytes: whole.appDataBytes - lost.length,
      appDataOverheadBytes: whole.appDataOverheadBytes - (RECORD_OVERHEAD[t13.cipherStandardName] as number),
      exact: false,
    });
    expect(conn.info()?.decrypted).toBe(true);
    expect(conn.warnings).toEqual([]);
  });

  it('a stretch lost from inside one record to inside the next: incomplete, then non-TLS, then resync', () => {
    for (const t of [t13, t12]) {
      const { steps, records } = serverRecordSteps(t);
      const k = bigServerRecord(records);
      const a = records[k] as Buffer;
      const b = records[k + 1] as Buffer;
      const conn = account(t, {
        keys: true,
        steps: steps.flatMap((step): Step[] => {
          if (step.record === k) return [{ dir: 'down', data: a.subarray(0, 1000) }, { dir: 'down', gap: true }];
          // Only the last 3 bytes of b survive: too few to hold a false header.
          if (step.record === k + 1) return [{ dir: 'down', data: b.subarray(b.length - 3) }];
          return [step];
        }),
      });
      const whole = account(t, { keys: true }).counters('down');
      expect(conn.counters('down')).toEqual({
        ...whole,
        records: whole.records - 2,
        appDataBytes: whole.appDataBytes - a.length - b.length,
        appDataOverheadBytes: whole.appDataOverheadBytes - 2 * (RECORD_OVERHEAD[t.cipherStandardName] as number),
        incompleteBytes: 1000,
        nonTlsBytes: 3,
        exact: false,
      });
      expect(conn.warnings).toEqual([]);
    }
  });

  it('uncaptured bytes inside application-data records: the same counters, exact for TLS 1.2', () => {
    for (const t of [t13, t12]) {
      const { steps } = serverRecordSteps(t);
      let damaged = 0;
      const conn = account(t, {
        keys: true,
        steps: steps.flatMap((step): Step[] => {
          if (step.dir === 'up' || step.data.length < 10_000) return [step];
          damaged++;
          return [
            { dir: 'down', data: step.data.subarray(0, 54) },
            { dir: 'down', skip: step.data.length - 60 },
            { dir: 'down', data: step.data.subarray(step.data.length - 6) },
          ];
        }),
      });
      expect(damaged).toBeGreaterThan(1);
      const whole = account(t, { keys: true }).counters('down');
      // TLS 1.3: a damaged record cannot be opened, so it is classified by position (correctly, here).
      expect(conn.counters('down')).toEqual({ ...whole, exact: t === t12 });
      expect(conn.warnings).toEqual([]);
    }
  });
});

describe('TLS 1.3 KeyUpdate', () => {
  it('openssl s_client "K": both sides move to the next traffic secret and stay decrypted', async () => {
    // Node cannot send a KeyUpdate; OpenSSL's s_client sends one (with update_requested) for a "K" line. The
    // server side is teed here, so up = what the Node server read, down = what it wrote.
    const chunks: Chunk[] = [];
    const keyLogLines: string[] = [];
    let received = '';
    const waiters = new Set<() => void>();
    const changed = (): void => waiters.forEach((check) => check());
    const until = (condition: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (!condition()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    const upChunks = (): number => chunks.filter((c) => c.dir === 'up').length;

    const tlsServer = tls.createServer({ ...cert, minVersion: 'TLSv1.3' }, (socket) => {
      socket.on('data', (data: Buffer) => {
        received += data.toString('latin1');
        socket.write(payload(received === 'hello\n' ? 100 : 200, 1));
        changed();
      });
    });
    tlsServer.on('keylog', (line: Buffer) => keyLogLines.push(line.toString('utf8').trim()));
    let raw: Socket | undefined;
    const plain = netCreateServer((socket) => {
      raw = socket;
      tlsServer.emit('connection', new TapSocket(socket, chunks, 'down', changed));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const port = (plain.address() as AddressInfo).port;
    const client = execa('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-servername', 'localhost'], {
      stdin: 'pipe',
      reject: false,
    });
    const stdin = client.stdin as NodeJS.WritableStream;
    try {
      stdin.write('hello\n');
      await until(() => received === 'hello\n');
      const before = upChunks();
      stdin.write('K\n');
      await until(() => upChunks() > before); // the KeyUpdate record reached the server
      stdin.write('after\n');
      await until(() => received === 'hello\nafter\n');
      stdin.end();
      const result = await client;
      await until(() => raw?.destroyed === true);
      const stdout = String(result.stdout);
      expect(String(result.stderr)).toContain('KEYUPDATE');
      const suite = stdout.match(/Cipher is (\S+)/)?.[1] ?? '';
      const overhead = RECORD_OVERHEAD[suite];
      expect(overhead, suite).toBeDefined();

      const conn = new TlsStreamWalker({ keyLog: parseKeyLog(keyLogLines.join('\n'), 'node server keylog').keyLog });
      const fed = feed(conn, steps(chunks));
      expectBalanced(conn, fed);
      expect(fed).toEqual({ up: raw?.bytesRead, down: raw?.bytesWritten });
      const exact = { exact: true, nonTlsBytes: 0, incompleteBytes: 0, otherBytes: 0 };
      expect(conn.counters('up')).toMatchObject({ appDataBytes: 12 + 2 * (overhead as number), ...exact });
      expect(conn.counters('down')).toMatchObject({ appDataBytes: 300 + 2 * (overhead as number), ...exact });
      expect(conn.info()).toMatchObject({ version: 'TLS1.3', cipherSuite: suite, handshake: 'full', decrypted: true });
      expect(conn.requests).toBe(2);
      expect(conn.warnings).toEqual([]);
    } finally {
      plain.close();
    }
  });
});
