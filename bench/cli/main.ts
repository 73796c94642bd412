/**
 * The command line: picks the command, runs it, and is the one place that turns an error into
 * `error: <message>` and an exit code (0 success, 1 a measured failure, 2 bad input or usage).
 */
import { BenchError, cannotWrite } from '../errors.ts';
import { versionLine } from '../version.ts';
import { didYouMean } from './suggest.ts';

type Command = (args: string[], out: NodeJS.WritableStream) => Promise<number>;

/**
 * Commands load on demand: `analyze` must not pay for Chart.js, canvas and the live runner at start-up (its
 * speed is benchmarked against tshark, start-up included).
 */
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.ts')).runCommand,
  analyze: async () => (await import('./analyze.ts')).analyzeCommand,
  report: async () => (await import('./report.ts')).reportCommand,
  check: async () => (await import('./check.ts')).checkCommand,
};

const usage = `usage: tls-reuse-bench <command> [flags]

commands:
  run            run the benchmark: agent workload x modes, captured and accounted (suites: quick, default, full)
  analyze FILE   account an existing capture per connection and direction
  report FILE    re-render charts, HTML and Markdown from a results.json
  check FILE     compare a results.json with a baseline: exit 0 pass, 1 regression, 2 bad input

  help COMMAND   a command's flags, each with its default (also: tls-reuse-bench COMMAND --help)
  --version      this tool's version and git commit

exit codes: 0 success; 1 a measured failure (regression, invalid run) or output that could not be written;
2 bad input or usage; 130/143 a run stopped by SIGINT/SIGTERM (finished scenarios are kept)`;

/** Runs the command line `args` (without node and script); resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  const stdout = watchStdout();
  const code = await dispatch(args);
  // A failed write is reported as an 'error' event a tick later: let it arrive before deciding the exit code.
  await new Promise((resolve) => setImmediate(resolve));
  const failure = stdout.failure();
  if (failure === null) return code;
  process.stderr.write(`error: ${cannotWrite('standard output', failure).message}\n`);
  return code === 0 ? 1 : code;
}

/**
 * Follows standard output's write errors. A reader that goes away (`| head` having read enough) makes writes to a
 * pipe fail with EPIPE: the command goes on and what is left to write is dropped, as the reader asked. Any other
 * failure (`> /dev/full`, a full disk) is kept and turned into `error: cannot write standard output: …` and a
 * non-zero exit, never an uncaught 'error' event.
 */
function watchStdout(): { failure(): NodeJS.ErrnoException | null } {
  let failure: NodeJS.ErrnoException | null = null;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    failure ??= error;
  });
  return { failure: () => failure };
}

async function dispatch(args: string[]): Promise<number> {
  let [name, ...rest] = args;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  // `help run` is `run --help`.
  if (name === 'help' && rest[0] !== undefined) [name, rest] = [rest[0], ['--help']];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    const known = [...Object.keys(commands), 'help'];
    process.stderr.write(`error: unknown command "${name}"${didYouMean(name, known)} (see tls-reuse-bench --help)\n`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest, process.stdout);
  } catch (error) {
    if (error instanceof BenchError) {
      process.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    // Anything else is a defect of this tool, not of the input: keep the stack for the bug report.
    process.stderr.write(`error: internal error (please report): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
