/**
 * The perf capture's client load as its own process, so the TLS client and the server each get a core:
 * `node --import tsx scripts/perf/traffic-client-main.ts --port N --seed N --concurrency N`.
 * Runs until SIGTERM, lets in-flight connections finish, then prints its `TrafficCounts` as one JSON line.
 */
import { parseArgs } from 'node:util';
import { runTrafficClients, trustedRootPem } from './traffic.ts';

const { values } = parseArgs({
  options: { port: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' } },
});
const number = (flag: string, text: string | undefined): number => {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < 0) {
    process.stderr.write(`error: --${flag}: expected a whole number, got "${text ?? ''}"\n`);
    process.exit(2);
  }
  return value;
};
const options = {
  port: number('port', values.port),
  seed: number('seed', values.seed),
  concurrency: number('concurrency', values.concurrency),
  ca: trustedRootPem(),
};

const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
try {
  const counts = await runTrafficClients(options, stop.signal);
  process.stdout.write(`${JSON.stringify(counts)}\n`);
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
