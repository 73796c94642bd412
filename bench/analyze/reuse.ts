/** The connection-reuse audit of a capture: how many requests each connection carried. */
import type { ReuseAudit } from '../model/index.ts';

/**
 * Shares of single-request connections that decide the verdict. A client that reuses connections still has
 * some that carry one request (the agent's enroll, a reconnect after a session timeout or a server idle
 * close), but not most; one that reconnects per request has nearly all.
 */
const NOT_REUSED_SHARE = 0.9;
const REUSED_SHARE = 0.5;

/** Summarises requests per connection (one count per connection) over the connections that carried any. */
export function auditReuse(requestsPerConnection: readonly number[]): ReuseAudit {
  const counts = requestsPerConnection.filter((n) => n > 0).sort((a, b) => a - b);
  const requests = counts.reduce((sum, n) => sum + n, 0);
  const single = counts.filter((n) => n === 1).length;
  const mid = Math.floor(counts.length / 2);
  const median = counts.length === 0 ? 0 : counts.length % 2 === 1 ? counts[mid]! : (counts[mid - 1]! + counts[mid]!) / 2;
  let verdict: ReuseAudit['verdict'];
  if (counts.length === 0) verdict = 'none';
  else if (single / counts.length >= NOT_REUSED_SHARE) verdict = 'not-reused';
  else if (single / counts.length >= REUSED_SHARE) verdict = 'partly-reused';
  else verdict = 'reused';
  return {
    connectionsWithRequests: counts.length,
    requests,
    requestsPerConnection: {
      mean: counts.length === 0 ? 0 : requests / counts.length,
      median,
      max: counts.at(-1) ?? 0,
    },
    singleRequestConnections: single,
    verdict,
  };
}
