/**
 * A scenario of the matrix (`results@1` `scenarios[].spec`) and the role of each of its fields. The role
 * table decides, in one place, which scenarios the runner compares with each other, which ones the reports
 * group into a configuration, and which ones the regression gate pairs across runs.
 */
import type { CertKind, Mode, NetworkProfile, ProxyKind, ServerKind, TlsVersion } from './axes.ts';
import type { NetworkPath } from './network.ts';

/** One scenario of the matrix, fully resolved (`results@1` `scenarios[].spec`). */
export interface ScenarioSpec {
  /** `<mode>/<tls>/<cert>/<network>/<server>`, e.g. `persistent/tls1.3/rsa2048/loopback/node`. */
  id: string;
  mode: Mode;
  tls: TlsVersion;
  cert: CertKind;
  network: NetworkProfile;
  /** The emulated path of `network` (its RTT, rates, jitter, loss); null on loopback. */
  link: NetworkPath | null;
  server: ServerKind;
  /** Workload name (its file's `name`). */
  workload: string;
  endpoints: number;
  virtualMinutes: number;
  /** Virtual seconds that pass per real second. */
  timeCompression: number;
  /** The agent's `--tls_session_timeout`, virtual seconds (persistent mode); 0 = never. */
  sessionTimeoutVirtualSeconds: number;
  /** The server's keep-alive idle timeout, virtual seconds (nginx's default is 75). */
  serverIdleTimeoutVirtualSeconds: number;
  /** The server issues TLS session tickets. */
  sessionTickets: boolean;
  seed: number;
  /**
   * Agents whose traffic the capture holds, when fewer than `endpoints` (a fleet's sample: agents
   * `0 .. captureAgents-1`, by their source addresses); absent when every agent is captured. Byte and
   * handshake figures per endpoint-minute come from the sampled agents.
   */
  captureAgents?: number;
  /** Every new connection goes through this HTTP CONNECT proxy first; absent for a direct connection. */
  proxy?: ProxyKind;
}


/**
 * The range of each numeric spec field: what `run` accepts from its flags and what the results reader accepts
 * from a file, so a value no run can produce (a time compression of 0 draws "Infinity GB/s") is refused on read.
 */
export const SPEC_LIMITS = {
  // A round bound that reads plainly in `--endpoints`' error (the loopback addresses would allow 15.7 M agents,
  // far past what one machine drives); larger fleets are `--fleet-size`'s derived figures.
  endpoints: { min: 1, max: 10_000, integer: true },
  virtualMinutes: { min: 0.1, max: 24 * 60, integer: false },
  timeCompression: { min: 0.01, max: 10_000, integer: false },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
} as const satisfies Partial<Record<keyof ScenarioSpec, { min: number; max: number; integer: boolean }>>;

/**
 * What each spec field means when scenarios are compared (the compiler makes every new field take a side):
 * - `mode`: the axis a comparison is across (a mode against `fresh`).
 * - `configuration`: what the scenario measures (TLS version, chain, network, server); with the mode, the
 *   identity the regression gate pairs runs on.
 * - `condition`: what the scenario sends and when connections end. Scenarios compared inside a run share
 *   them; across runs a pair that differs in one compares different byte counts, so it is bad input.
 * - `derived`: `id` is made from the mode and the configuration.
 * - `pacing`: `timeCompression` only paces the run (every timeout scales with it, byte figures are per
 *   virtual minute, timing is compared as in-run ratios).
 */
export type SpecRole = 'mode' | 'configuration' | 'condition' | 'derived' | 'pacing';

export const SPEC_FIELDS: Record<keyof ScenarioSpec, SpecRole> = {
  id: 'derived',
  mode: 'mode',
  tls: 'configuration',
  cert: 'configuration',
  network: 'configuration',
  link: 'condition',
  server: 'configuration',
  workload: 'condition',
  endpoints: 'condition',
  virtualMinutes: 'condition',
  timeCompression: 'pacing',
  sessionTimeoutVirtualSeconds: 'condition',
  serverIdleTimeoutVirtualSeconds: 'condition',
  sessionTickets: 'condition',
  seed: 'condition',
  captureAgents: 'condition',
  proxy: 'configuration',
};

/** The spec fields of one role, in declaration order. */
export function specFieldsOf(role: SpecRole): (keyof ScenarioSpec)[] {
  return (Object.keys(SPEC_FIELDS) as (keyof ScenarioSpec)[]).filter((k) => SPEC_FIELDS[k] === role);
}

const CONFIGURATION_AND_CONDITIONS = [...specFieldsOf('configuration'), ...specFieldsOf('condition')];
const IDENTITY = [...specFieldsOf('mode'), ...specFieldsOf('configuration')];

/**
 * The key of a scenario's configuration within a run: scenarios with the same key differ only in mode, so
 * the runner compares them with the `fresh` one and the reports draw them as one group.
 */
export function configurationKey(spec: ScenarioSpec): string {
  return JSON.stringify(CONFIGURATION_AND_CONDITIONS.map((k) => spec[k]));
}

/** The key the regression gate pairs a scenario on across runs: its mode and configuration. */
export function pairingKey(spec: ScenarioSpec): string {
  return IDENTITY.map((k) => String(spec[k])).join('/');
}

/** The id of a scenario: `<mode>/<tls>/<cert>/<network>/<server>`, and `/proxy-<kind>` through a proxy. */
export function scenarioId(spec: Pick<ScenarioSpec, 'mode' | 'tls' | 'cert' | 'network' | 'server' | 'proxy'>): string {
  const id = `${spec.mode}/${spec.tls}/${spec.cert}/${spec.network}/${spec.server}`;
  return spec.proxy === undefined ? id : `${id}/proxy-${spec.proxy}`;
}
