/**
 * Network profiles: the path between client and server, as `--network LIST` names it. `loopback` is today's
 * path (no emulator); every other profile is emulated by the link process (`link-main.ts`).
 *
 * Grammar of LIST (comma-separated): `loopback`, `lan` and `wan` stand alone; a run of consecutive
 * `key=value` items is one custom profile, and a key already seen in the current run starts the next one:
 * `wan,rtt=80ms,down=10mbit,up=5mbit,jitter=2ms,loss=0.1%,rtt=200ms,down=2mbit` is three profiles.
 */
import { UsageError } from '../errors.ts';
import type { NetworkPath } from '../model/index.ts';

/** Today's path: client and server on the loopback interface, no emulator. */
export interface LoopbackProfile {
  kind: 'loopback';
  name: 'loopback';
}

/** An emulated path (model/network.ts): what the scenario's spec records, and the profile's name. */
export interface LinkProfile extends NetworkPath {
  kind: 'emulated';
  /** Usable as the `network` part of a scenario id: `[a-z0-9][a-z0-9._-]*`, no `/`. */
  name: string;
}

/** The path of a profile, as a scenario's spec records it (null on loopback). */
export function pathOf(profile: NetworkProfile): NetworkPath | null {
  if (profile.kind === 'loopback') return null;
  const { rttMs, downBitsPerSecond, upBitsPerSecond, jitterMs, lossPct, queueBytes } = profile;
  return { rttMs, downBitsPerSecond, upBitsPerSecond, jitterMs, lossPct, queueBytes };
}

/** The emulated profile a scenario's network name and path stand for. */
export function linkProfile(name: string, path: NetworkPath): LinkProfile {
  return { kind: 'emulated', name, ...path };
}

/** Any `--network` item. */
export type NetworkProfile = LoopbackProfile | LinkProfile;

/** The loopback profile. */
export const LOOPBACK: LoopbackProfile = { kind: 'loopback', name: 'loopback' };

/**
 * The queue floor: a profile with a tiny RTT has a tiny bandwidth-delay product, yet a sender still bursts
 * an initial window (10 segments, RFC 6928) and more; 64 KiB holds 43 full 1514-byte frames.
 */
const MIN_QUEUE_BYTES = 64 * 1024;

/**
 * The default queue: one bandwidth-delay product at the faster direction's rate, at least 64 KiB, tail drop.
 * One BDP is the classic buffer size that lets a single TCP flow keep the link busy (Villamizar and Song,
 * 1994); Mahimahi leaves queues unbounded by default and netem counts 1000 packets, neither of which says
 * anything about the path, so the byte limit follows the profile instead.
 */
export function defaultQueueBytes(rttMs: number, downBitsPerSecond: number, upBitsPerSecond: number): number {
  const bdpBytes = Math.ceil((Math.max(downBitsPerSecond, upBitsPerSecond) / 8) * (rttMs / 1000));
  return Math.max(bdpBytes, MIN_QUEUE_BYTES);
}

function emulated(name: string, rttMs: number, downBitsPerSecond: number, upBitsPerSecond: number): LinkProfile {
  return {
    kind: 'emulated',
    name,
    rttMs,
    jitterMs: 0,
    lossPct: 0,
    downBitsPerSecond,
    upBitsPerSecond,
    queueBytes: defaultQueueBytes(rttMs, downBitsPerSecond, upBitsPerSecond),
  };
}

/** The same-cloud case of the field report: 1 ms RTT, 1 Gbit/s both ways. */
export const LAN: LinkProfile = emulated('lan', 1, 1e9, 1e9);

/** The office-to-cloud case of the field report: 60 ms RTT, 20 Mbit/s down, 10 Mbit/s up. */
export const WAN: LinkProfile = emulated('wan', 60, 20e6, 10e6);

const NAMED: ReadonlyMap<string, NetworkProfile> = new Map<string, NetworkProfile>([
  ['loopback', LOOPBACK],
  ['lan', LAN],
  ['wan', WAN],
]);

