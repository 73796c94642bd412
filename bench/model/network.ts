/**
 * The network between client and server: loopback (no emulation), or a path the link emulator (bench/link/)
 * builds with a round-trip time, rates each way, jitter and loss. The named profiles are the field report's
 * two cases: `lan`, the agent in the same cloud as the server, and `wan`, an office across the internet.
 */

/** What an emulated path does to every packet. Rates are bits per second of IP packets; null = unlimited. */
export interface NetworkPath {
  /** Round-trip time the link adds (half each way). */
  rttMs: number;
  /** Server → client rate. */
  downBitsPerSecond: number | null;
  /** Client → server rate. */
  upBitsPerSecond: number | null;
  /** Each packet's one-way delay varies uniformly by up to ± this much. */
  jitterMs: number;
  /** Share of packets dropped at random, each way, in percent. */
  lossPct: number;
}

/** The named network profiles; `loopback` has no path (no emulator runs). */
export const NETWORK_PROFILES = {
  loopback: null,
  lan: { rttMs: 1, downBitsPerSecond: 1e9, upBitsPerSecond: 1e9, jitterMs: 0, lossPct: 0 },
  wan: { rttMs: 60, downBitsPerSecond: 20e6, upBitsPerSecond: 10e6, jitterMs: 0, lossPct: 0 },
} as const satisfies Record<string, NetworkPath | null>;

export type NamedNetwork = keyof typeof NETWORK_PROFILES;
export const NAMED_NETWORKS = Object.keys(NETWORK_PROFILES) as NamedNetwork[];

/** A network of a scenario: its name (the scenario id's `network` part) and its path. */
export interface Network {
  name: string;
  path: NetworkPath | null;
}
