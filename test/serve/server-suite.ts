/**
 * Behaviour both servers must share (the embedded agent server and nginx), run against each by
 * `agent-server.test.ts` and `nginx.test.ts`.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { CertKind, TlsVersion } from '../../bench/model/index.ts';
import type { AgentServer, AgentServerOptions } from '../../bench/serve/protocol.ts';
import { AGENT_API_PATHS } from '../../bench/workload/agent-api.ts';
import { connect, oneShot, rootCa } from './client.ts';

export const CERT_DIR: Record<Exclude<CertKind, 'custom'>, string> = {
  rsa2048: 'fixtures/certs/rsa2048',
  'ecdsa-p256': 'fixtures/certs/ecdsa-p256',
};

export function options(over: Partial<AgentServerOptions> = {}): AgentServerOptions {
  return { tls: 'tls1.3', certDir: CERT_DIR.rsa2048, sessionTickets: true, sessionCache: false, idleTimeoutMs: 30_000, ...over };
}

/** The process is gone (or a zombie awaiting its reaper: it runs no code and holds no socket). */
export async function processGone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/** Lines of `ss -ltnH` for a listening TCP socket on `port`. */
export async function listeners(port: number): Promise<string> {
  const { stdout } = await execa('ss', ['-ltnH', `sport = :${port}`]);
  return stdout.trim();
}

