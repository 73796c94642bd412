/**
 * The latency phase of a scenario: each API call's request sent again and again on the scenario's transport,
 * timed per request by the client's own timestamps, with tinybench driving the warm-up and the iterations.
 *
 * Each API call gets its own client (its own connection in `persistent` mode, its own session in `resumed`
 * mode), as the agent's worker threads do. The warm-up opens the kept-alive connection (`persistent`) or
 * obtains a session ticket (`resumed`); every measured iteration of `fresh` and `resumed` opens a new
 * connection. tinybench is handed each request's own duration (`overriddenDuration`), so its statistics are
 * the client's request times, not the time around an awaited promise.
 */
import { setMaxListeners } from 'node:events';
import { Bench } from 'tinybench';
import type { AgentRequest, LatencyObservation, RequestOutcome } from '../model/index.ts';
import { AgentClient, type TransportOptions } from './client.ts';

/** What the latency phase measures and how. */
export interface LatencyPhaseOptions {
  /** The scenario's transport (mode, server, TLS version); no key log is needed: nothing is captured. */
  transport: TransportOptions;
  /** One request per API call to time, in the order the agent first makes them. */
  requests: AgentRequest[];
  /** Measured iterations per API call. */
  samples: number;
  /** Iterations before measuring (at least 1: the connection or the session to reuse). */
  warmup: number;
  /**
   * Time API calls side by side instead of one after another: on an emulated path each request waits for
   * round trips, not for the CPU, so sequential sampling would only make the phase long.
   */
  concurrent: boolean;
  signal: AbortSignal;
}

/**
 * Times each API call; resolves with the measured outcomes per call (a failed request is an outcome, never
 * an exception: it is counted, and that call is not sent again while the other calls go on). Stops early when
 * `signal` aborts.
 */
export async function measureLatency(o: LatencyPhaseOptions): Promise<LatencyObservation[]> {
  // tinybench listens on its signal once per task and never stops: give it a signal of this phase alone, or
  // a run's signal would collect five listeners per scenario repetition (`--runs`).
  const phase = new AbortController();
  const forward = () => phase.abort(o.signal.reason);
  if (o.signal.aborted) forward();
  else o.signal.addEventListener('abort', forward, { once: true });
  setMaxListeners(o.requests.length + 10, phase.signal);
  const bench = new Bench({
    iterations: o.samples,
    // The iteration count alone bounds the phase: a time budget would add iterations on a fast path.
    time: 0,
    warmupIterations: o.warmup,
    warmupTime: 0,
    concurrency: o.concurrent ? 'bench' : null,
    signal: phase.signal,
    throws: true,
  });
  const clients: AgentClient[] = [];
  const observations = o.requests.map((request): LatencyObservation => {
    const client = new AgentClient(o.transport);
    clients.push(client);
    const observation: LatencyObservation = { api: request.api, outcomes: [] };
    let measuring = false;
    let failed = false;
    bench.add(
      request.api,
      async () => {
        // After a failure the call is not sent again: a dead server would cost a timeout per iteration,
        // and the failure is already counted.
        if (failed) return { overriddenDuration: 0 };
        const outcome: RequestOutcome = await client.send(request);
        if (outcome.state !== 'ok') failed = true;
        // A failure during the warm-up is kept too: it is the reason the call has no samples.
        if (measuring || failed) observation.outcomes.push(outcome);
        return { overriddenDuration: outcome.state === 'ok' ? outcome.phases.totalMs : 0 };
      },
      {
        beforeAll(mode) {
          measuring = mode === 'run';
        },
      },
    );
    return observation;
  });
  try {
    await bench.run();
  } catch (error) {
    // An abort ends the phase with what was measured; anything else is a defect to report.
    if (!o.signal.aborted) throw error;
  } finally {
    o.signal.removeEventListener('abort', forward);
    await Promise.all(clients.map((c) => (o.signal.aborted ? c.abort('latency phase aborted') : c.close())));
  }
  return observations;
}
