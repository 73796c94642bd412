/**
 * One live scenario: start the server, start tcpdump, drive the agent's schedule in compressed virtual time,
 * stop everything, account the pcap and reconcile it with the client's socket counters.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { streamCapture, type AnalyzeSummary } from '../analyze/capture.ts';
import { TcpdumpCapture, type CaptureStats } from '../capture/tcpdump.ts';
import { TimeWaitObserver } from '../capture/timewait.ts';
import { AgentClient } from '../drive/index.ts';
import type {
  AgentRequest,
  CaptureHealth,
  PerEndpointMinute,
  RequestOutcome,
  ScenarioResult,
  ScenarioSpec,
  Warning,
} from '../model.ts';
import type { CertFiles } from '../plan/resolve.ts';
import { startAgentServer, startNginx, type AgentServer, type AgentServerOptions } from '../serve/index.ts';
import type { Workload } from '../workload/index.ts';
import { latencyByApi } from './latency.ts';

/** What a scenario needs besides its spec. */
export interface ScenarioContext {
  /** The run's folder; the scenario writes into `scenarios/<slug>/` below it. */
  runDir: string;
  workload: Workload;
  schedule: AgentRequest[];
  cert: CertFiles;
  capture: boolean;
  /** Aborted on Ctrl-C/SIGTERM: the scenario stops, cleans up and reports itself failed. */
  signal: AbortSignal;
  /** Called as requests complete. */
  onProgress?: (done: number, total: number) => void;
}

/** Seconds a timeline bucket spans, in virtual time (the charts show bytes per virtual second). */
const TIMELINE_BUCKET_VIRTUAL_S = 1;
/** How often TIME_WAIT is sampled while a scenario runs. */
const TIME_WAIT_SAMPLE_MS = 2_000;
/** Below this many samples a latency percentile says little; the report warns. */
const FEW_LATENCY_SAMPLES = 20;
/** How long a failed scenario waits to learn whether its server process exited. */
const SERVER_EXIT_GRACE_MS = 500;
/** After the last FIN, time for the kernel to deliver the final ACKs to tcpdump before it is stopped. */
const CAPTURE_SETTLE_MS = 200;

/** The folder name of a scenario: its id with path separators replaced. */
export function scenarioSlug(id: string): string {
  return id.replace(/[^A-Za-z0-9.-]+/g, '_');
}

