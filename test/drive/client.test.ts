import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient, type TransportOptions } from '../../bench/drive/client.ts';
import type { AgentRequest, Channel, RequestOutcome, TlsVersion } from '../../bench/model/index.ts';
import { startTestServer, type Responder, type TestServer } from './tls-server.ts';
import { itUnless } from '../support/skip.ts';

const CERTS = new URL('../../fixtures/certs/rsa2048/', import.meta.url);
const CHAIN = readFileSync(new URL('chain.pem', CERTS));
const KEY = readFileSync(new URL('leaf.key', CERTS));
const ROOT = readFileSync(new URL('root.pem', CERTS));
const OTHER_ROOT = readFileSync(new URL('../ecdsa-p256/root.pem', CERTS));
const VERSIONS: TlsVersion[] = ['tls1.2', 'tls1.3'];
const NODE_VERSION = { 'tls1.2': 'TLSv1.2', 'tls1.3': 'TLSv1.3' } as const;

let server: TestServer | undefined;
let client: AgentClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.stop();
  client = undefined;
  server = undefined;
});

async function setUp(
  tls: TlsVersion,
  options: Partial<TransportOptions> & { respond?: Responder; idleTimeoutMs?: number; sessionIdOnly?: boolean } = {},
): Promise<{ server: TestServer; client: AgentClient }> {
  const { respond, idleTimeoutMs, sessionIdOnly, ...transport } = options;
  server = await startTestServer({
    key: KEY,
    cert: CHAIN,
    version: NODE_VERSION[tls],
    ...(respond === undefined ? {} : { respond }),
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
    ...(sessionIdOnly === undefined ? {} : { sessionIdOnly }),
  });
  client = new AgentClient({
    mode: 'fresh',
    host: '127.0.0.1',
    port: server.port,
    servername: 'localhost',
    ca: ROOT,
    tls,
    sessionTimeoutMs: 0,
    ...transport,
  });
  return { server, client };
}

function agentRequest(channel: Channel, n: number, endpointIndex = 0): AgentRequest {
  return {
    endpointIndex,
    channel,
    api: channel === 'logger' ? 'log' : 'config',
    path: channel === 'logger' ? '/api/v1/osquery/log' : '/api/v1/osquery/config',
    atVirtualMs: n * 1000,
    headers: [
      ['Content-Type', 'application/json'],
      ['Accept', 'application/json'],
      ['User-Agent', 'osquery/5.12.1'],
    ],
    body: Buffer.from(JSON.stringify({ node_key: 'k', n })),
  };
}

