/**
 * Parent side of the embedded agent-API server: starts `agent-server-main.ts` as a child process (so its
 * CPU time is the server's alone), waits for it to listen, and talks to it over execa's IPC channel.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { InputError, UsageError } from '../errors.ts';
import { bundledEntry } from '../bundle.ts';
import { REPO_ROOT } from '../paths.ts';
import { ServeError, stderrTail } from './errors.ts';
import { guardProcess } from '../guard/guard.ts';
import type { AgentServer, AgentServerOptions, AgentServerStats, ChildMessage } from './protocol.ts';
import { SERVER_PROCESS_OPTIONS, exitOf, keepStderrTail } from './process.ts';

export type { AgentServer, AgentServerOptions, AgentServerStats } from './protocol.ts';

/** A bundled child listens within a fraction of a second; a loaded 2-core machine may need a few. */
const STARTUP_TIMEOUT_MS = 20_000;
/** How long `close()` waits for a graceful exit before SIGKILL. */
const CLOSE_TIMEOUT_MS = 5_000;
const STATS_TIMEOUT_MS = 10_000;

/** Rejects options no server can honour; shared with the nginx launcher. */
export function checkServerOptions(o: AgentServerOptions): void {
  if (o.tls !== 'tls1.2' && o.tls !== 'tls1.3') throw new UsageError(`tls: expected tls1.2 or tls1.3, got ${String(o.tls)}`);
  if (!Number.isFinite(o.idleTimeoutMs) || o.idleTimeoutMs <= 0) {
    throw new UsageError(`idleTimeoutMs: expected a positive number of milliseconds, got ${o.idleTimeoutMs}`);
  }
  if (o.host !== undefined && !isLocalAddress(o.host)) {
    throw new UsageError(`host: servers bind 127.0.0.0/8, or 198.18.0.0/15 inside a link's namespace, got ${String(o.host)}`);
  }
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) {
    throw new UsageError(`port: expected 0-65535, got ${o.port}`);
  }
  const max = o.maxRequestsPerConnection;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new UsageError(`maxRequestsPerConnection: expected a positive integer, got ${max}`);
  }
  const fraction = o.distributedQueryFraction;
  if (fraction !== undefined && !(fraction >= 0 && fraction <= 1)) {
    throw new UsageError(`distributedQueryFraction: expected a number from 0 to 1, got ${fraction}`);
  }
}

/**
 * An address traffic may go to (the project's rule: nothing leaves the machine): loopback, or the benchmarking
 * range 198.18.0.0/15 (RFC 2544) that links use inside namespaces the run creates.
 */
export function isLocalAddress(host: string): boolean {
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)?.slice(1).map(Number);
  if (octets === undefined || octets.some((o) => o > 255)) return false;
  return octets[0] === 127 || (octets[0] === 198 && (octets[1] === 18 || octets[1] === 19));
}

function isMessage(value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** `promise`'s value, or `timedOut` after `ms`; the timer never outlives the race. */
export async function raceTimeout<T, U>(promise: Promise<T>, ms: number, timedOut: U): Promise<T | U> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise, sleep(ms, timedOut, { signal: timer.signal })]);
  } finally {
    timer.abort();
  }
}

const TIMED_OUT = Symbol('timed out');

/** Rejects after `ms` with a ServeError saying what did not happen in time. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const value = await raceTimeout(promise, ms, TIMED_OUT);
  if (value === TIMED_OUT) throw new ServeError(`embedded agent server: ${what} took longer than ${ms} ms`);
  return value;
}

/**
 * Starts the embedded agent-API server in a child process and resolves once it listens on 127.0.0.1.
 *
 * It answers the osquery-style paths of `AGENT_API_PATHS` with the `fixtures/api/` bodies (gzipped when the
 * request accepts gzip; gzipped request bodies are decoded), keeps connections alive for `idleTimeoutMs`
 * and up to `maxRequestsPerConnection` requests, pins the TLS version, and issues tickets or caches sessions
 * as asked. The child exits by itself if this process dies (its IPC channel closes).
 *
 * @throws UsageError for options no server can honour.
 * @throws InputError when a certificate, key or fixture cannot be read, or the port is taken, with the child's
 *   stderr tail.
 * @throws ServeError when the child fails otherwise or does not listen within 20 s.
 */
export async function startAgentServer(o: AgentServerOptions): Promise<AgentServer> {
  checkServerOptions(o);
  // The child runs from the same esbuild bundle as the command line.
  const { command, ...childOptions } = o;
  const [file, ...args] = (command ?? ((argv: string[]) => argv))([process.execPath, await bundledEntry('agent-server'), '--options', JSON.stringify(childOptions)]);
  const child = execa(file!, args, {
    ...SERVER_PROCESS_OPTIONS,
    cwd: REPO_ROOT,
    ipc: true,
    serialization: 'json',
  });
  guardProcess(child.pid);
  const stderr = keepStderrTail(child.stderr);
  const exited = exitOf(child);
  const pid = child.pid;
  if (pid === undefined) {
    const exit = await exited;
    throw new ServeError(`embedded agent server: could not spawn ${process.execPath} (exit ${exit.code ?? exit.signal})\n${stderrTail(stderr())}`);
  }

  // Resolves null when the child exits before it listens (getOneMessage rejects then; the exit says why).
  const listening = child
    .getOneMessage({ filter: (m) => isMessage(m) && m.type === 'listening' })
    .then((m) => (m as Extract<ChildMessage, { type: 'listening' }>).port, () => null);
  let port: number | null;
  try {
    port = await within(Promise.race([listening, exited.then(() => null)]), STARTUP_TIMEOUT_MS, 'starting to listen');
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  if (port === null) {
    const exit = await exited;
    const how = exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
    const message = `embedded agent server failed to start (${how}):\n${stderrTail(stderr())}`;
    throw exit.code === 2 ? new InputError(message) : new ServeError(message);
  }

  let nextId = 0;
  const ask = async (type: 'stats' | 'reset'): Promise<ChildMessage> => {
    if (child.exitCode !== null || child.signalCode !== null || !child.connected) {
      const exit = await exited;
      throw new ServeError(`embedded agent server is not running (exited: ${exit.signal ?? `code ${exit.code}`}):\n${stderrTail(stderr())}`);
    }
    nextId += 1;
    const id = nextId;
    const reply = child.getOneMessage({ filter: (m) => isMessage(m) && m.type === type && m.id === id });
    await child.sendMessage({ type, id });
    return within(reply as Promise<ChildMessage>, STATS_TIMEOUT_MS, `answering ${type}`);
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        if (child.connected) await child.sendMessage({ type: 'close' });
      } catch (error) {
        // The child may exit between the check and the send; anything else is a real failure.
        if (child.connected) throw error;
      }
      const graceful = await raceTimeout(exited, CLOSE_TIMEOUT_MS, null);
      if (graceful === null) {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return closing;
  };

  return {
    kind: 'node',
    port,
    pid,
    async stats(): Promise<AgentServerStats> {
      const reply = await ask('stats');
      if (reply.type !== 'stats') throw new ServeError(`embedded agent server: expected a stats reply, got ${reply.type}`);
      return reply.stats;
    },
    async resetStats(): Promise<void> {
      await ask('reset');
    },
    close,
    exited,
  };
}
