/**
 * Limits first (issue 11): before a fleet's first connection, check that the machine can hold it — file
 * descriptors, ephemeral ports, TIME_WAIT buckets and memory — and say what to raise, instead of failing
 * mid-run with EMFILE or counting TIME_WAIT sockets the kernel silently dropped.
 */
import { readFile } from 'node:fs/promises';
import { CHANNELS } from '../model/index.ts';
import { UsageError } from '../errors.ts';

/** What the system allows, as read from /proc. */
export interface SystemLimits {
  /** Soft RLIMIT_NOFILE of this process (`ulimit -n`), shared by its threads and inherited by the server. */
  openFiles: number;
  /** `net.ipv4.ip_local_port_range`, inclusive. */
  portRange: [number, number];
  /** `net.ipv4.tcp_max_tw_buckets`: past it the kernel destroys TIME_WAIT sockets instead of keeping them. */
  maxTimeWaitBuckets: number;
  /** MemAvailable, bytes. */
  memAvailableBytes: number;
}

/** What a fleet run needs at most, in any of its modes. */
export interface FleetNeeds {
  endpoints: number;
  /** Requests per agent per virtual minute; in `fresh` each is a connection that ends in TIME_WAIT. */
  requestsPerEndpointMinute: number;
  timeCompression: number;
  /** Requests of the whole schedule (each kept in memory with its body). */
  scheduledRequests: number;
}

/** Descriptors beyond the connections: the runner's files, pipes, tcpdump's and the server's own. */
const SPARE_DESCRIPTORS = 256;
/** Client and server memory per open TLS connection (socket buffers, TLS state, Node objects), generous. */
const BYTES_PER_CONNECTION = 100 * 1024;
/** A scheduled request: its body (0.1-2 KB), headers and outcome. */
const BYTES_PER_REQUEST = 4 * 1024;
/** TIME_WAIT lasts this long on Linux (TCP_TIMEWAIT_LEN), whatever the time compression. */
const TIME_WAIT_SECONDS = 60;

/** The problems a fleet would hit, each with what to raise; empty when it fits. Pure. */
export function limitProblems(needs: FleetNeeds, system: SystemLimits): string[] {
  const problems: string[] = [];
  // persistent holds one connection per agent and channel; the embedded server holds the other ends.
  const connections = needs.endpoints * CHANNELS.length;
  const descriptors = connections + SPARE_DESCRIPTORS;
  if (descriptors > system.openFiles) {
    problems.push(
      `open files: ${needs.endpoints} agents hold up to ${connections} connections (${descriptors} descriptors with spares) but ulimit -n is ${system.openFiles}; raise it (ulimit -n ${Math.ceil(descriptors * 1.2)}) or run fewer --endpoints`,
    );
  }
  // fresh: every request's connection ends in TIME_WAIT for 60 real seconds on the agent's address.
  const connectionsPerRealSecond = (needs.endpoints * needs.requestsPerEndpointMinute * needs.timeCompression) / 60;
  const timeWaitAtOnce = Math.ceil(connectionsPerRealSecond * TIME_WAIT_SECONDS);
  const perAgent = Math.ceil(timeWaitAtOnce / needs.endpoints);
  const ports = system.portRange[1] - system.portRange[0] + 1;
  if (perAgent > ports) {
    problems.push(
      `ephemeral ports: each agent would hold ${perAgent} sockets in TIME_WAIT at once but net.ipv4.ip_local_port_range has ${ports} ports; widen it (sysctl -w net.ipv4.ip_local_port_range="1024 65535") or lower --time-compression`,
    );
  }
  if (timeWaitAtOnce > system.maxTimeWaitBuckets) {
    problems.push(
      `TIME_WAIT buckets: fresh would hold ${timeWaitAtOnce} sockets in TIME_WAIT at once but net.ipv4.tcp_max_tw_buckets is ${system.maxTimeWaitBuckets} (the kernel would destroy the rest and TIME_WAIT would be undercounted); raise it (sysctl -w net.ipv4.tcp_max_tw_buckets=${Math.ceil(timeWaitAtOnce * 1.5)}) or lower --max-rate`,
    );
  }
  const memory = connections * BYTES_PER_CONNECTION + needs.scheduledRequests * BYTES_PER_REQUEST;
  if (memory > system.memAvailableBytes) {
    problems.push(
      `memory: the fleet needs about ${Math.ceil(memory / 2 ** 20)} MiB (connections and the schedule) but ${Math.floor(system.memAvailableBytes / 2 ** 20)} MiB are available; free memory, or run fewer --endpoints or --virtual-minutes`,
    );
  }
  return problems;
}

/** Reads the limits of this process and machine from /proc. */
export async function readSystemLimits(): Promise<SystemLimits> {
  const [limits, range, buckets, meminfo] = await Promise.all([
    readFile('/proc/self/limits', 'utf8'),
    readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
    readFile('/proc/sys/net/ipv4/tcp_max_tw_buckets', 'utf8'),
    readFile('/proc/meminfo', 'utf8'),
  ]);
  const openFiles = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  const [low, high] = range.trim().split(/\s+/).map(Number);
  const available = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1];
  return {
    openFiles: openFiles === undefined || openFiles === 'unlimited' ? Number.POSITIVE_INFINITY : Number(openFiles),
    portRange: [low ?? 32768, high ?? 60999],
    maxTimeWaitBuckets: Number(buckets.trim()),
    memAvailableBytes: available === undefined ? Number.POSITIVE_INFINITY : Number(available) * 1024,
  };
}

/** Throws a UsageError listing every limit the fleet would hit and what to raise. */
export async function checkFleetLimits(needs: FleetNeeds): Promise<void> {
  const problems = limitProblems(needs, await readSystemLimits());
  if (problems.length > 0) {
    throw new UsageError(`--endpoints ${needs.endpoints}: this machine cannot hold the fleet:\n  ${problems.join('\n  ')}`);
  }
}
