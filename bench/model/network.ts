/**
 * The network between client and server: loopback (no emulation), or a path the link emulator (bench/link/)
 * builds. The named profiles and the `--network` grammar live with the emulator (bench/link/profile.ts);
 * what a scenario records of its path is this.
 */

/** What an emulated path does to every frame, each way. Rates and the queue count Ethernet frame bytes. */
export interface NetworkPath {
  /** Round-trip propagation delay the link adds, split evenly between the two directions. */
  rttMs: number;
  /** Server → client rate. */
  downBitsPerSecond: number;
  /** Client → server rate. */
  upBitsPerSecond: number;
  /** Each frame's one-way delay varies uniformly by up to ± this much (never reordering frames). */
  jitterMs: number;
  /** Share of frames dropped at random as they enter the link, each direction, in percent. */
  lossPct: number;
  /** Byte limit of each direction's queue (tail drop). */
  queueBytes: number;
}
