/** Human names for the values of scenario axes, shared by every chart and table. */
import type { CertKind, NetworkProfile, ServerKind, TlsVersion } from '../model/index.ts';

const TLS_LABELS: Record<TlsVersion, string> = { 'tls1.2': 'TLS 1.2', 'tls1.3': 'TLS 1.3' };
const CERT_LABELS: Record<CertKind, string> = { rsa2048: 'RSA-2048', 'ecdsa-p256': 'ECDSA P-256', custom: 'custom chain' };
const SERVER_LABELS: Record<ServerKind, string> = { node: 'Node server', nginx: 'nginx' };

/** What a run measured: `suite default`, or `suite default with --modes persistent` for a custom matrix. */
export function suiteLabel(options: { suite: string; overrides?: string[] }): string {
  const overrides = options.overrides ?? [];
  return overrides.length === 0 ? `suite ${options.suite}` : `suite ${options.suite} with ${overrides.join(' ')}`;
}

/** `TLS 1.3` for `tls1.3`. */
export function tlsLabel(tls: TlsVersion): string {
  return TLS_LABELS[tls];
}

/** `RSA-2048`, `ECDSA P-256`, `custom chain`. */
export function certLabel(cert: CertKind): string {
  return CERT_LABELS[cert];
}

/** `Node server` (the embedded agent API) or `nginx`. */
export function serverLabel(server: ServerKind): string {
  return SERVER_LABELS[server];
}

/** The network profile's name (`loopback`). */
export function networkLabel(network: NetworkProfile): string {
  return network;
}
