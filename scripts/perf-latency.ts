/**
 * `npm run perf:latency -- [--samples N]`: the latency harness's own overhead on loopback (issue 10): the
 * p50 the latency phase measures for one request, next to a bare loop that does the same request with
 * `tls.connect` and a raw HTTP/1.1 write, in the same run, against the same embedded server. A benchmark
 * script, not a test: it prints both side by side and exits 0 when the harness adds under 1 ms at p50 in
 * every mode, 1 when not, 2 on bad usage.
 */
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { summarize } from '../bench/analyze/latency.ts';
import { measureLatency } from '../bench/drive/latency.ts';
import { serializeRequest, hostHeaderValue } from '../bench/drive/http1.ts';
import type { AgentRequest, Mode } from '../bench/model/index.ts';
import { repoPath } from '../bench/paths.ts';
import { startAgentServer } from '../bench/serve/index.ts';
import { buildSchedule, loadWorkload } from '../bench/workload/index.ts';

/** The target: what the harness may add to a request's p50 on loopback. */
const MAX_OVERHEAD_MS = 1;
/** Alternating blocks of each method. */
const BLOCKS = 10;

const { values } = parseArgs({ options: { samples: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  process.stdout.write('usage: npm run perf:latency -- [--samples N]   (default 200 per mode)\n');
  process.exit(0);
}
const samples = Number(values.samples ?? 200);
if (!Number.isInteger(samples) || samples < 20) {
  process.stderr.write(`error: --samples: expected a whole number of at least 20, got "${values.samples}"\n`);
  process.exit(2);
}

const cert = repoPath('fixtures/certs/rsa2048');
const ca = await readFile(`${cert}/root.pem`);
const workload = await loadWorkload(repoPath('fixtures/workloads/osquery-default.json'));
const request = buildSchedule(workload, { endpoints: 1, virtualMinutes: 1, seed: 1 }).find((r) => r.api === 'log')!;

/** The bare loop: one connection per request (`fresh`), or one for all of them (`persistent`). */
async function bareLoop(mode: Mode, port: number, req: AgentRequest, n: number): Promise<number[]> {
  const bytes = serializeRequest(req, hostHeaderValue('localhost', port));
  const connect = () =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }, () => resolve(socket));
      socket.once('error', reject);
    });
  /** Reads until the response's Content-Length is complete. */
  const exchange = (socket: tls.TLSSocket) =>
    new Promise<void>((resolve) => {
      let received = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const head = received.indexOf('\r\n\r\n');
        if (head < 0) return;
        const length = Number(/content-length:\s*(\d+)/i.exec(received.subarray(0, head).toString('latin1'))?.[1] ?? 0);
        if (received.length >= head + 4 + length) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.write(bytes);
    });
  const times: number[] = [];
  let kept: tls.TLSSocket | null = mode === 'persistent' ? await connect() : null;
  for (let i = 0; i < n + 2; i++) {
    const started = performance.now();
    const socket = kept ?? (await connect());
    await exchange(socket);
    if (i >= 2) times.push(performance.now() - started);
    if (kept === null) socket.destroy();
  }
  kept?.destroy();
  kept = null;
  return times;
}

let failed = false;
const rows: string[] = [];
for (const mode of ['persistent', 'fresh'] as const) {
  const server = await startAgentServer({ tls: 'tls1.3', certDir: cert, sessionTickets: false, sessionCache: false, idleTimeoutMs: 60_000 });
  try {
    const transport = { mode, host: '127.0.0.1', port: server.port, servername: 'localhost', ca, tls: 'tls1.3' as const, sessionTimeoutMs: 0 };
    // Interleaved blocks, so a drift of the machine's load weighs on both alike.
    const harness: number[] = [];
    const bare: number[] = [];
    const block = Math.ceil(samples / BLOCKS);
    for (let i = 0; i < BLOCKS; i++) {
      const [observation] = await measureLatency({ transport, requests: [request], samples: block, warmup: 2, concurrent: false, signal: new AbortController().signal });
      for (const o of observation!.outcomes) if (o.state === 'ok') harness.push(o.phases.totalMs);
      bare.push(...(await bareLoop(mode, server.port, request, block)));
    }
    const h = summarize(harness)!;
    const b = summarize(bare)!;
    const overhead = h.p50Ms - b.p50Ms;
    failed ||= overhead >= MAX_OVERHEAD_MS;
    rows.push(
      `${mode.padEnd(11)} harness p50 ${h.p50Ms.toFixed(3)} ms (n ${h.samples})   bare tls.connect loop p50 ${b.p50Ms.toFixed(3)} ms (n ${b.samples})   overhead ${overhead.toFixed(3)} ms`,
    );
  } finally {
    await server.close();
  }
}
process.stdout.write(`latency harness vs a bare loop, log request, TLS 1.3, loopback:\n${rows.join('\n')}\n`);
process.stdout.write(`${failed ? 'FAIL' : 'PASS'}: the harness adds ${failed ? 'more than' : 'under'} ${MAX_OVERHEAD_MS} ms at p50\n`);
process.exitCode = failed ? 1 : 0;
