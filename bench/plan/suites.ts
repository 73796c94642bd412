/**
 * The named suites: each a scenario matrix and run settings. Flags override any axis (see resolve.ts).
 *
 * Time compression is chosen so a suite fits its budget on a 2-core machine: at 120x a virtual minute lasts
 * half a second, the agent's 5 s logger period 42 ms — far above timer resolution — and nginx's 75 s idle
 * timeout 625 ms, still longer than the 60 s config period (500 ms), as in the field.
 */
import type { CertKind, Mode, ServerKind, TlsVersion } from '../model/index.ts';

export type SuiteName = 'quick' | 'default' | 'full';

/** The axes and settings a suite starts from. */
export interface SuiteDefaults {
  modes: Mode[];
  tls: TlsVersion[];
  certs: CertKind[];
  servers: ServerKind[];
  /** Network profiles, as `--network` takes them (bench/link/profile.ts). */
  networks: string;
  /**
   * More scenarios on emulated paths, with a smaller matrix: there each request waits for real round trips,
   * so a scenario cannot be compressed as much and lasts longer. Used when `--network` is not given.
   */
  paths?: { networks: string; tls: TlsVersion[]; certs: CertKind[]; virtualMinutes: number };
  endpoints: number;
  virtualMinutes: number;
  timeCompression: number;
}

export const SUITES: Record<SuiteName, SuiteDefaults> = {
  /** Under 20 s: the CI smoke run (fresh vs persistent, TLS 1.3, RSA chain, one agent). */
  quick: {
    modes: ['fresh', 'persistent'],
    tls: ['tls1.3'],
    certs: ['rsa2048'],
    servers: ['node'],
    networks: 'loopback',
    endpoints: 1,
    virtualMinutes: 3,
    timeCompression: 120,
  },
  /**
   * What `npm run bench` runs (three times: `--runs 3`), about 1.5 minutes a run: all three modes x TLS 1.2/1.3 x RSA/ECDSA on loopback, and
   * the three modes on the field report's two paths (lan, wan) for TLS 1.3 with the RSA chain.
   */
  default: {
    modes: ['fresh', 'persistent', 'resumed'],
    tls: ['tls1.2', 'tls1.3'],
    certs: ['rsa2048', 'ecdsa-p256'],
    servers: ['node'],
    networks: 'loopback',
    paths: { networks: 'lan,wan', tls: ['tls1.3'], certs: ['rsa2048'], virtualMinutes: 1 },
    endpoints: 1,
    virtualMinutes: 5,
    timeCompression: 120,
  },
  /** Everything: both servers (nginx as in the field report), several agents, longer runs. */
  full: {
    modes: ['fresh', 'persistent', 'resumed'],
    tls: ['tls1.2', 'tls1.3'],
    certs: ['rsa2048', 'ecdsa-p256'],
    servers: ['node', 'nginx'],
    networks: 'loopback',
    paths: { networks: 'lan,wan', tls: ['tls1.2', 'tls1.3'], certs: ['rsa2048', 'ecdsa-p256'], virtualMinutes: 2 },
    endpoints: 4,
    virtualMinutes: 10,
    timeCompression: 60,
  },
};
