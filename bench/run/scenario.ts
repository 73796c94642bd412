/**
 * One live scenario: start the server, start tcpdump, drive the agent's schedule in compressed virtual time,
 * stop everything and account the pcap. What it hands on is raw observations; the assessment
 * (bench/analyze/assess.ts) makes the scenario's result from them.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { assessScenario, clientEndpoint } from '../analyze/assess.ts';
import { percentile } from '../analyze/latency.ts';
import { streamCapture } from '../analyze/capture.ts';
import { TcpdumpCapture } from '../capture/tcpdump.ts';
import { ServerSampler } from '../capture/server-usage.ts';
import { machineCpu } from '../capture/machine-cpu.ts';
import { agentAddress, agentNetworks } from '../drive/index.ts';
import { epochMs } from '../drive/connection.ts';
import { startFleet, type Fleet } from '../drive/fleet.ts';
import { measureLatency } from '../drive/latency.ts';
import { openLink, type Link } from '../link/index.ts';
import { linkProfile } from '../link/profile.ts';
import {
  API_CALLS,
  CHANNELS,
  type AgentRequest,
  type CapturedConnection,
  type CapturedStream,
  type DrivenOutcome,
  type FleetObservations,
  type LatencyObservation,
  type MeasuredScenario,
  type Pacing,
  type ScenarioObservations,
  type ScenarioSpec,
  type SingleRun,
} from '../model/index.ts';
import type { CertFiles } from '../plan/resolve.ts';
import { startAgentServer, startNginx, startProxy, type AgentServer, type AgentServerOptions, type Proxy } from '../serve/index.ts';
import type { Workload } from '../workload/index.ts';
import { makeDir } from '../output.ts';
import { cannotWrite, OutputError } from '../errors.ts';

/** What a scenario needs besides its spec. */
export interface ScenarioContext {
  /** The run's folder; the scenario writes into `scenarios/<slug>/` below it. */
  runDir: string;
  workload: Workload;
  schedule: AgentRequest[];
  /** The same schedule over a longer window, for persistent mode's derived reconnects; null otherwise. */
  longRunSchedule: ScenarioObservations['longRunSchedule'];
  cert: CertFiles;
  capture: boolean;
  /** Which repetition this is (1-based): later ones write into `run-<k>/` below the scenario's folder. */
  repetition: number;
  /** Latency-phase iterations per API call. */
  latencySamples: number;
  /** The run's loopback scenario of the same configuration, when this one's network is emulated. */
  reference: MeasuredScenario | null;
  /** Aborted on Ctrl-C/SIGTERM: the scenario stops, cleans up and reports itself failed. */
  signal: AbortSignal;
  /** Called as requests complete. */
  onProgress?: (done: number, total: number) => void;
  /** The command line that runs this scenario alone (for messages). */
  rerunCommand: string;
  /** The run's pace and why (results carry it per scenario). */
  pacing: Pacing;
  /** `--fleet-size`, for the derived figures. */
  fleetSize: number;
  /** Client threads the agents are spread over. */
  clientThreads: number;
}

/** Seconds a timeline bucket spans, in virtual time (the charts show bytes per virtual second). */
const TIMELINE_BUCKET_VIRTUAL_S = 1;
/** How often the server's CPU, memory and sockets (TIME_WAIT's union too) are sampled. */
const SERVER_SAMPLE_MS = 1_000;
/**
 * Latency-phase iterations before measuring, per API call: the first opens the connection `persistent`
 * reuses (or gets the session `resumed` resumes); the second runs on warm caches.
 */
const LATENCY_WARMUP_ITERATIONS = 2;
/** How long a failed scenario waits to learn whether its server process exited. */
const SERVER_EXIT_GRACE_MS = 500;
/**
 * The latency phase times API calls side by side only on paths this slow: there a request waits for round
 * trips and the few milliseconds of CPU that calls timed together take from each other are lost in them. On a
 * fast path (lan's 1 ms) that CPU is the request's time: four handshakes at once made a TCP connect of 1 ms
 * RTT take 6 ms.
 */
const CONCURRENT_LATENCY_MIN_RTT_MS = 20;

/** After the last FIN, time for the kernel to deliver the final ACKs to tcpdump before it is stopped. */
const CAPTURE_SETTLE_MS = 200;

