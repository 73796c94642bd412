/** The run's progress lines: within 80 columns (or the terminal's width), escape sequences only on a terminal. */
import { describe, expect, it } from 'vitest';
import { progressPrinter } from '../../bench/cli/run.ts';
import { sampleResults } from '../report/fixtures.ts';
import type { ScenarioResult } from '../../bench/model/index.ts';

/** A stream that keeps what is written; a terminal of `columns` when given. */
function stream(columns?: number) {
  const chunks: string[] = [];
  const out = { write: (s: string) => chunks.push(s) > 0, ...(columns === undefined ? {} : { isTTY: true, columns }) };
  return { out: out as unknown as NodeJS.WritableStream, text: () => chunks.join('') };
}

/** What a terminal shows: each \r starts the line again, each \n ends it; escape sequences take no room. */
function screenLines(text: string): string[] {
  return text
    .split('\n')
    .flatMap((line) => line.split('\r'))
    .map((line) => line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
}

function play(out: NodeJS.WritableStream, scenarios: ScenarioResult[], env: NodeJS.ProcessEnv) {
  const events = progressPrinter(out, env);
  scenarios.forEach((s, i) => {
    events.scenarioStart!(i, 24, s.spec, 1, 1);
    for (let done = 1; done <= 3; done++) events.scenarioProgress!(done, 3);
    events.scenarioEnd!(i, 24, s);
  });
}

const long: ScenarioResult[] = (() => {
  const [fresh, persistent] = sampleResults().scenarios;
  const spec = { ...persistent!.spec, id: 'persistent/tls1.3/ecdsa-p256/loopback/nginx', server: 'nginx' as const, cert: 'ecdsa-p256' as const };
  const invalid = {
    ...(persistent as Extract<ScenarioResult, { state: 'completed' }>),
    id: spec.id,
    spec,
    state: 'invalid' as const,
    invalidReasons: [
      'socket counters and the capture disagree: up: client sockets wrote 738,176 B, capture stream 738,176 B; down: client sockets read 594,594 B, capture stream 594,625 B; the pcap is kept to inspect, and `npx tls-reuse-bench run --modes persistent --tls 1.2 --server nginx --cert ecdsa-p256 --endpoints 4 --virtual-minutes 10 --time-compression 60` runs this scenario alone',
    ],
  };
  const failed: ScenarioResult = { id: spec.id, state: 'failed', spec, warnings: [], error: 'the nginx server exited during the scenario (SIGKILL): connection 3 (read): ECONNRESET: read ECONNRESET while the agent waited for its config' };
  return [fresh!, invalid, failed];
})();

describe('progress lines', () => {
  it('fit 80 columns in a log, with no escape sequence', () => {
    const { out, text } = stream();
    play(out, long, { CI: 'true' });
    expect(text()).not.toMatch(/\x1b/);
    for (const line of screenLines(text())) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(text()).toMatch(/^\[2\/24\] persistent\/tls1\.3\/ecdsa-p256\/loopback\/nginx \d+\.\d s, INVALID:$/m);
  });

  it('fit the terminal, rewritten in place', () => {
    for (const columns of [80, 60]) {
      const { out, text } = stream(columns);
      play(out, long, {});
      expect(text()).toMatch(/\r\x1b\[2K/);
      for (const line of screenLines(text())) expect(line.length, `${columns}: ${line}`).toBeLessThanOrEqual(columns);
    }
  });

  it('a terminal in CI or with TERM=dumb gets plain lines', () => {
    for (const env of [{ CI: 'true' }, { TERM: 'dumb' }]) {
      const { out, text } = stream(80);
      play(out, long, env);
      expect(text()).not.toMatch(/\x1b/);
    }
  });
});
