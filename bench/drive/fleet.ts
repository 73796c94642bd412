/**
 * A fleet of agents driven in real time from their schedule (issue 11): on this thread, or spread over
 * worker threads when one core is not enough for the client's TLS work. Each thread runs an AgentClient for
 * a contiguous range of agents; outcomes and socket counters come back to the caller as one fleet.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AgentRequest, DrivenOutcome, SocketBytes } from '../model/index.ts';
import { repoPath } from '../paths.ts';
import { AgentClient, type ConnectionRecord, type TransportOptions } from './client.ts';
import { epochMs } from './connection.ts';

/** The client's connections, summed. */
export interface FleetConnections {
  opened: number;
  sessionResumed: number;
  /** Connections the server closed first. */
  closedByServer: number;
  /** Raw TCP bytes of every agent's sockets. */
  socketBytes: SocketBytes;
  /** Raw TCP bytes of the captured agents' sockets (agents `0 .. capturedAgents-1`). */
  capturedSocketBytes: SocketBytes;
  /** The captured agents' connections (to reconcile connection by connection, and to name each captured
   * connection's channel), in no particular order across threads. */
  captured: ConnectionRecord[];
}

/** What a fleet needs: the transport (without functions: it crosses to worker threads) and the sample. */
export interface FleetOptions {
  transport: Omit<TransportOptions, 'keyLog' | 'clock' | 'sourceAddress'>;
  /** Bind each agent to its own loopback address (`agentAddress`). */
  agentAddresses: boolean;
  /** Agents whose socket counters are summed apart (the capture's sample). */
  capturedAgents: number;
  threads: number;
  /** Receives every connection's NSS key log lines. */
  keyLog: NodeJS.WritableStream;
}

/** How long threads get to start and receive their schedule before the first request is due. */
const WORKER_LEAD_MS = 1_500;
/** How long an aborted thread gets to destroy its sockets and say so before it is terminated. */
const WORKER_ABORT_GRACE_MS = 2_000;

/** Sums a client's connection records into the fleet's counters. */
export function summarizeConnections(client: AgentClient, capturedAgents: number): FleetConnections {
  const out = structuredClone(EMPTY_CONNECTIONS);
  for (const c of client.connections()) {
    out.opened += 1;
    if (c.sessionResumed) out.sessionResumed += 1;
    if (c.closedBy === 'server') out.closedByServer += 1;
    out.socketBytes.up += c.bytes.up;
    out.socketBytes.down += c.bytes.down;
    if (c.endpointIndex < capturedAgents) {
      out.capturedSocketBytes.up += c.bytes.up;
      out.capturedSocketBytes.down += c.bytes.down;
      out.captured.push(c);
    }
  }
  return out;
}

const EMPTY_CONNECTIONS: FleetConnections = {
  opened: 0,
  sessionResumed: 0,
  closedByServer: 0,
  socketBytes: { up: 0, down: 0 },
  capturedSocketBytes: { up: 0, down: 0 },
  captured: [],
};

function addConnections(a: FleetConnections, b: FleetConnections): FleetConnections {
  const add = (x: SocketBytes, y: SocketBytes): SocketBytes => ({ up: x.up + y.up, down: x.down + y.down });
  return {
    opened: a.opened + b.opened,
    sessionResumed: a.sessionResumed + b.sessionResumed,
    closedByServer: a.closedByServer + b.closedByServer,
    socketBytes: add(a.socketBytes, b.socketBytes),
    capturedSocketBytes: add(a.capturedSocketBytes, b.capturedSocketBytes),
    captured: [...a.captured, ...b.captured],
  };
}

/**
 * Sends each request at `startEpochMs + atVirtualMs / timeCompression` (real epoch ms); resolves with every
 * outcome once all completed. Stops queuing new requests once `signal` aborts, at once: a wait for the next
 * request due minutes later must not keep the scenario (and its process) alive.
 */
export async function driveSchedule(
  client: AgentClient,
  schedule: readonly AgentRequest[],
  startEpochMs: number,
  timeCompression: number,
  signal: AbortSignal,
  onDone: () => void,
): Promise<DrivenOutcome[]> {
  const pending: Promise<DrivenOutcome>[] = [];
  for (const request of schedule) {
    if (signal.aborted) break;
    const dueEpochMs = startEpochMs + request.atVirtualMs / timeCompression;
    const wait = dueEpochMs - epochMs();
    if (wait > 0) {
      const woke = await sleep(wait, true, { signal }).catch((error: unknown) => {
        if (signal.aborted) return false;
        throw error;
      });
      if (!woke) break;
    }
    const sentLateMs = Math.max(0, epochMs() - dueEpochMs);
    pending.push(
      client.send(request).then((outcome) => {
        onDone();
        return { ...outcome, sentLateMs };
      }),
    );
  }
  return Promise.all(pending);
}

