/**
 * The types shared by the benchmark's servers and the IPC messages between the embedded server's child
 * process and its parent (JSON serialisation over Node's IPC channel).
 */
import { API_CALLS, type AgentServerStats, type ApiCall, type TlsVersion } from '../model/index.ts';

export type { AgentServerStats } from '../model/index.ts';

/** Requests a kept-alive connection serves before the server closes it: nginx's `keepalive_requests` default. */
export const DEFAULT_MAX_REQUESTS_PER_CONNECTION = 1000;

/** How to start a server (the embedded agent server or nginx). */
export interface AgentServerOptions {
  /** Pinned protocol version: both the minimum and the maximum. */
  tls: TlsVersion;
  /** Folder holding `chain.pem` (leaf + intermediate, what the server sends) and `leaf.key`. */
  certDir: string;
  /** Overrides `<certDir>/chain.pem` (a custom `--cert`). */
  chainFile?: string;
  /** Overrides `<certDir>/leaf.key` (a custom `--key`). */
  keyFile?: string;
  /** Issue TLS session tickets (TLS 1.2 tickets, TLS 1.3 PSK resumption). Off, TLS 1.3 servers still send
   * NewSessionTicket messages (OpenSSL's default of two; neither Node nor nginx 1.22 can turn that off) but
   * never resume from them. */
  sessionTickets: boolean;
  /** Keep a server-side session cache so TLS 1.2 clients can resume by session ID. */
  sessionCache: boolean;
  /** Close a kept-alive connection idle this long (nginx `keepalive_timeout`; the runner passes 75 s divided
   * by the time-compression factor). */
  idleTimeoutMs: number;
  /** Close a connection after this many requests (nginx `keepalive_requests`; default 1000, nginx's). */
  maxRequestsPerConnection?: number;
  /** Connections the server must hold at once (a fleet's kept-alive connections); nginx's
   * `worker_connections` is raised to it (with room) when above its 8192. */
  maxConnections?: number;
  /** The address to listen on: 127.0.0.1 by default, or an address of 198.18.0.0/15 inside the network
   * namespace of an emulated link (with `command`). */
  host?: string;
  /** Wraps the server process's command line, e.g. to run it inside the link's namespace
   * (`['ip', 'netns', 'exec', NS, ...argv]`); default: run it as it is. */
  command?: (argv: string[]) => string[];
  /** Port to listen on; default 0 (a free port). */
  port?: number;
  /** Folder of the response fixtures; default `fixtures/api/`. */
  apiDir?: string;
  /** The config response's size in bytes (the workload's `config.responseBytes`); default: the fixture's. */
  configResponseBytes?: number;
  /** The workload's `distributed.queryFraction`: which distributed reads get a query, by the rule the schedule
   * uses, so the server's answer matches the write that follows. Default 0 (never); nginx always answers
   * without a query (a static server keeps no per-agent counter). */
  distributedQueryFraction?: number;
}

/** A running server; the same for the embedded server and nginx. */
export interface AgentServer {
  kind: 'node' | 'nginx';
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** The server process (nginx: its master). */
  pid: number;
  /** Current counters and CPU time. */
  stats(): Promise<AgentServerStats>;
  /** Zeroes the counters and restarts the CPU clock (e.g. after a warm-up). */
  resetStats(): Promise<void>;
  /** Graceful stop (in-flight requests finish, idle connections close), then SIGKILL after a timeout.
   * Idempotent: later calls return the first call's promise. */
  close(): Promise<void>;
  /** Settles when the server process has exited, whatever the reason. */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Parent → child. */
export type ParentMessage = { type: 'stats'; id: number } | { type: 'reset'; id: number } | { type: 'close' };

/** Child → parent. */
export type ChildMessage =
  | { type: 'listening'; port: number }
  | { type: 'stats'; id: number; stats: AgentServerStats }
  | { type: 'reset'; id: number };

/** Counters all at zero. */
export function emptyRequestCounts(): Record<ApiCall, number> {
  return Object.fromEntries(API_CALLS.map((api) => [api, 0])) as Record<ApiCall, number>;
}
