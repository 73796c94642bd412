/**
 * Pacing a fleet (issue 11): the time compression a run may use so it never asks the machine for more real
 * requests per second than a budget (`--max-rate`). In `fresh` every request is a new TCP connection and a
 * full TLS handshake, so the budget is one of new connections too. Pure.
 */
import type { Pacing } from '../model/index.ts';

/**
 * Real requests per second per core that this project's 2-core machine sustains with nginx, TLS 1.2 and
 * `fresh` (a handshake per request) while tcpdump captures a sample of 50 agents and other work shares the
 * machine: at 250/s 1000 agents fell behind and 46% of requests hit the deadline; at 100/s none did (see
 * docs/fleet.md for the runs).
 */
export const DEFAULT_MAX_RATE_PER_CORE = 50;

/** What pacing needs to know about a run. */
export interface PacingInput {
  endpoints: number;
  /** Requests per agent per virtual minute in steady state (`expectedRequestsPerEndpointMinute`). */
  requestsPerEndpointMinute: number;
  /** The compression the suite or `--time-compression` asks for. */
  requestedCompression: number;
  /** `--time-compression` was given: it is kept, or refused when over budget, never lowered silently. */
  compressionFromFlag: boolean;
  maxRatePerSecond: number;
  maxRateSource: Pacing['maxRateSource'];
}

/** The busiest minute adds each agent's one enroll (all agents start within the first virtual minute). */
const ENROLL_PER_ENDPOINT_IN_FIRST_MINUTE = 1;

/** Real requests per second the schedule asks for at `compression`, in its busiest minute. */
export function requestsPerSecondAt(endpoints: number, requestsPerEndpointMinute: number, compression: number): number {
  return (endpoints * (requestsPerEndpointMinute + ENROLL_PER_ENDPOINT_IN_FIRST_MINUTE) * compression) / 60;
}

/** Rounds down to two significant digits, so a chosen compression reads as 1.4 or 37, not 1.4382. */
function roundDown2(x: number): number {
  const scale = 10 ** (Math.floor(Math.log10(x)) - 1);
  // toPrecision: 46 × 0.1 is 4.6000000000000005 in binary floating point.
  return Number((Math.floor(x / scale) * scale).toPrecision(2));
}

/**
 * The compression to run at: the requested one when it fits the budget; otherwise, when it came from the
 * suite, the largest that fits (rounded down to two digits); when it came from `--time-compression`,
 * `'over-budget'` with the largest that would fit, for the caller to refuse with.
 */
export function choosePacing(input: PacingInput): Pacing | { overBudget: true; fitting: number; requestsPerSecond: number } {
  const rate = (c: number) => requestsPerSecondAt(input.endpoints, input.requestsPerEndpointMinute, c);
  const budget = input.maxRatePerSecond;
  const fitting = roundDown2((budget * 60) / (input.endpoints * (input.requestsPerEndpointMinute + ENROLL_PER_ENDPOINT_IN_FIRST_MINUTE)));
  const asked = rate(input.requestedCompression);
  const budgetText = `${round(budget)} requests/s (${input.maxRateSource === 'flag' ? '--max-rate' : `the default of ${DEFAULT_MAX_RATE_PER_CORE} per core`})`;
  if (asked <= budget) {
    return {
      timeCompression: input.requestedCompression,
      maxRatePerSecond: budget,
      maxRateSource: input.maxRateSource,
      requestsPerSecond: asked,
      reason: `${input.compressionFromFlag ? '--time-compression' : 'the suite\'s'} ${round(input.requestedCompression)}x asks for ${round(asked)} requests/s, within the budget of ${budgetText}`,
    };
  }
  if (input.compressionFromFlag) return { overBudget: true, fitting, requestsPerSecond: asked };
  return {
    timeCompression: fitting,
    maxRatePerSecond: budget,
    maxRateSource: input.maxRateSource,
    requestsPerSecond: rate(fitting),
    reason: `the suite's ${round(input.requestedCompression)}x would ask ${input.endpoints} agents for ${round(asked)} requests/s; ${round(fitting)}x keeps them within the budget of ${budgetText}`,
  };
}

function round(x: number): string {
  return x >= 10 ? x.toFixed(0) : String(Math.round(x * 100) / 100);
}