function ok(outcome: RequestOutcome): Extract<RequestOutcome, { state: 'ok' }> {
  if (outcome.state !== 'ok') throw new Error(`request failed: ${outcome.error}`);
  return outcome;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exact equality of the client's raw socket counters with the server's, per connection and in total. */
async function expectBytesReconcile(s: TestServer, c: AgentClient): Promise<void> {
  await s.allClosed();
  const records = c.connections();
  expect(records.length).toBe(s.connections.length);
  for (const record of records) {
    const seen = s.connections.find((conn) => conn.remotePort === record.localPort);
    expect(seen, `server saw connection ${record.id}`).toBeDefined();
    expect(record.bytes).toEqual({ up: seen?.rawBytesRead, down: seen?.rawBytesWritten });
  }
  const serverUp = s.connections.reduce((sum, conn) => sum + conn.rawBytesRead, 0);
  const serverDown = s.connections.reduce((sum, conn) => sum + conn.rawBytesWritten, 0);
  expect(c.socketBytes()).toEqual({ up: serverUp, down: serverDown });
  expect(serverUp).toBeGreaterThan(0);
}

describe.each(VERSIONS)('AgentClient over %s', (tls) => {
  it('fresh: a new connection and a full handshake per request, closed after it', async () => {
    const { server: s, client: c } = await setUp(tls, { mode: 'fresh' });
    const outcomes = [];
    for (let n = 0; n < 3; n += 1) outcomes.push(ok(await c.send(agentRequest('config', n))));
    expect(outcomes.map((o) => o.connectionId)).toEqual([0, 1, 2]);
    expect(outcomes.every((o) => o.newConnection && !o.sessionResumed && !o.retried)).toBe(true);
    expect(outcomes.every((o) => o.phases.tcpConnectMs !== null && o.phases.tlsHandshakeMs !== null)).toBe(true);
    await s.allClosed();
    expect(s.connections.map((conn) => conn.sessionReused)).toEqual([false, false, false]);
    expect(c.connections().map((r) => r.closedBy)).toEqual(['client', 'client', 'client']);
    await c.close();
    await expectBytesReconcile(s, c);
  });

  it('resumed: resumes the session from the second connection on', async () => {
    const { server: s, client: c } = await setUp(tls, { mode: 'resumed' });
    const outcomes = [];
    for (let n = 0; n < 4; n += 1) outcomes.push(ok(await c.send(agentRequest('logger', n))));
    expect(outcomes.map((o) => o.sessionResumed)).toEqual([false, true, true, true]);
    expect(outcomes.map((o) => o.connectionId)).toEqual([0, 1, 2, 3]);
    await c.close();
    await s.allClosed();
    expect(s.connections.map((conn) => conn.sessionReused)).toEqual([false, true, true, true]);
    await expectBytesReconcile(s, c);
  });

  const noSessionIds = tls === 'tls1.2' ? null : 'TLS 1.3 has no session ids: it resumes by ticket (PSK) only';
  itUnless(noSessionIds, 'resumed: resumes by session id when the server issues no tickets', async () => {
    const { server: s, client: c } = await setUp(tls, { mode: 'resumed', sessionIdOnly: true });
    const outcomes = [];
    for (let n = 0; n < 3; n += 1) outcomes.push(ok(await c.send(agentRequest('logger', n))));
    expect(outcomes.map((o) => o.sessionResumed)).toEqual([false, true, true]);
    await c.close();
    await s.allClosed();
    expect(s.connections.map((conn) => conn.sessionReused)).toEqual([false, true, true]);
  });

  it('persistent: channels run concurrently, requests of one channel never overlap', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const perConnection = new Map<number, number>();
    let maxPerConnection = 0;
    const { client: c } = await setUp(tls, {
      mode: 'persistent',
      respond: async (request) => {
        const onConnection = (perConnection.get(request.connectionIndex) ?? 0) + 1;
        perConnection.set(request.connectionIndex, onConnection);
        maxPerConnection = Math.max(maxPerConnection, onConnection);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Hold each answer so both channels' requests are outstanding at the same time.
        await sleep(100);
        inFlight -= 1;
        perConnection.set(request.connectionIndex, onConnection - 1);
        return { body: '{}' };
      },
    });
    const sent = [0, 1, 2].flatMap((n) => [c.send(agentRequest('config', n)), c.send(agentRequest('logger', n))]);
    const outcomes = (await Promise.all(sent)).map(ok);
    expect(maxInFlight).toBe(2);
    expect(maxPerConnection).toBe(1);
    expect(new Set(outcomes.map((o) => o.connectionId))).toEqual(new Set([0, 1]));
  });

  it('persistent: reuses the channel connection and writes the exact agent request', async () => {
    const { server: s, client: c } = await setUp(tls, { mode: 'persistent' });
    const sent = [0, 1, 2].flatMap((n) => [c.send(agentRequest('config', n)), c.send(agentRequest('logger', n))]);
    const outcomes = (await Promise.all(sent)).map(ok);
    const config = outcomes.filter((o) => o.request.channel === 'config');
    const logger = outcomes.filter((o) => o.request.channel === 'logger');
    expect(new Set(config.map((o) => o.connectionId)).size).toBe(1);
    expect(new Set(logger.map((o) => o.connectionId)).size).toBe(1);
    expect(config[0]?.connectionId).not.toBe(logger[0]?.connectionId);
    expect(outcomes.map((o) => o.newConnection).filter(Boolean)).toHaveLength(2);
    expect(config.slice(1).every((o) => o.phases.tcpConnectMs === null && o.phases.tlsHandshakeMs === null)).toBe(true);
    expect(s.connections).toHaveLength(2);

    const first = s.requests.find((r) => r.path === '/api/v1/osquery/config');
    expect(first?.raw.toString('latin1')).toBe(
      'POST /api/v1/osquery/config HTTP/1.1\r\n' +
        'Content-Type: application/json\r\n' +
        'Accept: application/json\r\n' +
        'User-Agent: osquery/5.12.1\r\n' +
        `Host: localhost:${s.port}\r\n` +
        'Content-Length: 22\r\n' +
        '\r\n' +
        '{"node_key":"k","n":0}',
    );

    const before = c.connections().map((r) => r.bytes.up);
    await c.close();
    // Closing the agent's way writes nothing: no close_notify, just the TCP FIN.
    expect(c.connections().map((r) => r.bytes.up)).toEqual(before);
    expect(c.connections().map((r) => r.closedBy)).toEqual(['client', 'client']);
    await expectBytesReconcile(s, c);
  });

  it('persistent: drops the client after the session timeout, counted from the first request', async () => {
    let now = 0;
    const { server: s, client: c } = await setUp(tls, { mode: 'persistent', sessionTimeoutMs: 1000, clock: () => now });
    const ids: number[] = [];
    for (const at of [0, 500, 1001, 1500, 2001, 2002, 2100]) {
      now = at;
      ids.push(ok(await c.send(agentRequest('config', at))).connectionId);
    }
    // 1001 finds the timeout (1000 ms since 0) expired: it still uses the old client, which is then dropped.
    // The clock restarts at 1001, so 2001 is within it and 2002 is the next expiry.
    expect(ids).toEqual([0, 0, 0, 1, 1, 1, 2]);
    const records = c.connections();
    expect(records.map((r) => r.requests)).toEqual([3, 3, 1]);
    expect(records.map((r) => r.closedBy)).toEqual(['client', 'client', 'open']);
    expect(records.every((r) => !r.sessionResumed)).toBe(true);
    await c.close();
    await expectBytesReconcile(s, c);
  });

  it('persistent: a request on a connection the server closed while idle is retried once and succeeds', async () => {
    const { server: s, client: c } = await setUp(tls, { mode: 'persistent', idleTimeoutMs: 50 });
    const first = ok(await c.send(agentRequest('config', 0)));
    while (!s.connections[0]?.idleClosed) await sleep(20);
    await sleep(100);
    const second = ok(await c.send(agentRequest('config', 1)));
    expect(first).toMatchObject({ connectionId: 0, newConnection: true, retried: false });
    expect(second).toMatchObject({ connectionId: 1, newConnection: true, retried: true, sessionResumed: false });
    // The dead connection carried the request's bytes before the client learned it was closed.
    expect(s.requests.map((r) => [r.connectionIndex, r.late])).toEqual([
      [0, false],
      [0, true],
      [1, false],
    ]);
    expect(c.connections().map((r) => [r.requests, r.closedBy])).toEqual([
      [2, 'server'],
      [1, 'open'],
    ]);
    await c.close();
    await expectBytesReconcile(s, c);
  });

  it('honours Connection: close and decodes chunked responses', async () => {
    let n = 0;
    const body = JSON.stringify({ config: 'x'.repeat(11_000) });
    const { server: s, client: c } = await setUp(tls, {
      mode: 'persistent',
      respond: () => ({ body, chunked: true, connectionClose: n++ === 0 }),
    });
    const outcomes = [];
    for (let i = 0; i < 3; i += 1) outcomes.push(ok(await c.send(agentRequest('config', i))));
    expect(outcomes.map((o) => o.connectionId)).toEqual([0, 1, 1]);
    expect(outcomes.every((o) => o.responseBodyBytes === body.length && !o.retried)).toBe(true);
    expect(c.connections()[0]?.closedBy).toBe('server');
    await c.close();
    expect(s.connections).toHaveLength(2);
  });

  it('writes every connection secrets to the key log, matching the server', async () => {
    const keyLog = new PassThrough();
    const lines: string[] = [];
    keyLog.on('data', (chunk: Buffer) => lines.push(...chunk.toString('latin1').split('\n').filter((l) => l !== '')));
    const { server: s, client: c } = await setUp(tls, { mode: 'fresh', keyLog });
    for (let n = 0; n < 3; n += 1) ok(await c.send(agentRequest('logger', n)));
    await c.close();
    await s.allClosed();
    const labels = tls === 'tls1.2' ? ['CLIENT_RANDOM'] : ['CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0'];
    for (const label of labels) {
      const randoms = new Set(lines.filter((l) => l.startsWith(`${label} `)).map((l) => l.split(' ')[1]));
      expect(randoms.size, label).toBe(3);
    }
    expect(lines.every((l) => /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/.test(l))).toBe(true);
    expect(new Set(lines)).toEqual(new Set(s.keyLog.map((l) => l.trimEnd())));
  });
});

