/**
 * A client thread of a fleet (bench/drive/fleet.ts): drives its agents' slice of the schedule with its own
 * AgentClient, sends key log lines and progress to the parent as they come, its outcomes once all
 * completed, and its connections' counters once closed.
 */
import { Writable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import type { AgentRequest, DrivenOutcome } from '../model/index.ts';
import { agentAddress } from './addresses.ts';
import { AgentClient } from './client.ts';
import { driveSchedule, summarizeConnections, type FromWorker, type ToWorker, type WireOutcome } from './fleet.ts';

const port = parentPort;
if (port === null) throw new Error('fleet-worker-main runs as a worker thread of bench/drive/fleet.ts');
const PROGRESS_MS = 250;

let client: AgentClient | null = null;
let capturedAgents = 0;
const aborted = new AbortController();
const send = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'drive') void drive(m);
  else if (m.type === 'close') void close();
  else void abort(m.reason);
});

async function drive(m: Extract<ToWorker, { type: 'drive' }>): Promise<void> {
  try {
    capturedAgents = m.options.capturedAgents;
    const keyLog = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        send({ type: 'keylog', line: new Uint8Array(chunk) });
        callback();
      },
    });
    client = new AgentClient({ ...m.options.transport, keyLog, ...(m.options.agentAddresses ? { sourceAddress: agentAddress } : {}) });
    // Bodies arrive as Uint8Array (structured clone does not keep Buffer).
    const schedule: AgentRequest[] = m.schedule.map((r) => ({ ...r, body: Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength) }));
    const index = new Map(schedule.map((r, i) => [r, i]));
    let done = 0;
    const timer = setInterval(() => send({ type: 'progress', done }), PROGRESS_MS);
    const outcomes = await driveSchedule(client, schedule, m.startEpochMs, m.timeCompression, aborted.signal, () => done++);
    clearInterval(timer);
    send({ type: 'progress', done });
    send({ type: 'outcomes', outcomes: outcomes.map((o: DrivenOutcome): WireOutcome => ({ ...o, request: index.get(o.request)! })) });
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
}

async function close(): Promise<void> {
  try {
    if (client === null) throw new Error('close before drive');
    await client.close();
    send({ type: 'closed', connections: summarizeConnections(client, capturedAgents) });
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

/** Stops queuing, destroys every socket (requests in flight fail) and says so; the parent then terminates
 * the thread. */
async function abort(reason: string): Promise<void> {
  try {
    aborted.abort(reason);
    await client?.abort(reason);
    send({ type: 'aborted' });
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}
