/**
 * One live scenario: start the server, start tcpdump, drive the agent's schedule in compressed virtual time,
 * stop everything and account the pcap. What it hands on is raw observations; the assessment
 * (bench/analyze/assess.ts) makes the scenario's result from them.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { assessScenario } from '../analyze/assess.ts';
import { streamCapture } from '../analyze/capture.ts';
import { TcpdumpCapture } from '../capture/tcpdump.ts';
import { TimeWaitObserver } from '../capture/timewait.ts';
import { ServerSampler } from '../capture/server-usage.ts';
import { agentAddress, agentNetworks } from '../drive/index.ts';
import { epochMs } from '../drive/connection.ts';
import { startFleet, type Fleet } from '../drive/fleet.ts';
import { CHANNELS, type AgentRequest, type Pacing, type ScenarioObservations, type ScenarioResult, type ScenarioSpec } from '../model/index.ts';
import type { CertFiles } from '../plan/resolve.ts';
import { startAgentServer, startNginx, startProxy, type AgentServer, type AgentServerOptions, type Proxy } from '../serve/index.ts';
import type { Workload } from '../workload/index.ts';

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
  /** The run's pace and why (results carry it per scenario). */
  pacing: Pacing;
  /** `--fleet-size`, for the derived figures. */
  fleetSize: number;
  /** Client threads the agents are spread over. */
  clientThreads: number;
}