/** Runs one scenario; never throws: a failure is returned as `{ state: 'failed' }`. */
export async function runScenario(spec: ScenarioSpec, ctx: ScenarioContext): Promise<ScenarioResult> {
  const started = performance.now();
  const slug = scenarioSlug(spec.id);
  const dir = path.join(ctx.runDir, 'scenarios', slug);
  const pcapFile = path.join(dir, 'capture.pcap');
  const keylogFile = path.join(dir, 'keylog.txt');
  const warnings: Warning[] = [];
  let server: AgentServer | undefined;
  let capture: TcpdumpCapture | undefined;
  let client: AgentClient | undefined;
  let keyLog: WriteStream | undefined;
  /** Set when the server process exits before the scenario closed it: the cause of whatever fails next. */
  let serverDied: string | null = null;
  let serverClosing = false;
  try {
    await mkdir(dir, { recursive: true });
    keyLog = createWriteStream(keylogFile, { flags: 'w' });
    const serverOptions: AgentServerOptions = {
      tls: spec.tls,
      certDir: path.dirname(ctx.cert.chain),
      chainFile: ctx.cert.chain,
      keyFile: ctx.cert.key,
      sessionTickets: spec.sessionTickets,
      sessionCache: spec.mode === 'resumed',
      idleTimeoutMs: (spec.serverIdleTimeoutVirtualSeconds * 1000) / spec.timeCompression,
      distributedQueryFraction: ctx.workload.distributed.queryFraction,
    };
    server = spec.server === 'nginx' ? await startNginx(serverOptions) : await startAgentServer(serverOptions);
    const serverExited = server.exited.then((exit): Promise<never> => {
      // A server the scenario closed itself is no failure: this race is long over by then.
      if (serverClosing) return new Promise<never>(() => undefined);
      serverDied = `the ${spec.server} server exited during the scenario (${exit.signal ?? `exit code ${exit.code}`})`;
      throw new Error(serverDied);
    });
    serverExited.catch(() => undefined);

    const timeWait = new TimeWaitObserver(server.port);
    await timeWait.begin();
    if (ctx.capture) capture = await TcpdumpCapture.start({ iface: 'lo', ports: [server.port], file: pcapFile });
    const cpuBefore = await server.stats();

    client = new AgentClient({
      mode: spec.mode,
      host: '127.0.0.1',
      port: server.port,
      servername: 'localhost',
      ca: await readFile(ctx.cert.ca),
      tls: spec.tls,
      sessionTimeoutMs: (spec.sessionTimeoutVirtualSeconds * 1000) / spec.timeCompression,
      keyLog,
    });

    const interrupted = abortion(ctx.signal);
    const outcomes = await Promise.race([drive(client, ctx, spec.timeCompression, timeWait), serverExited, interrupted.promise]).finally(
      interrupted.dispose,
    );
    await client.close();
    await sleep(CAPTURE_SETTLE_MS);
    await timeWait.sample();
    const cpuAfter = await server.stats();
    const captureStats = capture === undefined ? null : await capture.stop();
    // The server must still be up here: one that died (and was replaced by nothing) invalidates the counts.
    if (serverDied !== null) throw new Error(serverDied);
    serverClosing = true;
    await server.close();
    keyLog.end();
    await once(keyLog, 'finish');

    const socketBytes = client.socketBytes();
    const connectionRecords = client.connections();
    // Totals and the timeline are what a scenario keeps; per-connection reports stay in the pcap.
    const analysis =
      capture === undefined
        ? null
        : await streamCapture(
            pcapFile,
            {
              serverPorts: [server.port],
              keyLogPath: keylogFile,
              timelineBucketMs: (TIMELINE_BUCKET_VIRTUAL_S * 1000) / spec.timeCompression,
            },
            () => undefined,
          );

    const ok = outcomes.filter((o) => o.state === 'ok');
    const failed = outcomes.length - ok.length;
    const retried = ok.filter((o) => o.retried).length;
    const endpointMinutes = spec.endpoints * spec.virtualMinutes;
    const serverRequests = Object.values(cpuAfter.requests).reduce((a, b) => a + b, 0) - Object.values(cpuBefore.requests).reduce((a, b) => a + b, 0);
    const cpuUserMs = cpuAfter.cpuUserMs - cpuBefore.cpuUserMs;
    const cpuSystemMs = cpuAfter.cpuSystemMs - cpuBefore.cpuSystemMs;
    const tw = timeWait.counts();
    const capturedConnections = analysis?.total.connections ?? null;

    const health = captureHealth(analysis, captureStats, socketBytes);
    const perEndpointMinute = normalise(analysis, socketBytes, {
      endpointMinutes,
      connections: capturedConnections ?? connectionRecords.length,
      resumed: connectionRecords.filter((c) => c.sessionResumed).length,
      requests: ok.length,
      timeWait: tw.client + tw.server,
    });

    if (analysis !== null) warnings.push(...analysis.warnings);
    else {
      warnings.push({
        kind: 'no-capture',
        message: 'run without a packet capture: bytes are TCP payload from socket counters, without headers, control packets or the TLS breakdown',
        fix: 'run as root (or give tcpdump CAP_NET_RAW) without --no-capture',
      });
    }
    const latency = latencyByApi(outcomes);
    const few = Object.entries(latency).filter(([, l]) => l.total.samples < FEW_LATENCY_SAMPLES);
    if (few.length > 0) {
      warnings.push({
        kind: 'few-latency-samples',
        message: `fewer than ${FEW_LATENCY_SAMPLES} latency samples for ${few.map(([api, l]) => `${api} (${l.total.samples})`).join(', ')}: their p90/p99 are rough`,
        fix: 'raise --virtual-minutes or --endpoints',
      });
    }

    const invalidReasons: string[] = [];
    if (health.droppedByKernel > 0) invalidReasons.push(`tcpdump reported ${health.droppedByKernel} packets dropped by the kernel`);
    if (health.reconciled === false) {
      const r = health.reconciliation;
      invalidReasons.push(
        `socket counters and the capture disagree: up ${r.up.socketBytes} vs ${r.up.pcapStreamBytes}, down ${r.down.socketBytes} vs ${r.down.pcapStreamBytes} bytes`,
      );
    }
    if (failed > 0) {
      const first = outcomes.find((o) => o.state === 'failed');
      invalidReasons.push(`${failed} of ${outcomes.length} requests failed (first: ${first?.state === 'failed' ? first.error : ''})`);
    }

    const measurement = {
      traffic: analysis === null ? null : { up: analysis.total.up, down: analysis.total.down },
      perEndpointMinute,
      capture: health,
      requests: { scheduled: ctx.schedule.length, ok: ok.length, failed, retried },
      connections: {
        opened: connectionRecords.length,
        captured: capturedConnections,
        sessionResumed: connectionRecords.filter((c) => c.sessionResumed).length,
      },
      timeWait: tw,
      latency,
      server: {
        cpuUserMs,
        cpuSystemMs,
        cpuMsPerRequest: serverRequests > 0 ? (cpuUserMs + cpuSystemMs) / serverRequests : 0,
        requests: serverRequests,
      },
      timeline: analysis?.timeline ?? null,
      files: {
        pcap: capture === undefined ? null : path.relative(ctx.runDir, pcapFile),
        keylog: path.relative(ctx.runDir, keylogFile),
      },
      realDurationMs: performance.now() - started,
    };
    if (invalidReasons.length > 0) {
      return { id: spec.id, state: 'invalid', spec, warnings, invalidReasons, ...measurement };
    }
    return { id: spec.id, state: 'completed', spec, warnings, ...measurement };
  } catch (error) {
    // A dead server is noticed first by whatever talks to it (a request, the stats channel); give its exit a
    // moment to be reported so the failure names the cause.
    if (server !== undefined && serverDied === null) await Promise.race([server.exited, sleep(SERVER_EXIT_GRACE_MS)]);
    const message = error instanceof Error ? error.message : String(error);
    return { id: spec.id, state: 'failed', spec, warnings, error: serverDied !== null && message !== serverDied ? `${serverDied}: ${message}` : message };
  } finally {
    // Whatever happened, nothing this scenario started may outlive it. An interrupted scenario does not
    // wait for requests in flight (up to the agent's 16 s deadline).
    if (ctx.signal.aborted) await client?.abort(String(ctx.signal.reason ?? 'aborted'));
    else await client?.close();
    await capture?.stop().catch(() => undefined);
    await server?.close();
    if (keyLog !== undefined && !keyLog.closed) keyLog.end();
  }
}

