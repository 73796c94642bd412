/** The server stage's error type. */
import { BenchError } from '../errors.ts';

/** A server (embedded or nginx) could not start, answer or stop; carries its stderr tail in the message.
 * Exit code 1 by default; 2 when the environment lacks something the user must install. */
export class ServeError extends BenchError {
  constructor(message: string, options?: { cause?: unknown; exitCode?: 1 | 2 }) {
    super(message, options?.exitCode ?? 1, options);
  }
}

/** The last `maxLines` lines of a process's stderr, indented for a multi-line error message. */
export function stderrTail(stderr: string, maxLines = 12): string {
  const lines = stderr.trimEnd().split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) return '(stderr was empty)';
  return lines.slice(-maxLines).map((line) => `  | ${line}`).join('\n');
}
