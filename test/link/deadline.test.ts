/**
 * A server that stops answering on an emulated path: the agent's request deadline turns the request into a
 * counted failure, never a hang. The server runs in the link's namespace behind a wan path; it is frozen
 * (SIGSTOP) after a first answered request, so its TCP stack still ACKs (the kernel answers, the process
 * does not) and only the deadline can end the second request.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AgentClient } from '../../bench/drive/index.ts';
import { WAN, openLink, type Link } from '../../bench/link/index.ts';
import type { AgentRequest } from '../../bench/model/index.ts';
import { startAgentServer, type AgentServer } from '../../bench/serve/agent-server.ts';
import { CERT_DIR, options } from '../serve/server-suite.ts';
import { describeUnless } from '../support/skip.ts';
import { LINK_SKIP, ROOT_REASON } from './helpers.ts';

/** Short, so the test is: the agent's own is 16 s, and the same timer enforces both. */
const DEADLINE_MS = 1500;

describeUnless(LINK_SKIP, `a server that stops answering behind wan (${ROOT_REASON})`, () => {
  let link: Link;
  let server: AgentServer;

  beforeAll(async () => {
    link = await openLink({ profile: WAN, prefix: 'trbd', seed: 3 });
    server = await startAgentServer(options({ host: link.serverIp, command: link.serverCommand }));
  }, 60_000);

  afterAll(async () => {
    if (server !== undefined) process.kill(server.pid, 'SIGCONT');
    await server?.close();
    await link?.close();
  });

  it('fails the request at its deadline, counted, and the client closes', async () => {
    const request: AgentRequest = {
      endpointIndex: 0, channel: 'logger', api: 'log', path: '/api/v1/osquery/log', atVirtualMs: 0,
      headers: [['content-type', 'application/json']], body: Buffer.from('{"node_key":"k","log_type":"result","data":[]}'),
    };
    const ca = await readFile(`${CERT_DIR.rsa2048}/root.pem`);
    const client = new AgentClient({ mode: 'persistent', host: link.serverIp, port: server.port, servername: 'localhost', ca, tls: 'tls1.3', sessionTimeoutMs: 0, requestDeadlineMs: DEADLINE_MS });
    const first = await client.send(request);
    expect(first.state).toBe('ok');

    process.kill(server.pid, 'SIGSTOP');
    const started = performance.now();
    const second = await client.send(request);
    const elapsed = performance.now() - started;
    expect(second.state).toBe('failed');
    expect(second.state === 'failed' ? second.error : '').toMatch(/deadline of 1500 ms exceeded/);
    // The deadline, not a TCP timeout: within a few hundred ms of it on a busy machine.
    expect(elapsed).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(elapsed).toBeLessThan(DEADLINE_MS + 1000);
    await client.close();
  }, 30_000);
});
