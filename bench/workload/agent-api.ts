/**
 * The agent API as both sides see it: the osquery-style paths (Fleet's, the most common osquery TLS server),
 * which worker channel makes each call, the deterministic node key, and the rule deciding which distributed
 * reads carry a query. The schedule and the embedded server share these so their bytes agree.
 */
import { API_CALLS, type ApiCall, type Channel } from '../model/index.ts';
import { randomStream, unitFromString } from './prng.ts';

/** HTTP path of each API call (all POST). */
export const AGENT_API_PATHS: Readonly<Record<ApiCall, string>> = {
  enroll: '/api/v1/osquery/enroll',
  config: '/api/v1/osquery/config',
  log: '/api/v1/osquery/log',
  distributed_read: '/api/v1/osquery/distributed/read',
  distributed_write: '/api/v1/osquery/distributed/write',
};

/** The worker thread (hence the client and connection) that makes each call (AGENT-FACTS.md). */
export const CHANNEL_OF: Readonly<Record<ApiCall, Channel>> = {
  enroll: 'enroll',
  config: 'config',
  log: 'logger',
  distributed_read: 'distributed',
  distributed_write: 'distributed',
};

/** The API call a path names, or null for any other path. */
export function apiCallForPath(path: string): ApiCall | null {
  for (const api of API_CALLS) if (AGENT_API_PATHS[api] === path) return api;
  return null;
}

const NODE_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Fleet issues 32-character node keys; the enroll fixture's key has the same length. */
export const NODE_KEY_LENGTH = 32;

/**
 * The node key endpoint `endpointIndex` uses after enrolling. It is derived rather than taken from the
 * enroll response so the schedule stays a pure function of its inputs; the servers accept any key.
 */
export function nodeKeyFor(seed: number, endpointIndex: number): string {
  return randomStream(seed, endpointIndex, 'node-key').chars(NODE_KEY_LENGTH, NODE_KEY_ALPHABET);
}

/**
 * Whether the `readIndex`-th (0-based) distributed read of the agent holding `nodeKey` returns a query.
 *
 * An error-diffusion (Bresenham) rule rather than an independent coin per read: read k carries a query when
 * floor((k+1)·f + u) > floor(k·f + u), with the phase u ∈ [0, 1) derived from the node key. Over any n
 * consecutive reads that is floor(n·f) or ceil(n·f) queries, so per-minute counts are exact for tests, the
 * reads carrying queries are spread evenly, and agents are out of phase with each other. The server applies
 * the same rule to its per-key read counter, so its answer matches the write the schedule makes.
 */
export function distributedQueryDue(nodeKey: string, readIndex: number, queryFraction: number): boolean {
  const phase = unitFromString(`distributed-phase/${nodeKey}`);
  return Math.floor((readIndex + 1) * queryFraction + phase) > Math.floor(readIndex * queryFraction + phase);
}
