/**
 * `connectionJson` writes each connection of `analyze --json` field by field for speed; JSON.stringify is the
 * oracle it must equal, character for character, on every connection of every golden capture (with and
 * without its key log) and on hand-made values that stress the string and number forms.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../bench/analyze/capture.ts';
import { connectionJson } from '../../bench/cli/analyze-json.ts';
import { emptyTrafficCounters, type ConnectionReport } from '../../bench/model.ts';

const PCAPS = join(import.meta.dirname, '../../fixtures/pcaps');
const captures = readdirSync(PCAPS).filter((name) => /\.pcap(ng)?$/.test(name));

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
    const up = emptyTrafficCounters();
    up.wireBytes = 2 ** 53 - 1;
    up.tls.exact = false;
    const base: ConnectionReport = {
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
      tls: { version: null, cipherSuite: null, handshake: 'incomplete', serverName: 'q"uote\\back\u0001\u2028é', decrypted: true },
      requests: 0,
    };
    for (const c of [base, { ...base, tls: null }, { ...base, firstPacketMs: -0, lastPacketMs: 5e-7 }]) {
      expect(connectionJson(c)).toBe(JSON.stringify(c));
    }
  });
});
