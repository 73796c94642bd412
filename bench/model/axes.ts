/**
 * The enumerations of the domain, each declared once as an `as const` array with its type derived from it:
 * the scenario axes (modes, TLS versions, certificate chains, servers), the agent's channels and API calls.
 * Readers (plan, results, check) validate against these arrays and renderers list values in their order, so
 * adding a value is a change here; `Record<T, …>` tables elsewhere then fail to compile until they cover it.
 */

/** Client transports, in the order every chart and table lists them (DESIGN.md, "Modes"). */
export const MODES = ['fresh', 'persistent', 'resumed'] as const;
export type Mode = (typeof MODES)[number];

/** What each mode does, for legends, help texts and the page's introduction. */
export const MODE_DESCRIPTIONS: Record<Mode, string> = {
  fresh: 'a new connection and full TLS handshake per request',
  persistent: 'one kept-alive connection per channel, reused',
  resumed: 'a new connection per request, TLS session resumed',
};

/** TLS protocol versions a scenario pins both sides to. */
export const TLS_VERSIONS = ['tls1.2', 'tls1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** Certificate chain fixtures (`fixtures/certs/<name>/`); `custom` is the user's own `--cert/--key/--ca`. */
export const FIXTURE_CERTS = ['rsa2048', 'ecdsa-p256'] as const;
export const CERT_KINDS = [...FIXTURE_CERTS, 'custom'] as const;
export type CertKind = (typeof CERT_KINDS)[number];

/** The TLS server a scenario runs against: the embedded agent API server, or nginx. */
export const SERVERS = ['node', 'nginx'] as const;
export type ServerKind = (typeof SERVERS)[number];

/**
 * The network's name in a scenario: `loopback`, a named profile (`lan`, `wan`) or a custom path's name
 * (model/network.ts).
 */
export type NetworkProfile = string;

/**
 * The HTTP CONNECT proxy a scenario's agents go through (`--proxy`, the agent's `--proxy_hostname`): the
 * embedded one (bench/serve/proxy.ts), or tinyproxy, a small, maintained proxy from Debian (`tinyproxy-bin`).
 */
export const PROXIES = ['embedded', 'tinyproxy'] as const;
export type ProxyKind = (typeof PROXIES)[number];

/** The agent's worker threads; each holds its own client, hence its own connection (AGENT-FACTS.md). */
export const CHANNELS = ['enroll', 'config', 'logger', 'distributed'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The agent API calls, in the order the agent first makes them. */
export const API_CALLS = ['enroll', 'config', 'log', 'distributed_read', 'distributed_write'] as const;
export type ApiCall = (typeof API_CALLS)[number];

/** Which way bytes flow: `up` is client → server, `down` is server → client. */
export const DIRECTIONS = ['up', 'down'] as const;
export type Direction = (typeof DIRECTIONS)[number];