/** Waits until `check` holds, polling; fails the test after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function fixture(name: string): Promise<unknown> {
  return JSON.parse(await readFile(`fixtures/api/${name}.json`, 'utf8'));
}

export function defineServerSuite(name: string, start: (o: AgentServerOptions) => Promise<AgentServer>): void {
  let servers: AgentServer[] = [];
  const launch = async (o: AgentServerOptions): Promise<AgentServer> => {
    const s = await start(o);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  describe(`${name}: the agent API`, () => {
    const combos: [TlsVersion, Exclude<CertKind, 'custom'>][] = [
      ['tls1.2', 'rsa2048'], ['tls1.2', 'ecdsa-p256'], ['tls1.3', 'rsa2048'], ['tls1.3', 'ecdsa-p256'],
    ];
    for (const [tls, cert] of combos) {
      it(`answers every API with its fixture JSON over ${tls} with the ${cert} chain`, async () => {
        const s = await launch(options({ tls, certDir: CERT_DIR[cert] }));
        const ca = await rootCa(CERT_DIR[cert]);
        const c = await connect(s.port, ca, { tls });
        expect(c.socket.getProtocol()).toBe(tls === 'tls1.3' ? 'TLSv1.3' : 'TLSv1.2');
        // The server sends leaf + intermediate; the client's trust in the root proves the chain.
        const leaf = c.socket.getPeerCertificate(true);
        expect(leaf.subject.CN).toBe('localhost');
        expect(leaf.issuerCertificate.subject.O).toBe('TLS Reuse Bench Test Trust Services');
        expect(c.socket.authorized).toBe(true);

        const expected: [string, string][] = [
          ['enroll', 'enroll'], ['config', 'config'], ['log', 'log'],
          ['distributed_read', 'distributed_read'], ['distributed_write', 'distributed_write'],
        ];
        for (const [api, file] of expected) {
          const r = await c.post(AGENT_API_PATHS[api as keyof typeof AGENT_API_PATHS], '{"node_key":"k"}');
          expect(r.status).toBe(200);
          expect(r.headers['content-type']).toBe('application/json');
          expect(JSON.parse(r.body.toString('utf8'))).toEqual(await fixture(file));
        }
        const config = await c.post(AGENT_API_PATHS.config, '{"node_key":"k"}');
        expect(config.body.length).toBeGreaterThan(10_000);
        expect(config.body.length).toBeLessThan(12_000);
        c.close();

        const stats = await s.stats();
        expect(stats.requests).toEqual({ enroll: 1, config: 2, log: 1, distributed_read: 1, distributed_write: 1 });
        expect(stats.connections).toBe(1);
      });
    }

    it('pins the TLS version: a client offering only the other version is refused', async () => {
      const s = await launch(options({ tls: 'tls1.2' }));
      const ca = await rootCa(CERT_DIR.rsa2048);
      await expect(connect(s.port, ca, { tls: 'tls1.3' })).rejects.toThrow();
    });

    it('answers unknown paths with 404 and counts them apart', async () => {
      const s = await launch(options());
      const c = await connect(s.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
      expect((await c.post('/api/v1/osquery/carve/begin', '{}')).status).toBe(404);
      c.close();
      const stats = await s.stats();
      expect(stats.notFound).toBe(1);
      expect(Object.values(stats.requests).reduce((a, b) => a + b, 0)).toBe(0);
    });

    it('gzips responses for a client that accepts gzip', async () => {
      const s = await launch(options());
      const c = await connect(s.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
      const r = await c.post(AGENT_API_PATHS.config, '{"node_key":"k"}', { 'Accept-Encoding': 'gzip' });
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(JSON.parse(r.body.toString('utf8'))).toEqual(await fixture('config'));
      c.close();
    });
  });

  describe(`${name}: connections`, () => {
    it('reuses one kept-alive connection, then closes it after idleTimeoutMs', async () => {
      const idleTimeoutMs = 600;
      const s = await launch(options({ idleTimeoutMs }));
      const c = await connect(s.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
      for (let i = 0; i < 3; i += 1) expect((await c.post(AGENT_API_PATHS.log, '{"node_key":"k","log_type":"result","data":[]}')).status).toBe(200);
      const lastResponse = performance.now();
      expect((await s.stats()).connections).toBe(1);
      await c.closed;
      // The server may not close sooner than its idle timeout (timers never fire early; 10% for clock steps).
      expect(performance.now() - lastResponse).toBeGreaterThanOrEqual(idleTimeoutMs * 0.9);
      expect((await s.stats()).requests.log).toBe(3);
    });

    it('keeps an idle connection open while below the idle timeout', async () => {
      const s = await launch(options({ idleTimeoutMs: 60_000 }));
      const c = await connect(s.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
      await c.post(AGENT_API_PATHS.config, '{"node_key":"k"}');
      await sleep(1000);
      expect((await c.post(AGENT_API_PATHS.config, '{"node_key":"k"}')).status).toBe(200);
      c.close();
      const stats = await s.stats();
      expect(stats.connections).toBe(1);
      expect(stats.requests.config).toBe(2);
    });

    it('closes a connection after maxRequestsPerConnection requests', async () => {
      const s = await launch(options({ maxRequestsPerConnection: 2 }));
      const c = await connect(s.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
      await c.post(AGENT_API_PATHS.config, '{"node_key":"k"}');
      const second = await c.post(AGENT_API_PATHS.config, '{"node_key":"k"}');
      expect(second.headers['connection']).toBe('close');
      // Closed by the server right after that response, long before the 30 s idle timeout.
      const closedBy = await Promise.race([c.closed.then(() => 'server'), sleep(10_000).then(() => 'nobody')]);
      expect(closedBy).toBe('server');
    });
  });

  describe(`${name}: resumption`, () => {
    const cases: [TlsVersion, boolean, boolean, boolean][] = [
      // tls, tickets, cache, resumes
      ['tls1.2', true, false, true],
      ['tls1.2', false, false, false],
      ['tls1.2', false, true, true],
      ['tls1.3', true, false, true],
      ['tls1.3', false, false, false],
    ];
    for (const [tls, sessionTickets, sessionCache, resumes] of cases) {
      it(`${tls} with tickets ${sessionTickets ? 'on' : 'off'} and the session cache ${sessionCache ? 'on' : 'off'} ${resumes ? 'resumes' : 'does not resume'}`, async () => {
        const s = await launch(options({ tls, sessionTickets, sessionCache }));
        const ca = await rootCa(CERT_DIR.rsa2048);
        const first = await oneShot(s.port, ca, { tls });
        expect(first.reused).toBe(false);
        // With neither tickets nor a cache, nginx's TLS 1.2 ServerHello carries no session ID: nothing to offer.
        if (resumes) expect(first.session).toBeDefined();
        const second = await oneShot(s.port, ca, first.session === undefined ? { tls } : { tls, session: first.session });
        expect(second.response.status).toBe(200);
        expect(second.reused).toBe(resumes);
        expect((await s.stats()).handshakes).toEqual({ full: resumes ? 1 : 2, resumed: resumes ? 1 : 0 });
      });
    }
  });

  describe(`${name}: accounting and lifecycle`, () => {
    it('counts CPU time, connections and requests after work, and resets them', async () => {
      const s = await launch(options({ sessionTickets: false }));
      const ca = await rootCa(CERT_DIR.rsa2048);
      const connections = 40;
      for (let i = 0; i < connections; i += 1) await oneShot(s.port, ca, { tls: 'tls1.3' });
      const stats = await s.stats();
      expect(stats.requests.config).toBe(connections);
      expect(stats.connections).toBe(connections);
      expect(stats.handshakes.full).toBe(connections);
      // 40 RSA-2048 signatures take tens of ms of CPU: more than one 10 ms clock tick.
      expect(stats.cpuUserMs + stats.cpuSystemMs).toBeGreaterThan(0);
      await s.resetStats();
      const reset = await s.stats();
      expect(reset.requests.config).toBe(0);
      expect(reset.connections).toBe(0);
      expect(reset.cpuUserMs + reset.cpuSystemMs).toBeLessThan(stats.cpuUserMs + stats.cpuSystemMs);
    });

    it('close() leaves no process and no listening socket, and is idempotent', async () => {
      const s = await launch(options());
      expect(await listeners(s.port)).toContain(`127.0.0.1:${s.port}`);
      const c = await connect(s.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
      await c.post(AGENT_API_PATHS.config, '{"node_key":"k"}');
      await Promise.all([s.close(), s.close()]);
      await c.closed;
      expect(await s.exited).toEqual({ code: 0, signal: null });
      expect(await processGone(s.pid)).toBe(true);
      expect(await listeners(s.port)).toBe('');
      await s.close();
    });
  });
}
