/** Flag parsing shared by the commands: node's parseArgs, with every failure turned into a UsageError naming the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';
import { didYouMean } from './suggest.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments; unknown flags and missing values become UsageErrors naming the command, with the
 * flag probably meant. A value that starts with `-` and a digit (`--endpoints -3`) is taken as the flag's value,
 * so its own check can say what is wrong with it, instead of node's "argument is ambiguous".
 */
export function parseCommand<T extends Options>(command: string, args: string[], options: T) {
  missingValue(args, options);
  const all: Options = { ...options, help: { type: 'boolean', short: 'h' } };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const option = arg.startsWith('--') ? all[arg.slice(2)] : undefined;
    if (option?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  const see = `(see tls-reuse-bench ${command} --help)`;
  try {
    return parseArgs({ args: joined, options: all as T & { help: { type: 'boolean'; short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) {
      const flags = Object.keys(all).map((name) => `--${name}`);
      throw new UsageError(`${command}: unknown flag ${unknown}${didYouMean(unknown.split('=')[0]!, flags)} ${see}`, { cause: error });
    }
    throw new UsageError(`${command}: ${message.replace(/\. To specify a positional argument.*$/, '')} ${see}`, { cause: error });
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
    // A negative number is a value (`--endpoints -3`), checked by the flag's own parser.
    if (next !== undefined && next.startsWith('-') && next !== '-' && !/^-[\d.]/.test(next)) {
      throw new UsageError(`--${name}: expected a value, got the flag "${next}"`);
    }
  }
}
