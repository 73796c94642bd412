/** tcpdump's lifecycle as the run sees it: a capture file only its owner reads, and a tcpdump that died on its own. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { TcpdumpCapture } from '../../bench/capture/tcpdump.ts';
import { liveRunSkipReason } from '../run/support.ts';

const skip = liveRunSkipReason();
const dir = mkdtempSync(path.join(tmpdir(), 'trb-tcpdump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skip !== null)('tcpdump', () => {
  it('writes the capture 0600, and stops with its counts', async () => {
    const file = path.join(dir, 'ok.pcap');
    const capture = await TcpdumpCapture.start({ iface: 'lo', ports: [9], file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(capture.stop()).resolves.toMatchObject({ packetsDroppedByKernel: 0 });
  });

  it('killed from outside during the scenario, it is reported as that, not as a tcpdump that ignored SIGINT', async () => {
    const file = path.join(dir, 'killed.pcap');
    const capture = await TcpdumpCapture.start({ iface: 'lo', ports: [9], file });
    process.kill(capture.pid!, 'SIGKILL');
    await sleep(100);
    await expect(capture.stop()).rejects.toThrow(
      `tcpdump stopped during the scenario, before it was asked to (killed by SIGKILL; not by this run)`,
    );
  });
});
