/**
 * `--network LIST`: the named profiles carry the numbers, custom profiles accept the usual units,
 * and every bad part is named in the error. Expected numbers are the and arithmetic done by hand.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../bench/errors.ts';
import { LAN, LOOPBACK, WAN, defaultQueueBytes, deriveName, parseNetworkList } from '../../bench/link/profile.ts';

function errorOf(list: string): string {
  try {
    parseNetworkList(list);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`"${list}" was accepted`);
}

describe('named profiles', () => {
  it('lan is the same-cloud case: 1 ms RTT, 1 Gbit/s both ways, a 125 000-byte queue (one BDP)', () => {
    expect(LAN).toEqual({
      kind: 'emulated',
      name: 'lan',
      rttMs: 1,
      jitterMs: 0,
      lossPct: 0,
      downBitsPerSecond: 1_000_000_000,
      upBitsPerSecond: 1_000_000_000,
      queueBytes: 125_000,
    });
  });

  it('wan is the office-to-cloud case: 60 ms RTT, 20 Mbit/s down, 10 Mbit/s up, a 150 000-byte queue', () => {
    expect(WAN).toEqual({
      kind: 'emulated',
      name: 'wan',
      rttMs: 60,
      jitterMs: 0,
      lossPct: 0,
      downBitsPerSecond: 20_000_000,
      upBitsPerSecond: 10_000_000,
      queueBytes: 150_000,
    });
  });

  it('loopback, lan and wan parse by name, in order, case-insensitively, repeats removed', () => {
    expect(parseNetworkList('loopback,LAN, wan,lan')).toEqual([LOOPBACK, LAN, WAN]);
  });
});

describe('default queue', () => {
  it('is one bandwidth-delay product at the faster rate', () => {
    // 100 Mbit/s × 20 ms = 250 000 bytes.
    expect(defaultQueueBytes(20, 100e6, 5e6)).toBe(250_000);
  });

  it('is at least 64 KiB', () => {
    // 10 Mbit/s × 1 ms = 1250 bytes, below the floor.
    expect(defaultQueueBytes(1, 10e6, 10e6)).toBe(65_536);
  });
});

describe('custom profiles', () => {
  it('takes the issue example with every key', () => {
    expect(parseNetworkList('rtt=80ms,down=10mbit,up=5mbit,jitter=2ms,loss=0.1%')).toEqual([
      {
        kind: 'emulated',
        name: 'rtt80ms-down10mbit-up5mbit-jitter2ms-loss0.1pct',
        rttMs: 80,
        jitterMs: 2,
        lossPct: 0.1,
        downBitsPerSecond: 10_000_000,
        upBitsPerSecond: 5_000_000,
        // 10 Mbit/s × 80 ms = 100 000 bytes.
        queueBytes: 100_000,
      },
    ]);
  });

  it('accepts us, ms and s; bit, kbit, mbit and gbit; b, kb, kib, mb, mib, gb and gib; up defaults to down', () => {
    const [p] = parseNetworkList('rtt=0.25s,down=1.5Gbit,jitter=500us,queue=96kib');
    expect(p).toMatchObject({ rttMs: 250, jitterMs: 0.5, downBitsPerSecond: 1.5e9, upBitsPerSecond: 1.5e9, queueBytes: 98_304 });
    const [q] = parseNetworkList('rtt=10ms,down=64000bit,up=128kbit,queue=2mb');
    expect(q).toMatchObject({ downBitsPerSecond: 64_000, upBitsPerSecond: 128_000, queueBytes: 2_000_000 });
    expect(parseNetworkList('rtt=0ms,down=100gbit,queue=1gib')[0]).toMatchObject({ rttMs: 0, downBitsPerSecond: 100e9, queueBytes: 1_073_741_824 });
    expect(parseNetworkList('rtt=1ms,down=1mbit,queue=1gb')[0]).toMatchObject({ queueBytes: 1_000_000_000 });
  });

  it('derives the same name from two spellings of one path, and names it without "/"', () => {
    const [a] = parseNetworkList('rtt=0.08s,down=10000kbit,up=5mbit');
    const [b] = parseNetworkList('rtt=80ms,down=10mbit,up=5000kbit');
    expect(a!.name).toBe('rtt80ms-down10mbit-up5mbit');
    expect(b!.name).toBe(a!.name);
    expect(deriveName({ rttMs: 0.5, jitterMs: 0, lossPct: 0, downBitsPerSecond: 1_500_000, upBitsPerSecond: 64_500, queueBytes: 65_536 })).toBe(
      'rtt0.5ms-down1500kbit-up64500bit',
    );
  });

  it('names a non-default queue in the derived name', () => {
    expect(parseNetworkList('rtt=80ms,down=10mbit,queue=20000b')[0]!.name).toBe('rtt80ms-down10mbit-up10mbit-queue20000b');
  });

  it('takes a name=', () => {
    expect(parseNetworkList('name=office,rtt=80ms,down=10mbit')[0]!.name).toBe('office');
  });

  it('starts a new custom profile when a key repeats, and after a named one', () => {
    const names = parseNetworkList('wan,rtt=80ms,down=10mbit,rtt=200ms,down=2mbit,loopback,rtt=5ms,down=1gbit').map((p) => p.name);
    expect(names).toEqual(['wan', 'rtt80ms-down10mbit-up10mbit', 'rtt200ms-down2mbit-up2mbit', 'loopback', 'rtt5ms-down1gbit-up1gbit']);
  });
});

describe('bad input names the flag, the part and the item', () => {
  it.each([
    ['rtt=fast,down=1mbit', '--network: "rtt=fast" in "rtt=fast,down=1mbit": expected a duration like 50ms (up to 10s)'],
    ['rtt=80,down=1mbit', '--network: "rtt=80" in "rtt=80,down=1mbit": expected a duration like 50ms (up to 10s)'],
    ['rtt=11s,down=1mbit', '--network: "rtt=11s" in "rtt=11s,down=1mbit": expected a duration like 50ms (up to 10s)'],
    ['rtt=80ms,down=10mbps', '--network: "down=10mbps" in "rtt=80ms,down=10mbps": expected a rate like 10mbit (from 10kbit to 100gbit)'],
    ['rtt=80ms,down=1kbit', '--network: "down=1kbit" in "rtt=80ms,down=1kbit": expected a rate like 10mbit (from 10kbit to 100gbit)'],
    ['rtt=80ms,down=1mbit,up=0mbit', '--network: "up=0mbit" in "rtt=80ms,down=1mbit,up=0mbit": expected a rate like 10mbit (from 10kbit to 100gbit)'],
    ['rtt=80ms,down=1mbit,loss=1', '--network: "loss=1" in "rtt=80ms,down=1mbit,loss=1": expected a percentage like 0.1% (from 0% to below 100%)'],
    ['rtt=80ms,down=1mbit,loss=100%', '--network: "loss=100%" in "rtt=80ms,down=1mbit,loss=100%": expected a percentage like 0.1% (from 0% to below 100%)'],
    ['rtt=10ms,down=1mbit,jitter=6ms', '--network: "jitter=6ms" in "rtt=10ms,down=1mbit,jitter=6ms": expected a duration like 2ms, at most half the rtt'],
    ['rtt=10ms,down=1mbit,queue=100b', '--network: "queue=100b" in "rtt=10ms,down=1mbit,queue=100b": expected a size like 64kb or 96kib (from 1514b to 1gib)'],
    [
      'name=a/b,rtt=10ms,down=1mbit',
      '--network: "name=a/b" in "name=a/b,rtt=10ms,down=1mbit": expected a name of lowercase letters, digits, ".", "_" or "-" (at most 48), other than loopback, lan or wan',
    ],
    [
      'name=wan,rtt=10ms,down=1mbit',
      '--network: "name=wan" in "name=wan,rtt=10ms,down=1mbit": expected a name of lowercase letters, digits, ".", "_" or "-" (at most 48), other than loopback, lan or wan',
    ],
    ['rtt=10ms,down=1mbit,mtu=9000', '--network: "mtu=9000" in "rtt=10ms,down=1mbit,mtu=9000": unknown key "mtu"; expected one of name, rtt, down, up, jitter, loss, queue'],
    ['down=10mbit', '--network: "down=10mbit": a custom profile needs at least rtt= and down=, e.g. rtt=80ms,down=10mbit'],
    ['satellite', '--network: "satellite" in "satellite": expected loopback, lan, wan or key=value items (rtt=80ms,down=10mbit,...)'],
    ['lan,,wan', '--network: empty item in "lan,,wan"'],
    ['', '--network: expected loopback, lan, wan or rtt=...,down=..., got ""'],
    [
      'name=x,rtt=10ms,down=1mbit,name=x,rtt=20ms,down=1mbit',
      '--network: two different profiles are named "x" in "name=x,rtt=10ms,down=1mbit,name=x,rtt=20ms,down=1mbit"',
    ],
  ])('%s', (list, message) => {
    expect(errorOf(list)).toBe(message);
  });

  it('names another flag when asked', () => {
    expect(() => parseNetworkList('fast', '--paths')).toThrow('--paths: "fast" in "fast": expected');
  });
});
