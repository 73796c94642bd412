/**
 * The analyzer against tshark on a capture made at test time, so it cannot have been tuned to the
 * committed ones: nginx and curl on 127.0.0.1 under tcpdump, with connection counts, request sizes, TLS
 * versions, keep-alive versus resumption and POST bodies drawn from a seed (the clock, or
 * FRESH_CAPTURE_SEED to replay one). Expectations come from tshark through make-expected's library.
 * Needs root and tcpdump, nginx, curl, openssl, tshark: skipped with the reason when any is missing,
 * except in CI, where it must run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { expect } from 'vitest';
import { analyzeCapture } from '../../bench/analyze/capture.ts';
import { deriveExpectation } from '../../scripts/golden/make-expected.ts';
import { prng } from '../pcap/helpers.ts';
import { compareWithExpectation, invariantViolations } from './compare.ts';
import { itUnless } from '../support/skip.ts';

/** One curl process: its requests share a connection unless `closeEach` makes curl reconnect (and resume). */
interface CurlRun {
  tls: '1.2' | '1.3';
  kind: 'get' | 'post';
  /** Response sizes of the GETs, or the request body size of the POST. */
  sizes: number[];
  closeEach: boolean;
}

function makePlan(seed: number): CurlRun[] {
  const random = prng(seed);
  const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  return Array.from({ length: between(1, 3) }, (): CurlRun => {
    const tls = random() < 0.5 ? '1.2' : '1.3';
    // POST bodies stay under nginx's default client_body_buffer_size pair of pages (16 KiB).
    if (random() < 0.25) return { tls, kind: 'post', sizes: [between(20, 15_000)], closeEach: false };
    const sizes = Array.from({ length: between(1, 3) }, () => between(20, 90_000));
    return { tls, kind: 'get', sizes, closeEach: sizes.length > 1 && random() < 0.5 };
  });
}

function describePlan(plan: CurlRun[]): string {
  return plan
    .map((run) => `TLS${run.tls} ${run.kind.toUpperCase()} ${run.sizes.join('+')} B${run.closeEach ? ' (reconnect+resume)' : ''}`)
    .join('; ');
}

/** How many TCP connections the plan opens: one per curl run, or one per URL when it reconnects. */
function plannedConnections(plan: CurlRun[]): number {
  return plan.reduce((sum, run) => sum + (run.closeEach ? run.sizes.length : 1), 0);
}

async function missingPrerequisite(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'capturing on lo needs root';
  for (const [tool, versionArg] of [['tcpdump', '--version'], ['tshark', '--version'], ['nginx', '-v'], ['curl', '--version'], ['openssl', 'version']] as const) {
    const found = await execa(tool, [versionArg], { reject: false }).then(
      (result) => result.exitCode === 0,
      () => false,
    );
    if (!found) return `${tool} is not installed (bash scripts/setup.sh installs it)`;
  }
  return null;
}

/** A port in 20000-29999 (below Linux's ephemeral range) that can be bound on 127.0.0.1 right now. */
async function freePort(random: () => number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000-29999 after 50 attempts');
}

async function waitForListener(port: number, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${what} does not listen on 127.0.0.1:${port} after 5 s`);
}

const seed = Number(process.env.FRESH_CAPTURE_SEED ?? Date.now() % 2 ** 31);
const plan = makePlan(seed);
const missing = await missingPrerequisite();
if (missing !== null && process.env.CI !== 'true') console.log(`fresh-capture: skipped: ${missing}`);

itUnless(
  missing !== null && process.env.CI !== 'true' ? missing : null,
  `agrees with tshark on captures it has never seen (seed ${seed}: ${describePlan(plan)})`,
  async () => {
    if (missing !== null) throw new Error(`fresh-capture cannot run in CI: ${missing}`);
    console.log(`fresh-capture: seed ${seed} (replay with FRESH_CAPTURE_SEED=${seed}): ${describePlan(plan)}`);
    const dir = mkdtempSync(join(tmpdir(), 'fresh-capture-'));
    const started: ResultPromise[] = [];
    try {
      const port = await freePort(prng(seed ^ 0x5bd1e995));
      await execa('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', '/CN=golden.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ]);
      plan.forEach((run, r) =>
        run.sizes.forEach((size, i) => writeFileSync(join(dir, `r${r}-${i}.json`), `{"pad":"${'x'.repeat(Math.max(0, size - 11))}"}\n`)),
      );
      writeFileSync(
        join(dir, 'nginx.conf'),
        `master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir};
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:fresh:1m;
    root ${dir};
    location = /log { return 200 '{"node_invalid":false}\\n'; }
  }
}
`,
      );
      const nginx = execa('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { reject: false });
      started.push(nginx);
      await waitForListener(port, 'nginx');

      const pcap = join(dir, 'fresh.pcap');
      const keylog = join(dir, 'fresh.keylog');
      // -B: a 32 MiB kernel buffer, so a loaded shared machine does not drop packets; -Z root: write into dir.
      const tcpdump = execa(
        'tcpdump',
        ['-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-B', '32768', '-Z', 'root', '-w', pcap, `tcp port ${port}`],
        { reject: false },
      );
      started.push(tcpdump);
      let tcpdumpErr = '';
      await new Promise<void>((resolve, reject) => {
        tcpdump.stderr?.on('data', (chunk: Buffer) => {
          tcpdumpErr += chunk.toString();
          if (tcpdumpErr.includes('listening on')) resolve();
        });
        tcpdump.once('exit', () => reject(new Error(`tcpdump exited before listening: ${tcpdumpErr}`)));
      });

      for (const [r, run] of plan.entries()) {
        const args = ['-sS', '-k', '--resolve', `golden.test:${port}:127.0.0.1`];
        args.push(...(run.tls === '1.3' ? ['--tlsv1.3'] : ['--tls-max', '1.2']));
        if (run.closeEach) args.push('-H', 'Connection: close');
        if (run.kind === 'post') {
          writeFileSync(join(dir, `body${r}.json`), `{"data":"${'y'.repeat(Math.max(0, (run.sizes[0] ?? 0) - 12))}"}\n`);
          args.push('-H', 'content-type: application/json', '--data-binary', `@${join(dir, `body${r}.json`)}`);
          args.push('-o', '/dev/null', `https://golden.test:${port}/log`);
        } else {
          for (const i of run.sizes.keys()) args.push('-o', '/dev/null', `https://golden.test:${port}/r${r}-${i}.json`);
        }
        await execa('curl', args, { env: { SSLKEYLOGFILE: keylog } });
      }

      // The last FIN/ACK exchange must reach tcpdump before it stops.
      await sleep(300);
      tcpdump.kill('SIGINT');
      await tcpdump;
      expect(tcpdumpErr).toMatch(/^0 packets dropped by kernel$/m);

      const expectation = await deriveExpectation({ pcapPath: pcap, serverPorts: [port], tlsPorts: [port], keylogPath: keylog });
      expect(expectation.total.connections, 'tshark sees every planned connection').toBe(plannedConnections(plan));
      expect(expectation.compare).toContain('tls.handshakeBytes');
      const result = await analyzeCapture(pcap, { serverPorts: [port], keyLogPath: keylog });
      expect(compareWithExpectation(result, expectation)).toEqual([]);
      expect(invariantViolations(result)).toEqual([]);
    } finally {
      for (const child of started.reverse()) {
        if (child.exitCode === null && child.signalCode === null) child.kill();
        await child;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  },
  60_000,
);
