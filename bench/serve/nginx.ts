/**
 * Launches the system nginx (the field report's server) in front of the same agent API as the embedded
 * server: `nginx -p <tmp prefix> -e <error log> -c <generated conf> -g 'daemon off;'`, one worker, bound to
 * 127.0.0.1 on a free port.
 *
 * The API answers POST with the `fixtures/api/` bodies (minified, copied into the prefix). nginx's static
 * module refuses POST with 405, so each API path is an exact `location` aliasing its body file with
 * `error_page 405 =200 $uri;`: the refusal becomes an internal GET redirect to the same path, answered 200
 * with the file, and the request body is discarded so the connection stays reusable. The alternative,
 * `return 200 '<body>'`, would inline the 11 KB config into nginx.conf, where every `$` starts a variable.
 * `etag off`, `max_ranges 0` and an empty Last-Modified keep the static module's caching headers off the
 * wire, so the answer looks like an API's. Every distributed read answers "no queries" (no per-agent state).
 *
 * Counters come from nginx itself: requests, connections and resumed handshakes from an access log written
 * with a tab-separated format, CPU from /proc/<pid>/stat of the master and its workers.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { ApiCall } from '../model/index.ts';
import { InputError } from '../errors.ts';
import { API_CALLS } from '../model/index.ts';
import { AGENT_API_PATHS, apiCallForPath } from '../workload/agent-api.ts';
import { loadResponseBodies, type ResponseName } from './api-bodies.ts';
import { checkServerOptions, raceTimeout } from './agent-server.ts';
import { ServeError, stderrTail } from './errors.ts';
import { guardDir, guardProcess, tempPrefix } from '../guard/guard.ts';
import { DEFAULT_MAX_REQUESTS_PER_CONNECTION, emptyRequestCounts, type AgentServer, type AgentServerOptions, type AgentServerStats } from './protocol.ts';
import { SERVER_PROCESS_OPTIONS, exitOf, freePort, keepStderrTail } from './process.ts';
import { procStat, processTree, ticksToMs, type ProcessTree } from '../capture/processes.ts';

const INSTALL_HINT = 'nginx is not installed: run `apt-get install nginx-light` (or `bash scripts/setup.sh`, which does it)';
const STARTUP_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
const PID_POLL_MS = 20;

/** The access log is read again until it held still for one of these pauses (at most this many rounds). */
const LOG_SETTLE_MS = 25;
const LOG_SETTLE_ROUNDS = 20;
/** A freshly probed free port can be taken before nginx binds it; try a few. */
const PORT_ATTEMPTS = 5;
/** nginx's `keepalive_requests` default since 1.19.10. */

/** The body file each API call answers with. */
const RESPONSE_OF: Record<ApiCall, ResponseName> = {
  enroll: 'enroll',
  config: 'config',
  log: 'log',
  distributed_read: 'distributed_read',
  distributed_write: 'distributed_write',
};

/**
 * The installed nginx's version, e.g. `1.22.1` (`nginx -v` prints it on stderr).
 * @throws ServeError (exit code 2) saying to `apt-get install nginx-light` when nginx is not installed.
 */
export async function nginxVersion(): Promise<string> {
  const result = await execa('nginx', ['-v'], { reject: false, stdin: 'ignore' });
  if ((result as { code?: string }).code === 'ENOENT' || result.exitCode === undefined) {
    throw new ServeError(INSTALL_HINT, { exitCode: 2, cause: result });
  }
  const match = /nginx\/(\S+)/.exec(`${result.stderr}\n${result.stdout}`);
  if (result.exitCode !== 0 || match?.[1] === undefined) {
    throw new ServeError(`nginx -v failed (exit code ${result.exitCode}):\n${stderrTail(result.stderr)}`);
  }
  return match[1];
}


