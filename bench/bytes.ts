/**
 * Whole-number reads from byte buffers, for the per-packet and per-record paths. The caller has checked that
 * the bytes are there; these inline where Buffer's bounds-checked readers stay calls (a profile of the perf
 * capture showed them once per header field per packet).
 */

export function u16be(data: Uint8Array, at: number): number {
  return (data[at]! << 8) | data[at + 1]!;
}

export function u32be(data: Uint8Array, at: number): number {
  return ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
}

export function u32le(data: Uint8Array, at: number): number {
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}