describe('AgentClient failures', () => {
  it('fails a request at its deadline on a server that never answers, without retrying', async () => {
    const { server: s, client: c } = await setUp('tls1.3', { mode: 'persistent', requestDeadlineMs: 300, respond: () => 'hang' });
    const started = performance.now();
    const outcome = await c.send(agentRequest('config', 0));
    expect(outcome.state).toBe('failed');
    expect(outcome.state === 'failed' ? outcome.error : '').toMatch(/deadline of 300 ms/);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(c.connections().map((r) => r.closedBy)).toEqual(['error']);
    await s.allClosed();
    expect(s.connections).toHaveLength(1);
    // The next request opens a new connection.
    const next = await c.send(agentRequest('config', 1));
    expect(next).toMatchObject({ state: 'failed', connectionId: 1 });
  });

  it('fails verification against the wrong CA, retrying once like the agent', async () => {
    const { server: s, client: c } = await setUp('tls1.2', { mode: 'fresh', ca: OTHER_ROOT });
    const outcome = await c.send(agentRequest('config', 0));
    expect(outcome.state).toBe('failed');
    expect(outcome.state === 'failed' ? outcome.error : '').toMatch(/handshake/);
    expect(c.connections()).toHaveLength(2);
    await c.close();
    await s.allClosed();
    expect(s.connections).toHaveLength(2);
  });

  it('fails when nothing listens, as data', async () => {
    const { server: s, client: c } = await setUp('tls1.3', { mode: 'fresh' });
    await s.stop();
    const outcome = await c.send(agentRequest('config', 0));
    expect(outcome).toMatchObject({ state: 'failed', connectionId: 1 });
    expect(outcome.state === 'failed' ? outcome.error : '').toMatch(/ECONNREFUSED/);
  });

  it('close() leaves no socket of this process open', async () => {
    const { server: s, client: c } = await setUp('tls1.3', { mode: 'persistent' });
    await Promise.all((['config', 'logger', 'distributed'] as Channel[]).map((ch) => c.send(agentRequest(ch, 0))));
    const open = async (): Promise<string[]> => {
      const { stdout } = await execa('ss', ['-tanpH', 'state', 'established', `dport = :${s.port}`]);
      return stdout.split('\n').filter((line) => line.includes(`pid=${process.pid},`));
    };
    expect(await open()).toHaveLength(3);
    await c.close();
    expect(await open()).toHaveLength(0);
    await s.allClosed();
    expect(s.connections.every((conn) => conn.closed)).toBe(true);
  });
});