/** nginx.conf strings are quoted; a quote or backslash in a temp path would end them early. */
function quoted(value: string): string {
  if (/["\\$\n]/.test(value)) throw new InputError(`${value}: paths given to nginx must not contain ", \\, $ or a newline`);
  return `"${value}"`;
}

interface Layout {
  prefix: string;
  conf: string;
  pidFile: string;
  errorLog: string;
  accessLog: string;
  apiDir: string;
}

/** nginx's worker processes: one, so that its CPU per request is one process's (and a fleet meets its
 * ceiling at one core). */
export const NGINX_WORKERS = 1;

function renderConf(o: AgentServerOptions, port: number, l: Layout, chainFile: string, keyFile: string): string {
  const protocol = o.tls === 'tls1.3' ? 'TLSv1.3' : 'TLSv1.2';
  // A connection takes one worker_connections slot, a descriptor, and one more for a file being sent.
  const workerConnections = Math.max(8192, Math.ceil((o.maxConnections ?? 0) * 1.25) + 1024);
  const locations = API_CALLS.map(
    (api) => `    location = ${AGENT_API_PATHS[api]} {
      alias ${quoted(path.join(l.apiDir, `${RESPONSE_OF[api]}.json`))};
      error_page 405 =200 $uri;
    }`,
  ).join('\n');
  const temp = (name: string) => quoted(path.join(l.prefix, 'temp', name));
  return `# Generated by tls-reuse-bench (bench/serve/nginx.ts) for one scenario.
worker_processes ${NGINX_WORKERS};
worker_rlimit_nofile ${workerConnections * 2};
pid ${quoted(l.pidFile)};
error_log ${quoted(l.errorLog)} warn;
events { worker_connections ${workerConnections}; }
http {
  log_format bench '$connection\\t$connection_requests\\t$ssl_session_reused\\t$status\\t$request';
  access_log ${quoted(l.accessLog)} bench;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  types { application/json json; }
  default_type application/json;
  charset off;
  etag off;
  max_ranges 0;
  add_header Last-Modified "";
  keepalive_timeout ${Math.max(1, Math.round(o.idleTimeoutMs))}ms;
  keepalive_requests ${o.maxRequestsPerConnection ?? DEFAULT_MAX_REQUESTS_PER_CONNECTION};
  gzip on;
  gzip_types application/json;
  gzip_min_length 0;
  gzip_comp_level 1;
  server {
    listen ${o.host ?? '127.0.0.1'}:${port} ssl;
    ssl_certificate ${quoted(chainFile)};
    ssl_certificate_key ${quoted(keyFile)};
    ssl_protocols ${protocol};
    ssl_session_tickets ${o.sessionTickets ? 'on' : 'off'};
    ssl_session_cache ${o.sessionCache ? 'shared:bench:10m' : 'off'};
${locations}
    location / { return 404; }
  }
}
`;
}

/** One access-log line: `$connection \t $connection_requests \t $ssl_session_reused \t $status \t $request`. */
interface AccessLine {
  connection: string;
  resumed: boolean;
  status: number;
  method: string;
  uri: string;
}

function parseAccessLog(text: string): AccessLine[] {
  const out: AccessLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [connection, , reused, status, request] = line.split('\t');
    if (connection === undefined || request === undefined) continue;
    const [method = '', target = ''] = request.split(' ');
    out.push({ connection, resumed: reused === 'r', status: Number(status), method, uri: target.split('?')[0] ?? '' });
  }
  return out;
}

/**
 * Starts nginx answering the agent API (see the file comment) and resolves once it listens.
 *
 * `keepalive_timeout` is `idleTimeoutMs`, `keepalive_requests` is `maxRequestsPerConnection` (default 1000),
 * `ssl_protocols` is pinned to `tls`, `ssl_session_tickets` follows `sessionTickets` and `ssl_session_cache`
 * is `shared:bench:10m` or `off`. Note that with tickets off and the cache on, nginx still resumes TLS 1.3
 * sessions (OpenSSL's stateful tickets), which the embedded server does not. Responses are gzipped (level 1)
 * when the request accepts gzip.
 *
 * nginx does not watch its parent: if this process is SIGKILLed, the run's watchdog (bench/guard) stops nginx
 * and its workers and removes the prefix (execa's cleanup handles every other way of exiting).
 *
 * @throws ServeError (exit code 2) when nginx is not installed, saying to `apt-get install nginx-light`.
 * @throws InputError when the certificate or key cannot be read.
 * @throws ServeError when nginx refuses the configuration or does not start, with its error log's tail.
 */
export async function startNginx(o: AgentServerOptions): Promise<AgentServer> {
  checkServerOptions(o);
  await nginxVersion();
  const chainFile = path.resolve(o.chainFile ?? path.join(o.certDir, 'chain.pem'));
  const keyFile = path.resolve(o.keyFile ?? path.join(o.certDir, 'leaf.key'));
  for (const [file, what] of [[chainFile, 'certificate chain'], [keyFile, 'private key']] as const) {
    await readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`${file}: cannot read the ${what} (${error.code ?? String(error)})`, { cause: error });
    });
  }
  const bodies = await loadResponseBodies(o.apiDir, o.configResponseBytes);

  const prefix = await mkdtemp(tempPrefix('nginx'));
  guardDir(prefix);
  const l: Layout = {
    prefix,
    conf: path.join(prefix, 'nginx.conf'),
    pidFile: path.join(prefix, 'nginx.pid'),
    errorLog: path.join(prefix, 'logs', 'error.log'),
    accessLog: path.join(prefix, 'logs', 'access.log'),
    apiDir: path.join(prefix, 'api'),
  };
  try {
    // Workers drop root for `nobody`: they must be able to enter the prefix and read the bodies.
    await chmod(prefix, 0o755);
    await mkdir(path.join(prefix, 'logs'));
    await mkdir(path.join(prefix, 'temp'));
    await mkdir(l.apiDir, { mode: 0o755 });
    for (const [name, body] of Object.entries(bodies)) {
      await writeFile(path.join(l.apiDir, `${name}.json`), body.json, { mode: 0o644 });
    }
    for (let attempt = 1; ; attempt += 1) {
      const port = o.port ?? (await freePort());
      await writeFile(l.conf, renderConf(o, port, l, chainFile, keyFile));
      const started = await launch(l, port, o.command ?? ((argv) => argv));
      if (started !== 'port-taken') return started;
      if (o.port !== undefined || attempt >= PORT_ATTEMPTS) {
        throw new InputError(`nginx: 127.0.0.1:${port} is already in use${o.port === undefined ? ` (${attempt} free ports were taken before nginx bound them)` : ''}`);
      }
    }
  } catch (error) {
    await rm(prefix, { recursive: true, force: true });
    throw error;
  }
}

async function readTail(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

async function launch(l: Layout, port: number, command: (argv: string[]) => string[]): Promise<AgentServer | 'port-taken'> {
  // `ip netns exec` (a link's namespace) execs nginx in its place: the child's pid stays nginx's master.
  const [file, ...args] = command(['nginx', '-p', `${l.prefix}/`, '-e', l.errorLog, '-c', l.conf, '-g', 'daemon off;']);
  const child = execa(file!, args, SERVER_PROCESS_OPTIONS);
  guardProcess(child.pid);
  const stderr = keepStderrTail(child.stderr);
  const exited = exitOf(child);
  const pid = child.pid;
  const diagnostics = async () => stderrTail(`${stderr()}\n${await readTail(l.errorLog)}`);

  // nginx writes its pid file after binding its listening sockets, so once it holds our pid we can connect.
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let ready = false;
  while (!ready) {
    const exit = await raceTimeout(exited, PID_POLL_MS, null);
    if (exit !== null) {
      const text = `${stderr()}\n${await readTail(l.errorLog)}`;
      if (/Address already in use/.test(text)) return 'port-taken';
      const message = `nginx failed to start (${exit.signal ?? `exit code ${exit.code}`}):\n${await diagnostics()}`;
      throw /cannot load certificate|PEM_read_bio|no such file/i.test(text) ? new InputError(message) : new ServeError(message);
    }
    ready = pid !== undefined && (await readTail(l.pidFile)).trim() === String(pid);
    if (!ready && Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new ServeError(`nginx did not start within ${STARTUP_TIMEOUT_MS} ms:\n${await diagnostics()}`);
    }
  }
  if (pid === undefined) throw new ServeError('nginx started without a pid');

  let logOffset = 0;
  let cpuBase = { user: 0, system: 0 };
  /** Every worker seen, by pid, with its start time. */
  const knownWorkers = new Map<number, number>();
  const findWorkers = async (): Promise<ProcessTree> => {
    const tree = await processTree(pid);
    for (const [worker, s] of tree.children) knownWorkers.set(worker, s.startTicks);
    return tree;
  };

  const cpuTicks = async (): Promise<{ user: number; system: number }> => {
    const { root: master, children: workers } = await findWorkers();
    if (master === null) throw new ServeError(`nginx (pid ${pid}) is not running:\n${await diagnostics()}`);
    let user = master.userTicks;
    let system = master.systemTicks;
    for (const worker of workers.values()) {
      user += worker.userTicks;
      system += worker.systemTicks;
    }
    return { user, system };
  };

  /**
   * The access log once it has stopped growing: nginx writes a request's line in its log phase, just after
   * the response, so a client holding its response can ask before the line is there.
   */
  const settledAccessLog = async (): Promise<Buffer> => {
    let log = await readFile(l.accessLog);
    for (let i = 0; i < LOG_SETTLE_ROUNDS; i++) {
      await sleep(LOG_SETTLE_MS);
      if ((await stat(l.accessLog)).size === log.length) break;
      log = await readFile(l.accessLog);
    }
    return log;
  };

  const stats = async (): Promise<AgentServerStats> => {
    const [ticks, log, errors] = await Promise.all([cpuTicks(), settledAccessLog(), readTail(l.errorLog)]);
    const requests = emptyRequestCounts();
    let notFound = 0;
    const connections = new Map<string, boolean>();
    for (const line of parseAccessLog(log.subarray(logOffset).toString('utf8'))) {
      if (!connections.has(line.connection)) connections.set(line.connection, line.resumed);
      const api = line.method === 'POST' && line.status === 200 ? apiCallForPath(line.uri) : null;
      if (api === null) notFound += 1;
      else requests[api] += 1;
    }
    const resumed = [...connections.values()].filter(Boolean).length;
    return {
      requests,
      notFound,
      badRequests: 0,
      cpuUserMs: ticksToMs(ticks.user - cpuBase.user),
      cpuSystemMs: ticksToMs(ticks.system - cpuBase.system),
      connections: connections.size,
      handshakes: { full: connections.size - resumed, resumed },
      // The master logs each worker it reaps ("[alert] … worker process 1234 exited on signal 9") and starts another.
      processesReplaced: errors.split('\n').flatMap((line) => {
        const match = /(worker process \d+ exited (?:on signal \d+|with (?:fatal )?code \d+))/.exec(line);
        return match === null ? [] : [match[1]!];
      }),
    };
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await findWorkers();
        // SIGQUIT: graceful shutdown (workers finish in-flight requests, idle keep-alive connections close).
        child.kill('SIGQUIT');
        if ((await raceTimeout(exited, CLOSE_TIMEOUT_MS, null)) === null) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      // A SIGKILLed master leaves its workers behind; they are ours to stop. The start time proves a pid
      // still names the worker we saw, not a process that reused the number.
      for (const [worker, startTicks] of knownWorkers) {
        const s = await procStat(worker);
        if (s !== null && s.comm === 'nginx' && s.startTicks === startTicks) process.kill(worker, 'SIGKILL');
      }
      await rm(l.prefix, { recursive: true, force: true });
    })();
    return closing;
  };

  // Count from here: nginx's own configuration loading is not serving.
  cpuBase = await cpuTicks();
  return {
    kind: 'nginx',
    port,
    pid,
    stats,
    async resetStats(): Promise<void> {
      cpuBase = await cpuTicks();
      logOffset = (await stat(l.accessLog)).size;
    },
    close,
    exited,
  };
}
