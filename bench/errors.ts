/**
 * Typed errors. Code throws them; only the CLI's top level catches, prints `error: <message>` and picks the
 * exit code from `exitCode` (DESIGN.md: 0 success, 1 a measured failure, 2 bad input or usage).
 */

/** Base class: a message meant for the user, an exit code, and the underlying cause when there is one. */
export class BenchError extends Error {
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A bad flag, a bad combination of flags, or a bad command line. Names the flag. */
export class UsageError extends BenchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
  }
}

/** An input file that cannot be used: missing, unreadable, malformed JSON, wrong schema. Names the file. */
export class InputError extends BenchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
  }
}

/** A capture file whose structure is broken beyond skipping a packet (bad magic, truncated header). */
export class PcapFormatError extends InputError {}

/** tcpdump could not start, could not capture, or reported a failure. */
export class CaptureError extends BenchError {
  constructor(message: string, options?: { cause?: unknown; exitCode?: 1 | 2 }) {
    super(message, options?.exitCode ?? 1, options);
  }
}

/** A measurement that ran but cannot be trusted (reconciliation failed, kernel drops, regression). */
export class MeasurementError extends BenchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}

/** A file or stream of ours that could not be written (a full disk, a read-only or vanished folder). Exit 1: the
 * input was fine, the machine could not keep the output. */
export class OutputError extends BenchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}

/**
 * What a system error says, without its code and call: `no space left on device` for Node's
 * `ENOSPC: no space left on device, write`. Falls back to the code, then to the message.
 */
export function systemErrorText(error: unknown): string {
  const e = error as NodeJS.ErrnoException | undefined;
  const match = typeof e?.message === 'string' ? /^[A-Z][A-Z0-9_]*: ([^,]+)(,|$)/.exec(e.message) : null;
  if (match?.[1] !== undefined) return match[1];
  return e?.code ?? (error instanceof Error ? error.message : String(error));
}

/** An OutputError for a failed write of `file` (a path, or a name such as `standard output`). */
export function cannotWrite(file: string, error: unknown): OutputError {
  return new OutputError(`cannot write ${file}: ${systemErrorText(error)}`, { cause: error });
}
