import { readFile, readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../../bench/errors.ts';
import { ServeError } from '../../bench/serve/errors.ts';
import { nginxVersion, startNginx } from '../../bench/serve/nginx.ts';
import type { AgentServer } from '../../bench/serve/protocol.ts';
import { AGENT_API_PATHS } from '../../bench/workload/agent-api.ts';
import { connect, rootCa } from './client.ts';
import { CERT_DIR, defineServerSuite, options, processGone } from './server-suite.ts';
import { describeUnless } from '../support/skip.ts';

const missing = await nginxVersion().then(
  () => null,
  (error: unknown) => (error as Error).message,
);
// In CI nginx is part of the set-up: a missing nginx must fail there, not skip.
const skip = missing !== null && process.env['CI'] !== 'true';
if (skip) console.log(`skipping the nginx tests: ${missing}`);

/** Pids whose parent is `pid`, from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
}

describeUnless(skip ? `nginx is not installed: ${missing}` : null, 'nginx', () => {
  defineServerSuite('nginx', startNginx);

  describe('nginx specifics', () => {
    let server: AgentServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('reports its version', async () => {
      expect(await nginxVersion()).toMatch(/^\d+\.\d+\.\d+/);
    });

    it('runs a master and one worker, and close() stops both', async () => {
      server = await startNginx(options());
      expect(server.kind).toBe('nginx');
      const workers = await childrenOf(server.pid);
      expect(workers.length).toBe(1);
      await server.close();
      for (const pid of [server.pid, ...workers]) expect(await processGone(pid)).toBe(true);
    });

    it('answers POST bodies of any size on a kept-alive connection (the 405 → 200 redirect discards them)', async () => {
      server = await startNginx(options());
      const c = await connect(server.port, await rootCa(CERT_DIR.rsa2048), { tls: 'tls1.3' });
      const big = JSON.stringify({ node_key: 'k', log_type: 'result', data: [{ pad: 'x'.repeat(40_000) }] });
      for (let i = 0; i < 3; i += 1) expect((await c.post(AGENT_API_PATHS.log, big)).status).toBe(200);
      expect((await c.post(AGENT_API_PATHS.config, '{"node_key":"k"}')).body.length).toBeGreaterThan(10_000);
      c.close();
      const stats = await server.stats();
      expect(stats.requests.log).toBe(3);
      expect(stats.connections).toBe(1);
    });

    it('fails on an unreadable certificate with an InputError naming the file', async () => {
      await expect(startNginx(options({ certDir: 'fixtures/certs/absent' }))).rejects.toThrow(InputError);
      await expect(startNginx(options({ certDir: 'fixtures/certs/absent' }))).rejects.toThrow(/fixtures\/certs\/absent\/chain\.pem: cannot read/);
    });
  });
});

describe('nginx missing', () => {
  it('says to apt-get install nginx-light', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const error = await startNginx(options()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServeError);
      expect((error as ServeError).exitCode).toBe(2);
      expect((error as Error).message).toContain('apt-get install nginx-light');
    } finally {
      process.env['PATH'] = path;
    }
  });
});
