import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../bench/errors.ts';
import { startAgentServer, type AgentServer } from '../../bench/serve/agent-server.ts';
import { AGENT_API_PATHS, distributedQueryDue } from '../../bench/workload/agent-api.ts';
import { connect, rootCa } from './client.ts';
import { CERT_DIR, defineServerSuite, eventually, listeners, options, processGone } from './server-suite.ts';

defineServerSuite('embedded agent server', startAgentServer);

describe('embedded agent server specifics', () => {
  let server: AgentServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('runs as a child process, apart from the test process', async () => {
    server = await startAgentServer(options());
    expect(server.kind).toBe('node');
    expect(server.pid).not.toBe(process.pid);
    expect(await processGone(server.pid)).toBe(false);
  });

  it('decodes gzipped request bodies and answers a bad body with 400', async () => {
    server = await startAgentServer(options());
    const c = await connect(server.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
    const log = gzipSync(JSON.stringify({ node_key: 'k', log_type: 'status', data: [{ message: 'x' }] }), { level: 9 });
    expect((await c.post(AGENT_API_PATHS.log, log, { 'Content-Encoding': 'gzip' })).status).toBe(200);
    expect((await c.post(AGENT_API_PATHS.log, '{"node_key":')).status).toBe(400);
    c.close();
    const stats = await server.stats();
    expect(stats.requests.log).toBe(1);
    expect(stats.badRequests).toBe(1);
  });

  it('hands out distributed queries on the reads the workload\'s rule marks, per node key', async () => {
    const fraction = 0.3;
    server = await startAgentServer(options({ distributedQueryFraction: fraction }));
    const c = await connect(server.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
    for (const key of ['agent-a', 'agent-b']) {
      for (let read = 0; read < 10; read += 1) {
        const r = await c.post(AGENT_API_PATHS.distributed_read, JSON.stringify({ node_key: key }));
        const queries = Object.keys((JSON.parse(r.body.toString()) as { queries: object }).queries);
        expect(queries.length).toBe(distributedQueryDue(key, read, fraction) ? 1 : 0);
      }
    }
    c.close();
  });

  it('rejects options no server can honour', async () => {
    await expect(startAgentServer(options({ idleTimeoutMs: 0 }))).rejects.toThrow(UsageError);
    await expect(startAgentServer(options({ tls: 'tls1.1' as never }))).rejects.toThrow(/tls: expected tls1.2 or tls1.3/);
  });

  it('fails to start on a bad certificate folder with an InputError carrying the child\'s stderr', async () => {
    const error = await startAgentServer(options({ certDir: 'fixtures/certs/absent' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/failed to start \(exit code 2\)/);
    expect((error as Error).message).toContain('| agent-server: fixtures/certs/absent/chain.pem: cannot read the certificate chain (ENOENT)');
  });

  it('fails to start on a taken port with an InputError naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startAgentServer(options({ port }))).rejects.toThrow(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('exits by itself when its parent dies and the IPC channel closes', async () => {
    const parent = execa(process.execPath, ['--import', 'tsx', 'test/serve/orphan-parent.ts'], { reject: false, stdin: 'ignore', buffer: false });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      parent.stdout.setEncoding('utf8');
      parent.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      parent.once('exit', () => reject(new Error(`orphan-parent exited before starting the server: ${out}`)));
    });
    const { pid, port } = JSON.parse(line) as { pid: number; port: number };
    expect(await processGone(pid)).toBe(false);
    parent.kill('SIGKILL');
    await parent;
    await eventually(() => processGone(pid), 15_000, `server pid ${pid} to exit`);
    await eventually(async () => (await listeners(port)) === '', 5_000, `port ${port} to stop listening`);
  });
});
