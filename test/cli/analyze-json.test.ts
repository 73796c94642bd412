/**
 * `connectionJson` writes each connection of `analyze --json` field by field for speed; JSON.stringify is the
 * oracle it must equal, character for character, on every connection of every golden capture (with and
 * without its key log) and on hand-made values that stress the string and number forms.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../bench/analyze/capture.ts';
import { connectionJson, JsonWriter } from '../../bench/cli/analyze-json.ts';
import { PassThrough } from 'node:stream';
import { emptyTrafficCounters, type ConnectionReport } from '../../bench/model/index.ts';
import { prng } from '../pcap/helpers.ts';

const PCAPS = join(import.meta.dirname, '../../fixtures/pcaps');
const captures = readdirSync(PCAPS).filter((name) => /\.pcap(ng)?$/.test(name));

/** A connection with strings that need escaping, nulls, a fraction and numbers beyond 32 bits. */
function handMade(): ConnectionReport {
  const up = emptyTrafficCounters();
  up.wireBytes = 2 ** 53 - 1;
  up.tls.exact = false;
  return {
    index: 7,
    client: { ip: '2001:db8::1', port: 1 },
    server: { ip: '::ffff:192.0.2.1', port: 65535 },
    serverSideBy: 'lower-port',
    synSeen: false,
    closedBy: 'open',
    firstPacketMs: 0.1 + 0.2,
    lastPacketMs: 1e21,
    up,
    down: emptyTrafficCounters(),
    tls: { version: null, cipherSuite: null, handshake: 'incomplete', serverName: 'q"uote\\back\u0001\u2028é', decrypted: true, plaintextPrefix: 'http-connect' },
    requests: 0,
  };
}

describe('connectionJson equals JSON.stringify', () => {
  it('on every connection of every golden capture', async () => {
    let compared = 0;
    for (const name of captures) {
      const path = join(PCAPS, name);
      const keyLog = path.replace(/\.pcap(ng)?$/, '.keylog');
      const runs = [{}, ...(existsSync(keyLog) ? [{ keyLogPath: keyLog }] : [])];
      for (const options of runs) {
        const result = await analyzeCapture(path, options);
        for (const c of result.connections) {
          expect(connectionJson(c), `${name} connection ${c.index}`).toBe(JSON.stringify(c));
          compared++;
        }
      }
    }
    expect(captures.length).toBeGreaterThan(20);
    expect(compared).toBeGreaterThan(80);
  });

  it('on strings that need escaping, nulls, fractions and large numbers', () => {
    const base = handMade();
    for (const c of [base, { ...base, tls: null }, { ...base, firstPacketMs: -0, lastPacketMs: 5e-7 }]) {
      expect(connectionJson(c)).toBe(JSON.stringify(c));
    }
  });

  it('on packet times of every form: µs and ns captures, long ones, and fractions no decimal holds', () => {
    const base = handMade();
    const random = prng(0x7e57);
    const firstNsec = Math.floor(random() * 1e9);
    /** As the analyzer makes them: ms since the first packet from (whole seconds since it, nanoseconds). */
    const packetMs = (sec: number, nsec: number) => sec * 1000 + (nsec - firstNsec) / 1e6;
    const values = [
      1e-6, 1e-3, 0.5, 0.1 + 0.2, 1 / 3, Math.PI, 999_999_999.999_999, 999_999_999.999_999_5, 1e9 - 0.5, 1e9 + 0.25,
      123_456.000_001, 0.000_999, 5e-7, -0.001, -1.5, 2 ** 31 + 0.5, Number.MIN_VALUE, Number.MAX_VALUE,
    ];
    for (let i = 0; i < 20_000; i++) {
      const sec = Math.floor(random() * 10 ** Math.floor(random() * 7));
      values.push(packetMs(sec, Math.floor(random() * 1e6) * 1000)); // a microsecond capture
      values.push(packetMs(sec, Math.floor(random() * 1e9))); // a nanosecond capture
      values.push(random() * 10 ** Math.floor(random() * 12 - 3)); // any double, mostly not a short decimal
    }
    let mismatches = 0;
    for (let i = 0; i < values.length; i += 2) {
      const c = { ...base, firstPacketMs: values[i]!, lastPacketMs: values[i + 1] ?? 0 };
      if (connectionJson(c) !== JSON.stringify(c)) {
        expect(connectionJson(c), `firstPacketMs ${values[i]}, lastPacketMs ${values[i + 1]}`).toBe(JSON.stringify(c));
        mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });
});

describe('JsonWriter', () => {
  /** Writes `order` (indices) through a writer holding at most `holdLimitBytes`; returns the parsed document. */
  function written(order: number[], holdLimitBytes: number): { connections: ConnectionReport[]; total: unknown } {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    const writer = new JsonWriter(out, holdLimitBytes);
    for (const index of order) writer.connection({ ...handMade(), index });
    const summary = { schema: 'tls-reuse-bench/analyze@1', total: { connections: order.length } } as unknown as Parameters<JsonWriter['finish']>[0];
    writer.finish(summary);
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  }

  it('lists connections by index whatever order they end in, in memory and through run files', () => {
    const random = prng(0x50);
    const order = Array.from({ length: 3000 }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // One connection open the whole time (index 0 ends last), as a long-lived connection does.
    order.splice(order.indexOf(0), 1);
    order.push(0);
    const expected = Array.from({ length: 3000 }, (_, i) => ({ ...handMade(), index: i }));
    // 64 KB holds about 80 connections: dozens of run files; 1 GB holds them all in memory.
    for (const limit of [64 * 1024, 1 << 30]) {
      const document = written(order, limit);
      expect(document.connections.map((c) => c.index)).toEqual(expected.map((c) => c.index));
      expect(document.connections).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(document.total).toEqual({ connections: 3000 });
    }
  });
});
