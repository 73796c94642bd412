/** What both servers' child processes share: how they are started and how their stderr is kept. */
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { ServeError } from './errors.ts';

/** Bytes of a server's stderr kept for error messages. */
const STDERR_KEEP_BYTES = 8192;

/**
 * execa options of a server process: no stdin or stdout, stderr streamed (never buffered whole), no rejection
 * (an exit is data: `exited`), killed when the benchmark exits, and stopped only by the server's own close().
 */
export const SERVER_PROCESS_OPTIONS = {
  reject: false,
  stdin: 'ignore',
  stdout: 'ignore',
  stderr: 'pipe',
  buffer: false,
  cleanup: true,
  forceKillAfterDelay: false,
} as const;

/** Follows a child's stderr, keeping its last 8 KiB; returns a function that reads what is kept. */
export function keepStderrTail(stderr: Readable): () => string {
  let kept = '';
  stderr.setEncoding('utf8');
  stderr.on('data', (chunk: string) => {
    kept = (kept + chunk).slice(-STDERR_KEEP_BYTES);
  });
  return () => kept;
}

/** How a child process ended. */
export function exitOf(child: Promise<{ exitCode?: number; signal?: string }>): Promise<{ code: number | null; signal: string | null }> {
  return child.then((result) => ({ code: result.exitCode ?? null, signal: result.signal ?? null }));
}

/** A port nobody listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new ServeError('could not probe a free port on 127.0.0.1');
  return address.port;
}