/** Seconds a timeline bucket spans, in virtual time (the charts show bytes per virtual second). */
const TIMELINE_BUCKET_VIRTUAL_S = 1;
/** How often TIME_WAIT is sampled while a scenario runs. */
const TIME_WAIT_SAMPLE_MS = 2_000;
/** How often the server's CPU, memory and sockets are sampled. */
const SERVER_SAMPLE_MS = 1_000;
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
  const live = new LiveScenario(spec, ctx);
  try {
    return assessScenario(spec, await live.observe());
  } catch (error) {
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
  private readonly dir: string;
  private readonly pcapFile: string;
  private readonly keylogFile: string;
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
  /** Set when the server process exits before the scenario closed it: the cause of whatever fails next. */
  private serverDied: string | null = null;
  private serverClosing = false;

  constructor(
    private readonly spec: ScenarioSpec,
    private readonly ctx: ScenarioContext,
  ) {
    this.dir = path.join(ctx.runDir, 'scenarios', scenarioSlug(spec.id));
    this.pcapFile = path.join(this.dir, 'capture.pcap');
    this.keylogFile = path.join(this.dir, 'keylog.txt');
  }

  /** Runs the scenario and returns what it observed. */
  async observe(): Promise<ScenarioObservations> {
    const { spec, ctx } = this;
    await mkdir(this.dir, { recursive: true });
    const keyLog = (this.keyLog = createWriteStream(this.keylogFile, { flags: 'w' }));
    const server = (this.server = await this.startServer());
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
    const timeWait = new TimeWaitObserver(server.port);
    await timeWait.begin();
    const capturedAgents = spec.captureAgents ?? spec.endpoints;
    if (ctx.capture) {
      this.capture = await TcpdumpCapture.start({
        iface: 'lo',
        ports: [capturedPort],
        file: this.pcapFile,
        // A fleet's sample: only the first agents' addresses, so tcpdump keeps up with the whole fleet's load.
        ...(capturedAgents < spec.endpoints ? { nets: agentNetworks(capturedAgents) } : {}),
      });
    }
    const serverBefore = await server.stats();
    const sampler = (this.sampler = new ServerSampler(server.pid, server.port, SERVER_SAMPLE_MS));
    await sampler.start();
    const fleet = (this.fleet = startFleet(
      {
        transport: {
          mode: spec.mode,
          host: '127.0.0.1',
          port: server.port,
          servername: 'localhost',
          ca: await readFile(ctx.cert.ca),
          tls: spec.tls,
          sessionTimeoutMs: (spec.sessionTimeoutVirtualSeconds * 1000) / spec.timeCompression,
          ...(proxy === undefined ? {} : { proxy: { host: '127.0.0.1', port: proxy.port } }),
        },
        agentAddresses: true,
        capturedAgents,
        threads: ctx.clientThreads,
        keyLog,
      },
      agentAddress,
    ));

    const interrupted = abortion(ctx.signal);
    const timeWaitTimer = setInterval(() => timeWait.sampleInBackground(), TIME_WAIT_SAMPLE_MS);
    const cpuBefore = process.cpuUsage();
    const total = ctx.schedule.length;
    const driving = fleet.drive(ctx.schedule, spec.timeCompression, AbortSignal.any([ctx.signal, this.halt.signal]), (done) =>
      ctx.onProgress?.(done, total),
    );
    const { outcomes, startEpochMs } = await Promise.race([driving, serverExited, interrupted.promise]).finally(() => {
      interrupted.dispose();
      clearInterval(timeWaitTimer);
    });
    const driveMs = epochMs() - startEpochMs;
    const cpu = process.cpuUsage(cpuBefore);
    // The agents still hold their connections (idle, in persistent): what the server keeps for them.
    const held = await sampler.sampleNow();
    const connections = await fleet.close();
    this.fleetClosed = true;
    await sleep(CAPTURE_SETTLE_MS);
    await sampler.sampleNow();
    const samples = await sampler.stop();
    await timeWait.sample();
    const serverAfter = await server.stats();
    const proxyConnects = proxy === undefined ? null : await proxy.connects();
    const tcpdump = this.capture === undefined ? null : await this.capture.stop();
    // The server must still be up here: one that died (and was replaced by nothing) invalidates the counts.
    if (this.serverDied !== null) throw new Error(this.serverDied);
    this.serverClosing = true;
    await server.close();
    await proxy?.close();
    keyLog.end();
    await once(keyLog, 'finish');

    // Totals and the timeline are what a scenario keeps; per-connection reports stay in the pcap.
    const analysis =
      this.capture === undefined
        ? null
        : await streamCapture(
            this.pcapFile,
            { serverPorts: [capturedPort], keyLogPath: this.keylogFile, timelineBucketMs: (TIMELINE_BUCKET_VIRTUAL_S * 1000) / spec.timeCompression },
            () => undefined,
          );
    const lastDueMs = (ctx.schedule.at(-1)?.atVirtualMs ?? 0) / spec.timeCompression;
    return {
      scheduledRequests: ctx.schedule.length,
      outcomes,
      socketBytes: connections.capturedSocketBytes,
      clientConnections: { opened: connections.opened, sessionResumed: connections.sessionResumed },
      analysis,
      tcpdump,
      serverBefore,
      serverAfter,
      timeWait: timeWait.counts(),
      files: {
        pcap: this.capture === undefined ? null : path.relative(ctx.runDir, this.pcapFile),
        keylog: path.relative(ctx.runDir, this.keylogFile),
      },
      realDurationMs: performance.now() - this.started,
      fleet: {
        capturedAgents,
        fleetSocketBytes: connections.socketBytes,
        clientThreads: ctx.clientThreads,
        clientCpuMs: (cpu.user + cpu.system) / 1000,
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

  private startServer(): Promise<AgentServer> {
    const { spec, ctx } = this;
    const options: AgentServerOptions = {
      tls: spec.tls,
      certDir: path.dirname(ctx.cert.chain),
      chainFile: ctx.cert.chain,
      keyFile: ctx.cert.key,
      sessionTickets: spec.sessionTickets,
      sessionCache: spec.mode === 'resumed',
      idleTimeoutMs: (spec.serverIdleTimeoutVirtualSeconds * 1000) / spec.timeCompression,
      maxConnections: spec.endpoints * CHANNELS.length,
      distributedQueryFraction: ctx.workload.distributed.queryFraction,
    };
    return spec.server === 'nginx' ? startNginx(options) : startAgentServer(options);
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
