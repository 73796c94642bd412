/**
 * A parent that starts the embedded agent server, prints `{pid, port}` and waits to be killed: the test
 * SIGKILLs it and checks that the orphaned server exits by itself.
 */
import { startAgentServer } from '../../bench/serve/agent-server.ts';

const server = await startAgentServer({
  tls: 'tls1.3',
  certDir: 'fixtures/certs/ecdsa-p256',
  sessionTickets: true,
  sessionCache: false,
  idleTimeoutMs: 10_000,
});
process.stdout.write(`${JSON.stringify({ pid: server.pid, port: server.port })}\n`);
setInterval(() => undefined, 60_000);
