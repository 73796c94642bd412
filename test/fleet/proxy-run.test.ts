/**
 * The proxy path (`--proxy`) through the real command line: each new connection of the agents is one
 * CONNECT on the agents' leg, the leg the capture holds (counted with tshark, not our reader), and the run
 * reconciles to the byte. Until `analyze` recognises TLS after a CONNECT (issue 13), the tunnel's bytes
 * are accounted as non-TLS; the counts asserted here do not depend on that.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeUnless } from '../support/skip.ts';
import type { MeasuredScenario, Results } from '../../bench/model/index.ts';
import { cli, liveRunSkipReason, readResults } from '../run/support.ts';

const skip = liveRunSkipReason();
/** The first eight bytes of every CONNECT request, as tshark prints a byte field. */
const CONNECT_PREFIX = '43:4f:4e:4e:45:43:54:20';
/** `CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n`: the shortest request line an agent's CONNECT can have. */
const CONNECT_LINE_MIN_BYTES = 'CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n'.length;

const tinyproxy = (await execa('tinyproxy', ['-v'], { reject: false })).exitCode === 0;
if (!tinyproxy && process.env.CI === 'true') throw new Error('tinyproxy is not installed (scripts/setup.sh installs tinyproxy-bin)');

for (const kind of ['embedded', 'tinyproxy'] as const) {
  const reason = skip ?? (kind === 'tinyproxy' && !tinyproxy ? 'tinyproxy is not installed (scripts/setup.sh installs tinyproxy-bin)' : null);
  describeUnless(reason, `run --proxy ${kind}`, () => {
    let dir: string;
    let results: Results;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), `trb-proxy-${kind}-`));
      const run = await cli(['run', '--proxy', kind, '--endpoints', '5', '--modes', 'fresh,persistent', '--tls', '1.3', '--cert', 'rsa2048', '--virtual-minutes', '2', '--out', dir]);
      if (run.exitCode !== 0) console.log(run.stdout, run.stderr);
      results = readResults(dir);
    }, 180_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    for (const mode of ['fresh', 'persistent']) {
      it(`${mode}: one CONNECT per new connection on the agents' leg, reconciled`, async () => {
        const s = results.scenarios.find((x) => x.spec.mode === mode) as MeasuredScenario;
        expect(s.id).toBe(`${mode}/tls1.3/rsa2048/loopback/node/proxy-${kind}`);
        expect(s.state).toBe('completed');
        expect(s.capture.reconciled).toBe(true);
        const pcap = path.join(dir, s.files.pcap!);
        const count = async (filter: string) =>
          (await execa('tshark', ['-r', pcap, '-Y', filter, '-T', 'fields', '-e', 'frame.number'])).stdout.split('\n').filter((l) => l !== '').length;
        const syns = await count('tcp.flags.syn == 1 && tcp.flags.ack == 0');
        const connects = await count(`tcp.len >= 8 && tcp.payload[0:8] == ${CONNECT_PREFIX}`);
        expect(syns).toBe(s.connections.opened);
        expect(connects).toBe(syns);
        expect(s.fleet?.proxyConnects).toBe(connects);
        expect(s.fleet?.errors.failedRequests).toBe(0);
        if (mode === 'fresh') expect(connects).toBe(s.requests.ok);
        else expect(connects).toBeLessThan(s.requests.ok / 4);
        // TLS after the CONNECT exchange is found on every connection; the exchange itself is the non-TLS part.
        const p = s.perEndpointMinute;
        expect(p.fullHandshakes + p.resumedHandshakes).toBeCloseTo(p.connections, 9);
        expect(s.traffic!.up.tls.nonTlsBytes).toBeGreaterThanOrEqual(connects * CONNECT_LINE_MIN_BYTES);
        expect(s.traffic!.down.tls.nonTlsBytes).toBeGreaterThan(0);
        expect(s.warnings.map((w) => w.kind)).not.toContain('capture-started-midstream');
      });
    }
  });
}
