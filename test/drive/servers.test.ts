/**
 * The transports against the benchmark's real servers (the embedded agent server and nginx) with the default
 * workload's requests: every mode gets 200s, and the servers' own counters (connections, full and resumed
 * handshakes) say what each mode should do to them.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../bench/drive/client.ts';
import type { AgentRequest, Mode, RequestOutcome, TlsVersion } from '../../bench/model/index.ts';
import { startAgentServer, startNginx, type AgentServer, type AgentServerOptions } from '../../bench/serve/index.ts';
import { buildSchedule, loadWorkload } from '../../bench/workload/index.ts';

const CERT_DIR = 'fixtures/certs/rsa2048';
/** Short, so the idle-close test waits little; long enough that back-to-back requests never meet it. */
const IDLE_TIMEOUT_MS = 1_500;

const SERVERS: [string, (o: AgentServerOptions) => Promise<AgentServer>][] = [
  ['embedded', startAgentServer],
  ['nginx', startNginx],
];
const VERSIONS: TlsVersion[] = ['tls1.2', 'tls1.3'];

describe.each(SERVERS)('drive against the %s server', (_name, start) => {
  describe.each(VERSIONS)('%s', (tls) => {
    let server: AgentServer;
    let ca: Buffer;
    let schedule: AgentRequest[];

    beforeAll(async () => {
      ca = await readFile(`${CERT_DIR}/root.pem`);
      const workload = await loadWorkload('fixtures/workloads/osquery-default.json');
      schedule = buildSchedule(workload, { endpoints: 1, virtualMinutes: 1, seed: 7 });
      server = await start({ tls, certDir: CERT_DIR, sessionTickets: true, sessionCache: true, idleTimeoutMs: IDLE_TIMEOUT_MS });
    });
    afterAll(async () => {
      await server?.close();
    });

    async function run(mode: Mode, requests: AgentRequest[]): Promise<{ outcomes: RequestOutcome[]; client: AgentClient }> {
      await server.resetStats();
      const client = new AgentClient({ mode, host: '127.0.0.1', port: server.port, servername: 'localhost', ca, tls, sessionTimeoutMs: 0 });
      const outcomes = await Promise.all(requests.map((r) => client.send(r)));
      await client.close();
      return { outcomes, client };
    }

    function statuses(outcomes: RequestOutcome[]): (number | string)[] {
      return outcomes.map((o) => (o.state === 'ok' ? o.status : o.error));
    }

    it('fresh: every request answered, one full handshake each', async () => {
      const { outcomes } = await run('fresh', schedule);
      expect(statuses(outcomes)).toEqual(schedule.map(() => 200));
      const stats = await server.stats();
      expect(stats.connections).toBe(schedule.length);
      expect(stats.handshakes).toEqual({ full: schedule.length, resumed: 0 });
    });

    it('resumed: one full handshake, then resumption', async () => {
      const requests = schedule.filter((r) => r.channel === 'logger').slice(0, 5);
      const { outcomes } = await run('resumed', requests);
      expect(statuses(outcomes)).toEqual(requests.map(() => 200));
      const stats = await server.stats();
      expect(stats.handshakes).toEqual({ full: 1, resumed: requests.length - 1 });
    });

    it('persistent: one connection per channel', async () => {
      const { outcomes } = await run('persistent', schedule);
      expect(statuses(outcomes)).toEqual(schedule.map(() => 200));
      const channels = new Set(schedule.map((r) => r.channel)).size;
      const stats = await server.stats();
      expect(stats.connections).toBe(channels);
      expect(stats.handshakes).toEqual({ full: channels, resumed: 0 });
    });

    it('persistent: after the server idle-closed the connection, the request is retried once', async () => {
      await server.resetStats();
      const client = new AgentClient({ mode: 'persistent', host: '127.0.0.1', port: server.port, servername: 'localhost', ca, tls, sessionTimeoutMs: 0 });
      const [first, second] = schedule.filter((r) => r.channel === 'logger');
      if (first === undefined || second === undefined) throw new Error('the default workload has logger requests');
      expect(await client.send(first)).toMatchObject({ state: 'ok', status: 200, retried: false });
      await sleep(IDLE_TIMEOUT_MS * 2);
      expect(await client.send(second)).toMatchObject({ state: 'ok', status: 200, retried: true, newConnection: true });
      await client.close();
      expect(client.connections().map((c) => c.closedBy)).toEqual(['server', 'client']);
    });
  });
});