/** Bounds that keep the emulator meaningful: a frame's serialisation time and a delay both stay below 10 s. */
const MAX_RTT_MS = 10_000;
const MIN_BITS_PER_SECOND = 10_000;
const MAX_BITS_PER_SECOND = 100e9;
const MIN_QUEUE_LIMIT_BYTES = 1514;
const MAX_QUEUE_LIMIT_BYTES = 1 << 30;

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,47}$/;

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { us: 0.001, µs: 0.001, ms: 1, s: 1000 };
const RATE_UNITS: Readonly<Record<string, number>> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };
const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1e3, kib: 2 ** 10, mb: 1e6, mib: 2 ** 20, gb: 1e9, gib: 2 ** 30 };

const NUMBER = '(\\d+(?:\\.\\d+)?|\\.\\d+)';

function withUnit(value: string, units: Readonly<Record<string, number>>): number | null {
  const match = new RegExp(`^${NUMBER}\\s*([a-zµ]+)$`, 'i').exec(value.trim());
  if (match === null) return null;
  const factor = units[match[2]!.toLowerCase()];
  return factor === undefined ? null : Number(match[1]) * factor;
}

/** The keys of a custom profile and what each expects, in the order they appear in a derived name. */
const KEYS = ['name', 'rtt', 'down', 'up', 'jitter', 'loss', 'queue'] as const;
type Key = (typeof KEYS)[number];

const EXPECTED: Readonly<Record<Key, string>> = {
  name: 'a name of lowercase letters, digits, ".", "_" or "-" (at most 48), other than loopback, lan or wan',
  rtt: `a duration like 50ms (up to ${MAX_RTT_MS / 1000}s)`,
  down: 'a rate like 10mbit (from 10kbit to 100gbit)',
  up: 'a rate like 10mbit (from 10kbit to 100gbit)',
  jitter: 'a duration like 2ms, at most half the rtt',
  loss: 'a percentage like 0.1% (from 0% to below 100%)',
  queue: 'a size like 64kb or 96kib (from 1514b to 1gib)',
};

/**
 * Parses `--network LIST` into profiles, in the order given, repeats of the same profile removed.
 *
 * @param flag the flag to name in errors.
 * @throws UsageError naming the flag, the bad part and the item it is in, e.g.
 *   `--network: "rtt=fast" in "rtt=fast,down=1mbit": expected a duration like 50ms (up to 10s)`.
 */
export function parseNetworkList(value: string, flag = '--network'): NetworkProfile[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.every((s) => s === '')) throw new UsageError(`${flag}: expected loopback, lan, wan or rtt=...,down=..., got "${value}"`);
  const profiles: NetworkProfile[] = [];
  let run: string[] = [];
  const endRun = () => {
    if (run.length > 0) profiles.push(parseCustom(run, flag));
    run = [];
  };
  for (const item of items) {
    if (item === '') throw new UsageError(`${flag}: empty item in "${value}"`);
    const eq = item.indexOf('=');
    if (eq < 0) {
      endRun();
      const named = NAMED.get(item.toLowerCase());
      if (named === undefined) {
        throw new UsageError(`${flag}: "${item}" in "${value}": expected loopback, lan, wan or key=value items (rtt=80ms,down=10mbit,...)`);
      }
      profiles.push(named);
      continue;
    }
    const key = item.slice(0, eq).trim().toLowerCase();
    if (run.some((r) => r.slice(0, r.indexOf('=')).trim().toLowerCase() === key)) endRun();
    run.push(item);
  }
  endRun();
  const byName = new Map<string, NetworkProfile>();
  for (const p of profiles) {
    const earlier = byName.get(p.name);
    if (earlier === undefined) byName.set(p.name, p);
    else if (JSON.stringify(earlier) !== JSON.stringify(p)) throw new UsageError(`${flag}: two different profiles are named "${p.name}" in "${value}"`);
  }
  return [...byName.values()];
}