/** Messages of the worker protocol (fleet-worker-main.ts). */
export type ToWorker =
  | { type: 'drive'; options: Omit<FleetOptions, 'keyLog' | 'threads'>; schedule: AgentRequest[]; startEpochMs: number; timeCompression: number }
  | { type: 'close' }
  | { type: 'abort'; reason: string };
export type FromWorker =
  | { type: 'keylog'; line: Uint8Array }
  | { type: 'progress'; done: number }
  | { type: 'outcomes'; outcomes: WireOutcome[] }
  | { type: 'closed'; connections: FleetConnections }
  | { type: 'aborted' }
  | { type: 'error'; message: string };

/** An outcome on its way back from a worker: the request by its index in the worker's schedule. */
export type WireOutcome = Omit<DrivenOutcome, 'request'> & { request: number };

/** Agents `[first, end)` of thread `t` of `threads`: contiguous ranges of near-equal size. */
export function agentRange(endpoints: number, threads: number, t: number): [number, number] {
  return [Math.floor((endpoints * t) / threads), Math.floor((endpoints * (t + 1)) / threads)];
}

/** A running fleet: `drive` once, then `close` (or `abort`). */
export interface Fleet {
  /** Resolves with every outcome, in no particular order. `onProgress` gets the count of completed requests. */
  drive(schedule: AgentRequest[], timeCompression: number, signal: AbortSignal, onProgress: (done: number) => void): Promise<{ outcomes: DrivenOutcome[]; startEpochMs: number; eventLoop: ClientEventLoop }>;
  /** Closes every connection the agent's way and sums them. */
  close(): Promise<FleetConnections>;
  /** Stops at once (Ctrl-C): requests in flight fail, sockets are destroyed. */
  abort(reason: string): Promise<void>;
}

/**
 * How busy the client's event loops were while it drove (0-1, Node's event loop utilisation): the runner's
 * main thread, and each client thread (from its start to its last outcome; empty when the agents ran on the
 * main thread). A loop near 1 cannot send on time, however many cores are idle.
 */
export interface ClientEventLoop {
  main: number;
  threads: number[];
}

/** A fleet on this thread, or over `threads` worker threads. */
export function startFleet(options: FleetOptions, agentAddress: (index: number) => string): Fleet {
  return options.threads <= 1 ? new LocalFleet(options, agentAddress) : new ThreadedFleet(options);
}

class LocalFleet implements Fleet {
  private readonly client: AgentClient;

  constructor(private readonly options: FleetOptions, agentAddress: (index: number) => string) {
    this.client = new AgentClient({
      ...options.transport,
      keyLog: options.keyLog,
      ...(options.agentAddresses ? { sourceAddress: agentAddress } : {}),
    });
  }

  async drive(schedule: AgentRequest[], timeCompression: number, signal: AbortSignal, onProgress: (done: number) => void) {
    const startEpochMs = epochMs();
    const before = performance.eventLoopUtilization();
    let done = 0;
    const outcomes = await driveSchedule(this.client, schedule, startEpochMs, timeCompression, signal, () => onProgress(++done));
    return { outcomes, startEpochMs, eventLoop: { main: performance.eventLoopUtilization(before).utilization, threads: [] } };
  }

  async close(): Promise<FleetConnections> {
    await this.client.close();
    return summarizeConnections(this.client, this.options.capturedAgents);
  }

  abort(reason: string): Promise<void> {
    return this.client.abort(reason);
  }
}

/** The worker module: fleet-worker-main.ts from the CLI's bundle (see bin/bundle.js). */
const BUNDLE_MODULE = pathToFileURL(repoPath('bin/bundle.js')).href;

class ThreadedFleet implements Fleet {
  private workers: Worker[] = [];
  private readonly exits: Promise<void>[] = [];
  /** Per thread: it has exited (crashed, or terminated). */
  private readonly exited: boolean[] = [];
  private failure: Error | null = null;
  /** Aborted: a drive still loading the worker module must not start threads. */
  private stopped = false;

  constructor(private readonly options: FleetOptions) {}