/** The folder name of a scenario: its id with path separators replaced. */
export function scenarioSlug(id: string): string {
  return id.replace(/[^A-Za-z0-9.-]+/g, '_');
}

/**
 * Runs one scenario once. A failure is returned as `{ state: 'failed' }`, except one to write its files (a
 * full disk): that OutputError is thrown, since no later scenario could write its capture either.
 */
export async function runScenario(spec: ScenarioSpec, ctx: ScenarioContext): Promise<SingleRun> {
  const live = new LiveScenario(spec, ctx);
  try {
    return assessScenario(spec, await live.observe(), ctx.reference);
  } catch (error) {
    const output = live.outputFailure(error);
    if (output !== null) {
      // Its capture and key log stop where the disk filled up: of no use, and their room lets results.json
      // record what finished and why the run stopped.
      await live.dispose();
      await rm(live.dir, { recursive: true, force: true });
      throw output;
    }
    return { id: spec.id, state: 'failed', spec, warnings: [], error: await live.failure(error) };
  } finally {
    await live.dispose();
  }
}

/**
 * The processes and files of one scenario while it runs. `observe` starts them in order and stops them in
 * order; `dispose` makes sure that, whatever happened, nothing the scenario started outlives it.
 */
class LiveScenario {
  private readonly started = performance.now();
  readonly dir: string;
  private readonly pcapFile: string;
  private readonly keylogFile: string;
  private link: Link | undefined;
  private server: AgentServer | undefined;
  private capture: TcpdumpCapture | undefined;
  private fleet: Fleet | undefined;
  private proxy: Proxy | undefined;
  private sampler: ServerSampler | undefined;
  private keyLog: WriteStream | undefined;
  /** Aborted when the scenario ends early (a failure, or the run's signal): the fleet stops queuing requests. */
  private readonly halt = new AbortController();
  /** The fleet closed its connections the agent's way (the scenario ran to its end). */
  private fleetClosed = false;
  /** The key log's write failure (a full disk), reported as an 'error' event of its stream. */
  private keyLogError: Error | null = null;
  /** Set when the server process exits before the scenario closed it: the cause of whatever fails next. */
  private serverDied: string | null = null;
  private serverClosing = false;

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly ctx: ScenarioContext,
  ) {
    this.dir = path.join(ctx.runDir, 'scenarios', scenarioSlug(spec.id), ...(ctx.repetition > 1 ? [`run-${ctx.repetition}`] : []));
    this.pcapFile = path.join(this.dir, 'capture.pcap');
    this.keylogFile = path.join(this.dir, 'keylog.txt');
  }

  /** Runs the scenario and returns what it observed. */
  async observe(): Promise<ScenarioObservations> {
    const { spec, ctx } = this;
    await makeDir(this.dir);
    // 0600: the key log decrypts the capture.
    const keyLog = (this.keyLog = createWriteStream(this.keylogFile, { flags: 'w', mode: 0o600 }));
    keyLog.on('error', (error) => {
      this.keyLogError ??= error;
    });
    const link = spec.link === null ? undefined : (this.link = await openLink({ profile: linkProfile(spec.network, spec.link), signal: ctx.signal }));
    const serverHost = link?.serverIp ?? '127.0.0.1';
    const server = (this.server = await this.startServer(link));
    const serverExited = server.exited.then((exit): Promise<never> => {
      // A server the scenario closed itself is no failure: this race is long over by then.
      if (this.serverClosing) return new Promise<never>(() => undefined);
      this.serverDied = `the ${spec.server} server exited during the scenario (${exit.signal ?? `exit code ${exit.code}`})`;
      throw new Error(this.serverDied);
    });
    serverExited.catch(() => undefined);

    const proxy = spec.proxy === undefined ? undefined : (this.proxy = await startProxy(spec.proxy, server.port));
    // Through a proxy the capture is of the agents' leg (agent → proxy), the one the agent's bytes cross.
    const capturedPort = proxy?.port ?? server.port;
    const capturedAgents = spec.captureAgents ?? spec.endpoints;
    // On the client's side of the link: what the client's kernel sent and received, as on loopback. The filter
    // keeps the server's endpoint (its address and port together), not its port on any address; a fleet's
    // sample keeps only the first agents' addresses, so tcpdump keeps up with the whole fleet's load.
    if (ctx.capture) {
      this.capture = await TcpdumpCapture.start({
        iface: link?.clientInterface ?? 'lo',
        host: proxy === undefined ? serverHost : '127.0.0.1',
        ports: [capturedPort],
        file: this.pcapFile,
        ...(capturedAgents < spec.endpoints ? { nets: agentNetworks(capturedAgents) } : {}),
      });
    }
    const serverBefore = await server.stats();
    // Behind a link the server's sockets live in its namespace (read through its pid), the client's here. The
    // sampler's first listing, before the first connection, holds the TIME_WAIT sockets an earlier run left.
    const sampler = (this.sampler = new ServerSampler(server.pid, server.port, SERVER_SAMPLE_MS, link === undefined ? [process.pid] : [process.pid, server.pid]));
    await sampler.start();
    const ca = await readFile(ctx.cert.ca);
    const fleet = (this.fleet = startFleet(
      {
        transport: {
          mode: spec.mode,
          host: serverHost,
          port: server.port,
          servername: 'localhost',
          ca,
          tls: spec.tls,
          sessionTimeoutMs: (spec.sessionTimeoutVirtualSeconds * 1000) / spec.timeCompression,
          ...(proxy === undefined ? {} : { proxy: { host: '127.0.0.1', port: proxy.port } }),
        },
        // Each agent its own loopback address; behind a link the client has the link's one address.
        agentAddresses: link === undefined,
        capturedAgents,
        threads: ctx.clientThreads,
        keyLog,
      },
      agentAddress,
    ));

    const interrupted = abortion(ctx.signal);
    const cpuBefore = process.cpuUsage();
    const machineBefore = await machineCpu();
    const total = ctx.schedule.length;
    const driving = fleet.drive(ctx.schedule, spec.timeCompression, AbortSignal.any([ctx.signal, this.halt.signal]), (done) =>
      ctx.onProgress?.(done, total),
    );
    const { outcomes, startEpochMs, eventLoop } = await Promise.race([driving, serverExited, interrupted.promise]).finally(interrupted.dispose);
    const driveMs = epochMs() - startEpochMs;
    const cpu = process.cpuUsage(cpuBefore);
    const machineAfter = await machineCpu();
    // The agents still hold their connections (idle, in persistent): what the server keeps for them.
    const held = await sampler.sampleNow();
    const connections = await fleet.close();
    this.fleetClosed = true;
    await sleep(CAPTURE_SETTLE_MS);
    await sampler.sampleNow();
    const samples = await sampler.stop();
    const timeWaitCounts = sampler.timeWaitCounts();
    const serverAfter = await server.stats();
    const proxyConnects = proxy === undefined ? null : await proxy.connects();
    const tcpdump = this.capture === undefined ? null : await this.capture.stop();
    const linkStats = link === undefined ? null : await link.stats();
    // The latency phase runs after the traffic phase's counters are final: its requests are in no figure
    // but the latency ones.
    const latencyInterrupted = abortion(ctx.signal);
    const latency = await Promise.race([this.measureLatency(serverHost, server.port, ca, proxy), serverExited, latencyInterrupted.promise]).finally(
      latencyInterrupted.dispose,
    );
    // The server must still be up here: one that died (and was replaced by nothing) invalidates the counts.
    if (this.serverDied !== null) throw new Error(this.serverDied);
    this.serverClosing = true;
    await server.close();
    await proxy?.close();
    keyLog.end();
    if (this.keyLogError === null) await once(keyLog, 'finish').catch(() => undefined);
    if (this.keyLogError !== null) throw cannotWrite(this.keylogFile, this.keyLogError);

    // Totals and the timeline are what a scenario keeps; of each captured connection, its stream bytes (to
    // reconcile connection by connection), and its channel, counters and phases (the steady state's input).
    // Full per-connection reports stay in the pcap.
    const sockets = [...connections.captured].sort((a, b) => a.openedAtMs - b.openedAtMs);
    const agentsOwnAddresses = link === undefined;
    const endpointOf = (address: string, port: number) => clientEndpoint(agentsOwnAddresses ? address : undefined, port);
    const streams: (CapturedStream & { index: number })[] = [];
    const byEndpoint = new Map<string, (typeof sockets)[number][]>();
    for (const c of sockets) {
      const key = endpointOf(c.localAddress, c.localPort);
      byEndpoint.set(key, [...(byEndpoint.get(key) ?? []), c]);
    }
    const captured: CapturedConnection[] = [];
    const analysis =
      this.capture === undefined
        ? null
        : await streamCapture(
            this.pcapFile,
            { serverPorts: [capturedPort], keyLogPath: this.keylogFile, timelineBucketMs: (TIMELINE_BUCKET_VIRTUAL_S * 1000) / spec.timeCompression },
            (report, phases) => {
              streams.push({
                index: report.index,
                clientPort: report.client.port,
                ...(agentsOwnAddresses ? { clientAddress: report.client.ip } : {}),
                endedByReset: report.closedBy === 'reset',
                up: report.up.tcpPayloadBytes - report.up.retransmittedBytes,
                down: report.down.tcpPayloadBytes - report.down.retransmittedBytes,
              });
              if (!report.synSeen) return;
              // A port is reused only after its TIME_WAIT; the client's connections are in order of opening.
              const owner = byEndpoint.get(endpointOf(report.client.ip, report.client.port))?.shift();
              captured.push({
                channel: owner?.channel ?? null,
                endpointIndex: owner?.endpointIndex ?? null,
                firstPacketMs: report.firstPacketMs,
                up: report.up,
                down: report.down,
                handshake: report.tls?.handshake ?? null,
                phases,
              });
            },
          );
    captured.sort((a, b) => a.firstPacketMs - b.firstPacketMs);
    const lastDueMs = (ctx.schedule.at(-1)?.atVirtualMs ?? 0) / spec.timeCompression;
    return {
      scheduledRequests: ctx.schedule.length,
      outcomes,
      socketBytes: connections.capturedSocketBytes,
      clientConnections: { opened: connections.opened, sessionResumed: connections.sessionResumed },
      sockets: sockets.map((c) => ({ localPort: c.localPort, ...(agentsOwnAddresses ? { localAddress: c.localAddress } : {}), bytes: c.bytes })),
      capturedStreams: analysis === null ? null : streams.sort((a, b) => a.index - b.index).map(({ index: _index, ...stream }) => stream),
      rerunCommand: ctx.rerunCommand,
      analysis,
      tcpdump,
      latency,
      serverBefore,
      serverAfter,
      timeWait: timeWaitCounts,
      files: {
        pcap: this.capture === undefined ? null : path.relative(ctx.runDir, this.pcapFile),
        keylog: path.relative(ctx.runDir, this.keylogFile),
      },
      realDurationMs: performance.now() - this.started,
      capturedConnections: captured,
      longRunSchedule: ctx.longRunSchedule,
      link:
        linkStats === null
          ? null
          : {
              up: { forwardedFrames: linkStats.up.forwardedFrames, queueDrops: linkStats.up.queueDrops, lossDrops: linkStats.up.lossDrops },
              down: { forwardedFrames: linkStats.down.forwardedFrames, queueDrops: linkStats.down.queueDrops, lossDrops: linkStats.down.lossDrops },
            },
      fleet: {
        capturedAgents,
        fleetSocketBytes: connections.socketBytes,
        clientThreads: ctx.clientThreads,
        clientCpuMs: (cpu.user + cpu.system) / 1000,
        machineCpu: { busyMs: machineAfter.busyMs - machineBefore.busyMs, cores: os.availableParallelism() },
        sentLate: lateness(outcomes),
        clientEventLoop: eventLoop,
        connectionsClosedByServer: connections.closedByServer,
        driveMs,
        // Sample times from the first request's due time (the baseline sample, taken just before, is 0).
        samples: samples.map((x) => ({ ...x, atMs: Math.max(0, x.atMs - startEpochMs) })),
        heldSampleIndex: samples.indexOf(held),
        steadyWindowMs: { from: Math.min((ctx.workload.startSpreadSeconds * 1000) / spec.timeCompression, lastDueMs), to: lastDueMs },
        proxyConnects,
        pacing: ctx.pacing,
        fleetSize: ctx.fleetSize,
      },
    };
  }

  /** Times each API call of the schedule (its first request) on the scenario's transport. */
  private async measureLatency(host: string, port: number, ca: Buffer, proxy: Proxy | undefined): Promise<LatencyObservation[]> {
    const { spec, ctx } = this;
    const requests = API_CALLS.flatMap((api) => {
      const first = ctx.schedule.find((r) => r.api === api);
      return first === undefined ? [] : [first];
    });
    return measureLatency({
      transport: {
        mode: spec.mode,
        host,
        port,
        servername: 'localhost',
        ca,
        tls: spec.tls,
        sessionTimeoutMs: 0,
        ...(proxy === undefined ? {} : { proxy: { host: '127.0.0.1', port: proxy.port } }),
      },
      requests,
      samples: ctx.latencySamples,
      warmup: LATENCY_WARMUP_ITERATIONS,
      concurrent: (spec.link?.rttMs ?? 0) >= CONCURRENT_LATENCY_MIN_RTT_MS,
      signal: ctx.signal,
    });
  }

  private startServer(link: Link | undefined): Promise<AgentServer> {
    const { spec, ctx } = this;
    const options: AgentServerOptions = {
      ...(link === undefined ? {} : { host: link.serverIp, command: (argv: string[]) => link.serverCommand(argv) }),
      tls: spec.tls,
      certDir: path.dirname(ctx.cert.chain),
      chainFile: ctx.cert.chain,
      keyFile: ctx.cert.key,
      sessionTickets: spec.sessionTickets,
      sessionCache: spec.mode === 'resumed',
      idleTimeoutMs: (spec.serverIdleTimeoutVirtualSeconds * 1000) / spec.timeCompression,
      maxConnections: spec.endpoints * CHANNELS.length,
      distributedQueryFraction: ctx.workload.distributed.queryFraction,
      ...(ctx.workload.config.responseBytes === undefined ? {} : { configResponseBytes: ctx.workload.config.responseBytes }),
    };
    return spec.server === 'nginx' ? startNginx(options) : startAgentServer(options);
  }

  /** The failure as an OutputError when it is one of writing this scenario's files, else null. */
  outputFailure(error: unknown): OutputError | null {
    if (error instanceof OutputError) return error;
    return this.keyLogError === null ? null : cannotWrite(this.keylogFile, this.keyLogError);
  }

  /** The message of a failed scenario, naming the server's death when that was the cause. */
  async failure(error: unknown): Promise<string> {
    // A dead server is noticed first by whatever talks to it (a request, the stats channel); give its exit a
    // moment to be reported so the failure names the cause.
    if (this.server !== undefined && this.serverDied === null) await Promise.race([this.server.exited, sleep(SERVER_EXIT_GRACE_MS)]);
    const message = error instanceof Error ? error.message : String(error);
    return this.serverDied !== null && message !== this.serverDied ? `${this.serverDied}: ${message}` : message;
  }

  /**
   * Stops whatever still runs. A scenario that ended early (interrupted, or failed) does not wait for
   * requests in flight (up to the agent's 16 s deadline) nor for the rest of its schedule: the fleet is
   * aborted, its threads end, and the sampler's timer stops, so nothing keeps the process alive.
   */
  async dispose(): Promise<void> {
    const signal = this.ctx.signal;
    const reason = signal.aborted ? String(signal.reason ?? 'aborted') : 'the scenario ended early';
    this.halt.abort(reason);
    if (!this.fleetClosed) await this.fleet?.abort(reason);
    // A scenario that gets here early has already failed with its own cause; a sample failing now adds nothing.
    await this.sampler?.stop().catch(() => undefined);
    await this.capture?.stop().catch(() => undefined);
    await this.server?.close();
    await this.proxy?.close();
    // After the server: closing the link removes its namespace with whatever still runs there.
    await this.link?.close();
    if (this.keyLog !== undefined && !this.keyLog.closed) this.keyLog.end();
  }
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

/** How late the client sent its requests after they were due: p50, p99 and the worst, real ms. */
function lateness(outcomes: readonly DrivenOutcome[]): FleetObservations['sentLate'] {
  const sorted = outcomes.map((o) => o.sentLateMs).sort((a, b) => a - b);
  if (sorted.length === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0 };
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1)! };
}
