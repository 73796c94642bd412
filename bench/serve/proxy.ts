/**
 * The HTTP CONNECT proxy between the agents and the server (`--proxy`, issue 11): the embedded one
 * (proxy-main.ts, from the CLI's bundle) or tinyproxy from Debian (`tinyproxy-bin`), started on a free port of
 * 127.0.0.1 and allowed to tunnel to the scenario's server only. Each counts the CONNECT requests it answered.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { ProxyKind } from '../model/index.ts';
import { REPO_ROOT, repoPath } from '../paths.ts';
import { ServeError, stderrTail } from './errors.ts';
import { SERVER_PROCESS_OPTIONS, exitOf, freePort, keepStderrTail } from './process.ts';

/** A running proxy. */
export interface Proxy {
  kind: ProxyKind;
  port: number;
  pid: number;
  /** CONNECT requests answered with 200 so far. */
  connects(): Promise<number>;
  close(): Promise<void>;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

const STARTUP_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 5_000;
const TINYPROXY_HINT = 'tinyproxy is not installed: run `apt-get install tinyproxy-bin` (or `bash scripts/setup.sh`, which does it)';
const BUNDLE_MODULE = pathToFileURL(repoPath('bin/bundle.js')).href;

/** Starts a proxy that tunnels to `127.0.0.1:targetPort` only. */
export function startProxy(kind: ProxyKind, targetPort: number): Promise<Proxy> {
  return kind === 'embedded' ? startEmbedded(targetPort) : startTinyproxy(targetPort);
}

async function startEmbedded(targetPort: number): Promise<Proxy> {
  const { bundleEntry } = (await import(BUNDLE_MODULE)) as { bundleEntry(name: 'connect-proxy'): Promise<string> };
  const child = execa(process.execPath, [await bundleEntry('connect-proxy'), '--target', `127.0.0.1:${targetPort}`], {
    cwd: REPO_ROOT,
    reject: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    cleanup: true,
  });
  const stderr = keepStderrTail(child.stderr);
  const exited = exitOf(child);
  let connects = 0;
  let port: number | null = null;
  const listening = new Promise<number>((resolve, reject) => {
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const listen = /^listening (\d+)$/.exec(line);
        const count = /^connects (\d+)$/.exec(line);
        if (listen !== null) resolve((port = Number(listen[1])));
        else if (count !== null) connects = Number(count[1]);
      }
    });
    void exited.then((exit) => reject(new ServeError(`embedded proxy exited (${exit.signal ?? `code ${exit.code}`}):\n${stderrTail(stderr())}`)));
  });
  const bound = await Promise.race([listening, sleep(STARTUP_TIMEOUT_MS, null)]);
  if (bound === null || child.pid === undefined) {
    child.kill('SIGKILL');
    throw new ServeError(`embedded proxy did not listen within ${STARTUP_TIMEOUT_MS} ms:\n${stderrTail(stderr())}`);
  }
  return {
    kind: 'embedded',
    port: port ?? bound,
    pid: child.pid,
    async connects() {
      return connects;
    },
    close: closer(child, exited),
    exited,
  };
}


/** Resolves once something accepts connections on 127.0.0.1:port, or rejects after the timeout. */
async function waitListening(port: number, exited: Promise<unknown>, what: string, diagnostics: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (gone) throw new ServeError(`${what} exited before listening:\n${await diagnostics()}`);
    if (Date.now() > deadline) throw new ServeError(`${what} did not listen within ${STARTUP_TIMEOUT_MS} ms:\n${await diagnostics()}`);
    await sleep(20);
  }
}

async function startTinyproxy(targetPort: number): Promise<Proxy> {
  const found = await execa('tinyproxy', ['-v'], { reject: false });
  if (found.exitCode === undefined || (found as { code?: string }).code === 'ENOENT') throw new ServeError(TINYPROXY_HINT, { exitCode: 2 });
  const dir = await mkdtemp(path.join(tmpdir(), 'tls-reuse-bench-tinyproxy-'));
  const log = path.join(dir, 'tinyproxy.log');
  const port = await freePort();
  // tinyproxy(8)/tinyproxy.conf(5): loopback only, CONNECT to the server's port only, a thread per client.
  await writeFile(
    path.join(dir, 'tinyproxy.conf'),
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 600',
      'Allow 127.0.0.0/8',
      `ConnectPort ${targetPort}`,
      'MaxClients 100000',
      'DisableViaHeader Yes',
      `LogFile "${log}"`,
      'LogLevel Connect',
      '',
    ].join('\n'),
  );
  const child = execa('tinyproxy', ['-d', '-c', path.join(dir, 'tinyproxy.conf')], SERVER_PROCESS_OPTIONS);
  const stderr = keepStderrTail(child.stderr);
  const exited = exitOf(child);
  const readLog = () => readFile(log, 'utf8').catch(() => '');
  try {
    await waitListening(port, exited, 'tinyproxy', async () => stderrTail(`${stderr()}\n${await readLog()}`));
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const close = closer(child, exited);
  return {
    kind: 'tinyproxy',
    port,
    pid: child.pid!,
    // LogLevel Connect logs each request line: "Request (file descriptor N): CONNECT host:port HTTP/1.1".
    async connects() {
      return (await readLog()).split('\n').filter((l) => /Request \(file descriptor \d+\): CONNECT /.test(l)).length;
    },
    async close() {
      await close();
      await rm(dir, { recursive: true, force: true });
    },
    exited,
  };
}

function closer(child: { kill(signal?: NodeJS.Signals): boolean; exitCode: number | null; signalCode: string | null }, exited: Promise<unknown>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(CLOSE_TIMEOUT_MS, false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return closing;
  };
}
