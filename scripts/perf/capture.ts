/**
 * Makes the perf input: a real tcpdump capture of the TLS load of traffic.ts on loopback, grown until the
 * file reaches a size. The server runs here, the client load in a child process, so each gets a core
 * (measured on 2 cores under tcpdump: about 400 connections/s against 290 with both in this process).
 */
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { TcpdumpCapture } from '../../bench/capture/tcpdump.ts';
import type { CaptureStats } from '../../bench/model/index.ts';
import type { Cleanup } from './cleanup.ts';
import { startTrafficServer, type TrafficCounts } from './traffic.ts';

/** The seed of every request and response size: the same capture size gives the same traffic mix. */
const TRAFFIC_SEED = 20_240_601;
/** Concurrent client connections. */
const CONCURRENCY = 8;
/** How often the growing file's size is checked. */
const SIZE_POLL_MS = 200;
/** How often progress is printed while the capture grows. */
const PROGRESS_EVERY_MS = 10_000;

const CLIENT_MAIN = join(import.meta.dirname, 'traffic-client-main.ts');

/** A capture this script made, with what tcpdump and the client load said about it. */
export interface MadeCapture {
  file: string;
  serverPort: number;
  seconds: number;
  fileBytes: number;
  tcpdump: CaptureStats;
  traffic: TrafficCounts;
}

/**
 * Captures the load into `file` until it holds at least `targetBytes`. The file is written under a
 * `.partial` name and renamed when complete, so an interrupted run never leaves a truncated capture behind
 * under the final name. Every process started is tracked in `cleanup` until it has exited.
 */
export async function makeCapture(
  file: string,
  targetBytes: number,
  options: { repoRoot: string; cleanup: Cleanup; log: (line: string) => void },
): Promise<MadeCapture> {
  const { cleanup, log } = options;
  const partial = `${file}.partial`;
  const started = performance.now();
  const server = await startTrafficServer();
  const dropServer = cleanup.add(() => server.close());
  const dropPartial = cleanup.add(() => rm(partial, { force: true }));
  const capture = await TcpdumpCapture.start({ iface: 'lo', ports: [server.port], file: partial });
  const forgetTcpdump = cleanup.trackPid(capture.pid);
  const dropCapture = cleanup.add(async () => {
    await capture.stop();
  });

  const client = execa(
    process.execPath,
    ['--import', 'tsx', CLIENT_MAIN, '--port', String(server.port), '--seed', String(TRAFFIC_SEED), '--concurrency', String(CONCURRENCY)],
    { cwd: options.repoRoot, stdin: 'ignore', reject: false },
  );
  const forgetClient = cleanup.trackPid(client.pid);
  let clientExited = false;
  void client.finally(() => {
    clientExited = true;
  });

  let lastProgress = performance.now();
  for (;;) {
    const size = (await stat(partial)).size;
    if (size >= targetBytes || clientExited) break;
    if (performance.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = performance.now();
      log(`  … ${(size / 1e6).toFixed(0)} of ${(targetBytes / 1e6).toFixed(0)} MB after ${((lastProgress - started) / 1000).toFixed(0)} s`);
    }
    await sleep(SIZE_POLL_MS);
  }
  client.kill('SIGTERM');
  const result = await client;
  forgetClient();
  if (result.failed) {
    throw new Error(`the client load failed (${result.exitCode === undefined ? result.signal : `exit ${result.exitCode}`}): ${String(result.stderr).trim()}`);
  }
  const traffic = JSON.parse(String(result.stdout)) as TrafficCounts;
  const tcpdump = await capture.stop();
  dropCapture();
  forgetTcpdump();
  await server.close();
  dropServer();
  await rename(partial, file);
  dropPartial();
  return {
    file,
    serverPort: server.port,
    seconds: (performance.now() - started) / 1000,
    fileBytes: (await stat(file)).size,
    tcpdump,
    traffic,
  };
}