function parseCustom(items: string[], flag: string): LinkProfile {
  const whole = items.join(',');
  const bad = (item: string, key: Key) => new UsageError(`${flag}: "${item}" in "${whole}": expected ${EXPECTED[key]}`);
  const given: Partial<Record<Key, number | string>> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = item.slice(0, eq).trim().toLowerCase();
    const text = item.slice(eq + 1).trim();
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`${flag}: "${item}" in "${whole}": unknown key "${key}"; expected one of ${KEYS.join(', ')}`);
    }
    const parsed = parseValue(key as Key, text);
    if (parsed === null) throw bad(item, key as Key);
    given[key as Key] = parsed;
  }
  const itemOf = (k: Key) => items.find((i) => i.trim().toLowerCase().startsWith(`${k}=`)) ?? '';
  const rttMs = given.rtt as number | undefined;
  const downBitsPerSecond = given.down as number | undefined;
  if (rttMs === undefined || downBitsPerSecond === undefined) {
    throw new UsageError(`${flag}: "${whole}": a custom profile needs at least rtt= and down=, e.g. rtt=80ms,down=10mbit`);
  }
  const upBitsPerSecond = (given.up as number | undefined) ?? downBitsPerSecond;
  const jitterMs = (given.jitter as number | undefined) ?? 0;
  if (jitterMs > rttMs / 2) throw bad(itemOf('jitter'), 'jitter');
  const lossPct = (given.loss as number | undefined) ?? 0;
  const queueBytes = (given.queue as number | undefined) ?? defaultQueueBytes(rttMs, downBitsPerSecond, upBitsPerSecond);
  const profile: LinkProfile = { kind: 'emulated', name: '', rttMs, jitterMs, lossPct, downBitsPerSecond, upBitsPerSecond, queueBytes };
  profile.name = (given.name as string | undefined) ?? deriveName(profile);
  return profile;
}

function parseValue(key: Key, text: string): number | string | null {
  switch (key) {
    case 'name': {
      const name = text.toLowerCase();
      return NAME_PATTERN.test(name) && !NAMED.has(name) ? name : null;
    }
    case 'rtt':
    case 'jitter': {
      const ms = withUnit(text, DURATION_UNITS_MS);
      return ms !== null && ms <= MAX_RTT_MS ? ms : null;
    }
    case 'down':
    case 'up': {
      const bits = withUnit(text, RATE_UNITS);
      return bits !== null && bits >= MIN_BITS_PER_SECOND && bits <= MAX_BITS_PER_SECOND ? bits : null;
    }
    case 'loss': {
      const match = new RegExp(`^${NUMBER}\\s*%$`).exec(text);
      const pct = match === null ? null : Number(match[1]);
      return pct !== null && pct < 100 ? pct : null;
    }
    case 'queue': {
      const bytes = withUnit(text, SIZE_UNITS);
      return bytes !== null && Number.isInteger(bytes) && bytes >= MIN_QUEUE_LIMIT_BYTES && bytes <= MAX_QUEUE_LIMIT_BYTES ? bytes : null;
    }
  }
}

/** The shortest decimal spelling of a number (no exponent for the ranges allowed above). */
function decimal(n: number): string {
  return String(Number(n.toPrecision(12)));
}

/** A rate in the largest unit that spells it as a whole number, else in bit. */
function rateName(bitsPerSecond: number): string {
  for (const [unit, factor] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) {
    if (bitsPerSecond >= factor && Number.isInteger(Number((bitsPerSecond / factor).toPrecision(12)))) return `${decimal(bitsPerSecond / factor)}${unit}`;
  }
  return `${decimal(bitsPerSecond)}bit`;
}

/**
 * A stable name for a custom profile, from its parameters: `rtt80ms-down10mbit-up5mbit-jitter2ms-loss0.1pct`,
 * with jitter, loss and the queue only when they differ from their defaults. Two spellings of the same
 * path (`rtt=0.08s` and `rtt=80ms`) get the same name.
 */
export function deriveName(p: Omit<LinkProfile, 'name' | 'kind'>): string {
  const parts = [`rtt${decimal(p.rttMs)}ms`, `down${rateName(p.downBitsPerSecond)}`, `up${rateName(p.upBitsPerSecond)}`];
  if (p.jitterMs > 0) parts.push(`jitter${decimal(p.jitterMs)}ms`);
  if (p.lossPct > 0) parts.push(`loss${decimal(p.lossPct)}pct`);
  if (p.queueBytes !== defaultQueueBytes(p.rttMs, p.downBitsPerSecond, p.upBitsPerSecond)) parts.push(`queue${p.queueBytes}b`);
  return parts.join('-');
}
