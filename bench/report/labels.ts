/** Human names for the values of scenario axes, shared by every chart and table. */
import type { ApiCall, CertKind, Mode, NetworkProfile, ServerKind, TlsVersion } from '../model/index.ts';

/** Modes in the order every chart and table lists them. */
export const MODES: readonly Mode[] = ['fresh', 'persistent', 'resumed'];

/** What each mode does, for legends and the page's introduction. */
export const MODE_DESCRIPTIONS: Record<Mode, string> = {
  fresh: 'a new connection and full TLS handshake per request',
  persistent: 'one kept-alive connection per channel, reused',
  resumed: 'a new connection per request, TLS session resumed',
};

/** `TLS 1.3` for `tls1.3`. */
export function tlsLabel(tls: TlsVersion): string {
  return tls === 'tls1.2' ? 'TLS 1.2' : 'TLS 1.3';
}

/** `RSA-2048`, `ECDSA P-256`, `custom chain`. */
export function certLabel(cert: CertKind): string {
  return { rsa2048: 'RSA-2048', 'ecdsa-p256': 'ECDSA P-256', custom: 'custom chain' }[cert];
}

/** `Node server` (the embedded agent API) or `nginx`. */
export function serverLabel(server: ServerKind): string {
  return server === 'node' ? 'Node server' : 'nginx';
}

/** The network profile's name (`loopback`). */
export function networkLabel(network: NetworkProfile): string {
  return network;
}

/** API calls in the order the agent makes them. */
export const API_CALLS: readonly ApiCall[] = ['enroll', 'config', 'log', 'distributed_read', 'distributed_write'];