/** Sends every request at its scheduled real time; resolves with every outcome once all have completed. */
async function drive(
  client: AgentClient,
  ctx: ScenarioContext,
  timeCompression: number,
  timeWait: TimeWaitObserver,
): Promise<RequestOutcome[]> {
  const start = performance.now();
  const pending: Promise<RequestOutcome>[] = [];
  let done = 0;
  let nextSample = start + TIME_WAIT_SAMPLE_MS;
  for (const request of ctx.schedule) {
    if (ctx.signal.aborted) break;
    const due = start + request.atVirtualMs / timeCompression;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() >= nextSample) {
      nextSample += TIME_WAIT_SAMPLE_MS;
      timeWait.sampleInBackground();
    }
    pending.push(
      client.send(request).then((outcome) => {
        done++;
        ctx.onProgress?.(done, ctx.schedule.length);
        return outcome;
      }),
    );
  }
  return Promise.all(pending);
}

/** A promise that rejects when the signal aborts, and `dispose` to stop listening (one listener per scenario). */
function abortion(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let fail = () => {};
  const promise = new Promise<never>((_, reject) => {
    fail = () => reject(new Error(`interrupted (${String(signal.reason ?? 'aborted')})`));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', fail) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Capture health and the reconciliation of socket counters with the pcap's stream bytes. */
function captureHealth(analysis: AnalyzeSummary | null, stats: CaptureStats | null, socket: { up: number; down: number }): CaptureHealth {
  const stream = (d: 'up' | 'down') =>
    analysis === null ? null : analysis.total[d].tcpPayloadBytes - analysis.total[d].retransmittedBytes;
  const up = stream('up');
  const down = stream('down');
  return {
    packets: stats?.packetsCaptured ?? 0,
    droppedByKernel: stats?.packetsDroppedByKernel ?? 0,
    reconciled: analysis === null ? null : up === socket.up && down === socket.down,
    reconciliation: {
      up: { socketBytes: socket.up, pcapStreamBytes: up },
      down: { socketBytes: socket.down, pcapStreamBytes: down },
    },
  };
}

/** Traffic per endpoint per virtual minute. */
function normalise(
  analysis: AnalyzeSummary | null,
  socket: { up: number; down: number },
  n: { endpointMinutes: number; connections: number; resumed: number; requests: number; timeWait: number },
): PerEndpointMinute {
  const per = (x: number) => x / n.endpointMinutes;
  const total = analysis?.total;
  return {
    upWireBytes: total === undefined ? null : per(total.up.wireBytes),
    downWireBytes: total === undefined ? null : per(total.down.wireBytes),
    upTcpPayloadBytes: per(total?.up.tcpPayloadBytes ?? socket.up),
    downTcpPayloadBytes: per(total?.down.tcpPayloadBytes ?? socket.down),
    upHandshakeBytes: total === undefined ? null : per(total.up.tls.handshakeBytes),
    downHandshakeBytes: total === undefined ? null : per(total.down.tls.handshakeBytes),
    connections: per(n.connections),
    fullHandshakes: per(total === undefined ? n.connections - n.resumed : total.fullHandshakes),
    resumedHandshakes: per(total === undefined ? n.resumed : total.resumedHandshakes),
    requests: per(n.requests),
    timeWait: per(n.timeWait),
  };
}
