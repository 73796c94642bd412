/**
 * Seeded pseudo-random numbers for the workload. Every draw comes from a named stream so that one value
 * never depends on how many others were drawn before it: a request's body depends only on
 * (seed, endpoint, request identity), never on the number of endpoints or on generation order.
 */
import { createHash } from 'node:crypto';

/** A source of uniform numbers in [0, 1) plus the helpers the payload generators need. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** `length` characters drawn from `alphabet`. */
  chars(length: number, alphabet: string): string;
}

const SFC32_WARMUP_ROUNDS = 12;

/**
 * sfc32 ("small fast counting", 32-bit), Chris Doty-Humphrey's generator from the PractRand suite (public
 * domain); the 4 × 32-bit state passes PractRand to several terabytes. Twelve discarded outputs spread a
 * seed's bits through the state, as its author recommends.
 */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  const step = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < SFC32_WARMUP_ROUNDS; i += 1) step();
  return step;
}

/**
 * The stream named `parts` under `seed`: the first 16 bytes of SHA-256(`seed/part/part...`) seed sfc32.
 * Hashing the name (not adding offsets to the seed) keeps neighbouring streams uncorrelated.
 */
export function randomStream(seed: number, ...parts: (string | number)[]): Random {
  const digest = createHash('sha256').update([seed, ...parts].join('/')).digest();
  const next = sfc32(digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12));
  return {
    next,
    int(min, max) {
      return min + Math.floor(next() * (max - min + 1));
    },
    pick(items) {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new RangeError('pick() from an empty list');
      return item;
    },
    chars(length, alphabet) {
      let out = '';
      for (let i = 0; i < length; i += 1) out += alphabet.charAt(Math.floor(next() * alphabet.length));
      return out;
    },
  };
}

/** Maps a string to [0, 1) through SHA-256: a phase both the schedule and the server derive from a key. */
export function unitFromString(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 4294967296;
}

/**
 * mulberry32: a one-word seeded generator, uniform in [0, 1). Small and fast, with no stream separation; for
 * test inputs and generated captures that must come out the same from the same seed (the workload uses
 * `randomStream`).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
