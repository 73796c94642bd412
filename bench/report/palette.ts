/** Colours: one per mode in every chart, and one per byte category in the breakdown. */
import type { Mode } from '../model/index.ts';

/**
 * Mode colours from the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies):
 * vermillion for the costly baseline, blue for reuse, green for resumption.
 */
export const MODE_COLOURS: Record<Mode, string> = {
  fresh: '#D55E00',
  persistent: '#0072B2',
  resumed: '#009E73',
};

/** A mode's colour at reduced opacity: marks invalid scenarios and the lesser direction (upstream). */
export function translucent(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 0xff}, ${(n >> 8) & 0xff}, ${n & 0xff}, ${alpha})`;
}

/** Opacity of an invalid scenario's bars and lines. */
export const INVALID_ALPHA = 0.35;

/** Colours of the breakdown's byte categories, apart from the mode colours so neither is read as the other. */
export const CATEGORY_COLOURS = {
  headers: '#8C8C8C',
  control: '#C8C8C8',
  handshake: '#8E44AD',
  recordOverhead: '#E8B931',
  payload: '#2C3E50',
  other: '#E377C2',
} as const;

/** Colours of a request's phases (connect, handshake, waiting, transfer), apart from the mode colours. */
export const PHASE_COLOURS = {
  tcpConnect: '#56B4E9',
  tlsHandshake: '#8E44AD',
  wait: '#E69F00',
  transfer: '#2C3E50',
} as const;

/** Text and grid colours. */
export const INK = '#222222';
