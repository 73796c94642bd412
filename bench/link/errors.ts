/** The link stage's error type. */
import { BenchError } from '../errors.ts';

/**
 * The link emulator could not start, run or stop: no permission for namespaces or TUN/TAP devices, `ip`
 * missing, a command that failed. Exit code 1 by default; 2 when the environment lacks something the user
 * must provide (root, /dev/net/tun, iproute2).
 */
export class LinkError extends BenchError {
  constructor(message: string, options?: { cause?: unknown; exitCode?: 1 | 2 }) {
    super(message, options?.exitCode ?? 1, options);
  }
}
