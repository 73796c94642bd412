/** The open-loop drive: each request sent at its due time, with how late it went out. */
import { describe, expect, it } from 'vitest';
import type { AgentClient } from '../../bench/drive/client.ts';
import { epochMs } from '../../bench/drive/connection.ts';
import { driveSchedule } from '../../bench/drive/fleet.ts';
import type { AgentRequest, RequestOutcome } from '../../bench/model/index.ts';

const request = (atVirtualMs: number): AgentRequest => ({
  endpointIndex: 0, channel: 'logger', api: 'log', path: '/api/v1/osquery/log', atVirtualMs, headers: [], body: Buffer.alloc(0),
});

/** A client that answers at once, recording when each request reached it. */
function instantClient(sentAt: number[]): AgentClient {
  return {
    send: async (r: AgentRequest): Promise<RequestOutcome> => {
      sentAt.push(epochMs());
      return { state: 'failed', request: r, error: 'not sent', connectionId: null };
    },
  } as unknown as AgentClient;
}

describe('driveSchedule', () => {
  it('records how late each request went out: at least how long ago it was due, never below 0', async () => {
    const sentAt: number[] = [];
    // Started 5 s ago at 2x: the first three were due 5, 4 and 3 s ago; the last one 50 ms from now.
    const start = epochMs() - 5000;
    const schedule = [request(0), request(2000), request(4000), request(10_100)];
    const outcomes = await driveSchedule(instantClient(sentAt), schedule, start, 2, new AbortController().signal, () => undefined);
    const late = outcomes.map((o) => o.sentLateMs);
    expect(late[0]).toBeGreaterThanOrEqual(5000);
    expect(late[1]).toBeGreaterThanOrEqual(4000);
    expect(late[2]).toBeGreaterThanOrEqual(3000);
    expect(late[3]).toBeGreaterThanOrEqual(0);
    // Each lateness is the send time minus the due time, as the client saw it.
    schedule.forEach((r, i) => expect(late[i]).toBeCloseTo(Math.max(0, sentAt[i]! - (start + r.atVirtualMs / 2)), 0));
  });
});
