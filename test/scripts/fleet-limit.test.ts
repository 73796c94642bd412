/** The fleet-limit search: the sizes it tries, and what it says stopped the first fleet that did not hold. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEARCH, limitOf, modeLimit, nextSize, runError, type Probe } from '../../scripts/fleet/limit.ts';

function probe(endpoints: number, outcome: Probe['outcome'], more: Partial<Probe> = {}): Probe {
  return {
    mode: 'fresh', endpoints, outcome, reasons: outcome === 'valid' ? [] : ['3 of 100 requests failed (first: request deadline of 16000 ms exceeded)'],
    requests: null, coresBusy: { client: 0.5, server: 0.2, machine: 0.9, of: 2 }, clientThreads: 2, clientEventLoop: { main: 0.1, threads: [0.3, 0.3] }, serverProcesses: 1, droppedByKernel: 0,
    sentLateP99Ms: 5, clientCpuMsPerRequest: 4, serverCpuMsPerRequest: 1, requestsPerSecond: 268, wallSeconds: 180, loadAverage: { before: 0.5, after: 1.5 },
    ...more,
  };
}

/** The sizes the search tries when fleets up to `holds` agents hold and larger ones do not. */
function walk(holds: number, o = DEFAULT_SEARCH): number[] {
  const probes: Probe[] = [];
  for (let n = nextSize(probes, o); n !== null; n = nextSize(probes, o)) probes.push(probe(n, n <= holds ? 'valid' : 'invalid'));
  return probes.map((p) => p.endpoints);
}

describe('nextSize', () => {
  it('grows by 1.5x while fleets hold, then bisects to within 15% or 250 agents', () => {
    expect(walk(1300)).toEqual([1000, 1500, 1250]);
    expect(walk(4000)).toEqual([1000, 1500, 2250, 3500, 5250, 4500, 4000]);
  });

  it('stops at --max when every fleet holds', () => {
    expect(walk(1e9)).toEqual([1000, 1500, 2250, 3500, 5250, 8000, 10000]);
    expect(walk(1e9, { ...DEFAULT_SEARCH, max: 1200 })).toEqual([1000, 1200]);
  });

  it('halves down from a start that did not hold, to the granularity', () => {
    expect(walk(600)).toEqual([1000, 500, 750]);
    expect(walk(100)).toEqual([1000, 500, 250]);
  });

  it('never tries a size twice and always ends', () => {
    for (let holds = 0; holds <= 12_000; holds += 137) {
      const sizes = walk(holds);
      expect(new Set(sizes).size).toBe(sizes.length);
      expect(sizes.length).toBeLessThan(15);
    }
  });
});

describe('a refused fleet', () => {
  it('is bisected below like any fleet that did not hold: the largest that fits the limit', () => {
    // 5000 agents need more descriptors than ulimit -n allows; 4800 would fit, and every size that fits holds.
    const probes: Probe[] = [];
    for (let n = nextSize(probes); n !== null; n = nextSize(probes)) probes.push(probe(n, n < 4800 ? 'valid' : 'refused'));
    expect(probes.map((p) => p.endpoints)).toEqual([1000, 1500, 2250, 3500, 5250, 4500, 5000]);
    expect(modeLimit('fresh', probes).largestValid!.endpoints).toBe(4500);
    expect(modeLimit('fresh', probes).limit!.by).toBe('system limit');
  });

  it("keeps the whole reason a run printed: its error line and the indented lines that go on with it", () => {
    const printed = [
      'pace: 1x (--time-compression 1x asks for 1409 requests/s, within the budget of',
      '  1000000 requests/s (--max-rate))',
      'error: --endpoints 5250: this machine cannot hold the fleet:',
      '  open files: 5250 agents hold up to 21000 connections (21256 descriptors with spares) but ulimit -n is 20000; raise it (ulimit -n 25508) or run fewer --endpoints',
      '  memory: the fleet needs about 9000 MiB',
      '',
    ].join('\n');
    expect(runError(printed)).toBe(
      'error: --endpoints 5250: this machine cannot hold the fleet: open files: 5250 agents hold up to 21000 connections (21256 descriptors with spares) but ulimit -n is 20000; raise it (ulimit -n 25508) or run fewer --endpoints memory: the fleet needs about 9000 MiB',
    );
    expect(runError('error: --modes: unknown mode "x"\n')).toBe('error: --modes: unknown mode "x"');
    expect(runError('no error here\n')).toBeUndefined();
  });
});

describe('limitOf', () => {
  it('names a system limit from the refusal, and tcpdump drops as the capture', () => {
    expect(limitOf(probe(5000, 'refused', { reasons: ['error: file descriptors: ulimit -n is 1024 ...'], coresBusy: null }))).toEqual({ by: 'system limit', detail: 'error: file descriptors: ulimit -n is 1024 ...' });
    expect(limitOf(probe(5000, 'invalid', { droppedByKernel: 12 })).by).toBe('capture');
  });

  it('names the machine when every core was busy, and its largest user', () => {
    const l = limitOf(probe(2000, 'invalid', { coresBusy: { client: 1.3, server: 0.4, machine: 1.95, of: 2 } }));
    expect(l.by).toBe('machine CPU');
    expect(l.detail).toBe("every core busy, most of it the client's: client 1.30 cores (2 threads), server 0.40 (1 process), machine 1.95 of 2, other 0.25");
  });

  it('names the client when its one thread was at its ceiling with cores to spare, or the server at its worker', () => {
    expect(limitOf(probe(2000, 'invalid', { clientThreads: 1, coresBusy: { client: 0.97, server: 0.3, machine: 1.4, of: 2 } })).by).toBe('client CPU');
    expect(limitOf(probe(2000, 'invalid', { coresBusy: { client: 0.5, server: 0.95, machine: 1.6, of: 2 } })).by).toBe('server CPU');
  });

  it('names the client when one of its event loops was busy with cores to spare (one thread\'s work does not spread)', () => {
    const l = limitOf(probe(2000, 'invalid', { clientEventLoop: { main: 0.2, threads: [0.97, 0.6] }, coresBusy: { client: 0.9, server: 0.1, machine: 1.4, of: 2 } }));
    expect(l.by).toBe('client CPU');
    expect(l.detail).toMatch(/^a client thread's event loop busy 97% of the drive, with cores to spare/);
  });

  it('says no side was at its ceiling, with the run\'s own reason, otherwise', () => {
    const l = limitOf(probe(2000, 'invalid'));
    expect(l.by).toBe('other');
    expect(l.detail).toContain('3 of 100 requests failed');
  });
});

describe('modeLimit', () => {
  it('takes the largest fleet that held and the smallest that did not, with its limit', () => {
    const probes = [probe(1000, 'valid'), probe(1500, 'invalid', { coresBusy: { client: 1.5, server: 0.4, machine: 1.98, of: 2 } }), probe(1250, 'valid'), probe(1000, 'valid', { mode: 'persistent' })];
    const l = modeLimit('fresh', probes);
    expect(l.largestValid?.endpoints).toBe(1250);
    expect(l.firstInvalid?.endpoints).toBe(1500);
    expect(l.limit?.by).toBe('machine CPU');
    expect(modeLimit('persistent', probes).limit).toBeNull();
  });
});