  async drive(schedule: AgentRequest[], timeCompression: number, signal: AbortSignal, onProgress: (done: number) => void) {
    const { bundleEntry } = (await import(BUNDLE_MODULE)) as { bundleEntry(name: 'fleet-worker'): Promise<string> };
    const entry = await bundleEntry('fleet-worker');
    if (this.stopped || signal.aborted) throw new Error(`client threads not started: ${String(signal.reason ?? 'aborted')}`);
    const threads = this.options.threads;
    const endpoints = schedule.reduce((m, r) => Math.max(m, r.endpointIndex), 0) + 1;
    const slices = Array.from({ length: threads }, (_, t) => {
      const [first, end] = agentRange(endpoints, threads, t);
      return schedule.filter((r) => r.endpointIndex >= first && r.endpointIndex < end);
    });
    const startEpochMs = epochMs() + WORKER_LEAD_MS;
    const mainBefore = performance.eventLoopUtilization();
    const threadLoops = new Array<number>(threads).fill(0);
    const progress = new Array<number>(threads).fill(0);
    const { keyLog, threads: _, ...shared } = this.options;
    const results = slices.map((slice, t) => {
      const worker = new Worker(entry, { stdout: false, stderr: false });
      this.workers.push(worker);
      this.exited.push(false);
      this.exits.push(new Promise((resolve) => worker.once('exit', () => resolve(void (this.exited[t] = true)))));
      return new Promise<DrivenOutcome[]>((resolve, reject) => {
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'keylog') keyLog.write(Buffer.from(m.line));
          else if (m.type === 'progress') {
            progress[t] = m.done;
            onProgress(progress.reduce((a, b) => a + b, 0));
          } else if (m.type === 'outcomes') {
            threadLoops[t] = worker.performance.eventLoopUtilization().utilization;
            resolve(m.outcomes.map((o) => ({ ...o, request: slice[o.request]! }) as DrivenOutcome));
          }
          else if (m.type === 'error') reject((this.failure = new Error(`client thread ${t}: ${m.message}`)));
        });
        worker.once('error', (error) => reject((this.failure = error)));
        worker.once('exit', (code) => reject((this.failure ??= new Error(`client thread ${t} exited (code ${code}) before finishing`))));
        const onAbort = () => worker.postMessage({ type: 'abort', reason: String(signal.reason ?? 'aborted') } satisfies ToWorker);
        signal.addEventListener('abort', onAbort, { once: true });
        worker.once('exit', () => signal.removeEventListener('abort', onAbort));
        worker.postMessage({ type: 'drive', options: shared, schedule: slice, startEpochMs, timeCompression } satisfies ToWorker);
      });
    });
    const outcomes = (await Promise.all(results)).flat();
    return { outcomes, startEpochMs, eventLoop: { main: performance.eventLoopUtilization(mainBefore).utilization, threads: threadLoops } };
  }

  async close(): Promise<FleetConnections> {
    try {
      const answers = await Promise.all(this.workers.map((worker, t) => this.ask(worker, t, { type: 'close' }, 'closed')));
      return answers.map((m) => (m.type === 'closed' ? m.connections : EMPTY_CONNECTIONS)).reduce(addConnections);
    } finally {
      await this.terminate();
    }
  }

  async abort(reason: string): Promise<void> {
    // Each thread destroys its sockets and answers; one that does not within the grace is terminated anyway.
    this.stopped = true;
    // Each thread destroys its sockets and answers; one that does not (or cannot) within the grace is
    // terminated all the same, so its failure to answer is no error here.
    const told = this.workers.map((worker, t) => this.ask(worker, t, { type: 'abort', reason }, 'aborted').catch(() => undefined));
    const grace = new AbortController();
    const timedOut = sleep(WORKER_ABORT_GRACE_MS, undefined, { signal: grace.signal }).catch(() => undefined);
    await Promise.race([Promise.all(told), timedOut]);
    grace.abort();
    await this.terminate();
  }

  /**
   * Sends `message` to thread `t` and resolves with its answer of type `answer`; rejects when the thread
   * reports an error or has exited before answering, so nothing waits on a dead thread.
   */
  private ask(worker: Worker, t: number, message: ToWorker, answer: FromWorker['type']): Promise<FromWorker> {
    return new Promise<FromWorker>((resolve, reject) => {
      const onExit = (code: number) => reject(this.failure ?? new Error(`client thread ${t} exited (code ${code}) before answering '${message.type}'`));
      const onMessage = (m: FromWorker) => {
        if (m.type !== answer && m.type !== 'error') return;
        worker.off('exit', onExit).off('message', onMessage);
        if (m.type === 'error') reject(new Error(`client thread ${t}: ${m.message}`));
        else resolve(m);
      };
      worker.once('exit', onExit).on('message', onMessage);
      if (this.exited[t]) onExit(-1);
      else worker.postMessage(message);
    });
  }

  /** Ends every thread and waits until each has exited. */
  private async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    await Promise.all(this.exits);
    this.workers = [];
  }
}
