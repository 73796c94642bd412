/**
 * The named suites: each a scenario matrix and run settings. Flags override any axis (see resolve.ts).
 *
 * Time compression is chosen so a suite fits its budget on a 2-core machine: at 120x a virtual minute lasts
 * half a second, the agent's 5 s logger period 42 ms — far above timer resolution — and nginx's 75 s idle
 * timeout 625 ms, still longer than the 60 s config period (500 ms), as in the field.
 */
import type { CertKind, Mode, NamedNetwork, ServerKind, TlsVersion } from '../model/index.ts';

export type SuiteName = 'quick' | 'default' | 'full';

/** The axes and settings a suite starts from. */
export interface SuiteDefaults {
  modes: Mode[];
  tls: TlsVersion[];
  certs: CertKind[];
  servers: ServerKind[];
  /** Network profiles (model/network.ts). */
  networks: NamedNetwork[];
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
    networks: ['loopback'],
    endpoints: 1,
    virtualMinutes: 3,
    timeCompression: 120,
  },
  /** What `npm run bench` runs, under 90 s: all three modes x TLS 1.2/1.3 x RSA/ECDSA. */
  default: {
    modes: ['fresh', 'persistent', 'resumed'],
    tls: ['tls1.2', 'tls1.3'],
    certs: ['rsa2048', 'ecdsa-p256'],
    servers: ['node'],
    networks: ['loopback'],
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
    networks: ['loopback'],
    endpoints: 4,
    virtualMinutes: 10,
    timeCompression: 60,
  },
};
