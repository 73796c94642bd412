/** Flag parsing shared by the commands: node's parseArgs, with every failure turned into a UsageError naming the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses a command's arguments; unknown flags and missing values become UsageErrors naming the command. */
export function parseCommand<T extends Options>(command: string, args: string[], options: T) {
  missingValue(args, options);
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new UsageError(`${command}: ${message.replace(/\. To specify a positional argument.*$/, '')} (see tls-reuse-bench ${command} --help)`, {
      cause: error,
    });
  }
}

/** A TCP port given to `flag`: an integer in 1..65535. */
export function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new UsageError(`${flag}: expected a port number 1-65535, got "${value}"`);
  }
  return n;
}

/**
 * A flag that takes a value followed by another flag (`--server-port --json`): parseArgs calls that
 * "ambiguous" and suggests `--server-port=-XYZ`; what happened is that the value was left out.
 */
function missingValue(args: string[], options: Options): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return;
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    if (name === null || options[name]?.type !== 'string') continue;
    const next = args[i + 1];
    if (next !== undefined && next.startsWith('-') && next !== '-') {
      throw new UsageError(`--${name}: expected a value, got the flag "${next}"`);
    }
  }
}
