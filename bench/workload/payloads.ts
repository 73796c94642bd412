/**
 * Request bodies shaped like osquery 5's: field names, key order and value types follow its TLS plugins
 * (enroll, config, tls logger, distributed), where every column value is a string (`numerics: false`).
 * Values come from seeded streams, so a body depends only on (seed, endpoint, which request).
 */
import type { Random } from './prng.ts';
import { randomStream } from './prng.ts';
import { nodeKeyFor } from './agent-api.ts';
import type { Workload } from './format.ts';
import { fitResultLogBody } from './fit.ts';

/** Who one simulated agent is: fixed for its whole run. */
export interface AgentIdentity {
  endpointIndex: number;
  nodeKey: string;
  /** `host_identifier` (osquery's `--host_identifier=uuid`). */
  hostUuid: string;
  hostname: string;
  /** The first logged-in user, a decoration on every log line. */
  username: string;
  osqueryPid: number;
  instanceId: string;
}

const HEX = '0123456789abcdef';
const ROLES = ['web', 'api', 'db', 'cache', 'batch', 'build', 'mail', 'vpn', 'log', 'k8s-node'] as const;
const SITES = ['fra1', 'ams3', 'iad2', 'sfo2', 'sin1', 'lon1'] as const;
const USERS = ['deploy', 'ops', 'ubuntu', 'admin', 'jenkins', 'svc-backup'] as const;

function uuid(rnd: Random): string {
  const h = (n: number): string => rnd.chars(n, HEX);
  // Version 4, variant 10xx (RFC 9562 section 5.4), like the UUIDs SMBIOS and osquery report.
  return `${h(8)}-${h(4)}-4${h(3)}-${rnd.pick(['8', '9', 'a', 'b'])}${h(3)}-${h(12)}`;
}

/** The identity of endpoint `endpointIndex` under `seed`. */
export function agentIdentity(seed: number, endpointIndex: number): AgentIdentity {
  const rnd = randomStream(seed, endpointIndex, 'identity');
  const hostUuid = uuid(rnd);
  const hostname = `${rnd.pick(ROLES)}-${String(rnd.int(1, 999)).padStart(3, '0')}.${rnd.pick(SITES)}.prod.example.internal`;
  return {
    endpointIndex,
    nodeKey: nodeKeyFor(seed, endpointIndex),
    hostUuid,
    hostname,
    username: rnd.pick(USERS),
    osqueryPid: rnd.int(600, 65_000),
    instanceId: uuid(rnd),
  };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** osquery's `calendarTime`: asctime(3) layout with a space-padded day, in UTC (`--utc`). */
function calendarTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()} UTC`;
}

function unixSecondsAt(w: Workload, atVirtualMs: number): number {
  return w.startUnixSeconds + Math.floor(atVirtualMs / 1000);
}

/** The decorations the fixture config's decorator queries produce, attached to every log line. */
function decorations(w: Workload, id: AgentIdentity): Record<string, string> {
  return { host_uuid: id.hostUuid, hostname: id.hostname, osquery_version: w.agentVersion, username: id.username };
}

/** `POST enroll`: the secret, identifier and host details osquery sends once. */
export function enrollBody(w: Workload, id: AgentIdentity, rnd: Random, atVirtualMs: number): object {
  const now = unixSecondsAt(w, atVirtualMs);
  const cores = rnd.pick([2, 4, 8, 16, 32]);
  return {
    enroll_secret: w.enroll.secret,
    host_identifier: id.hostUuid,
    platform_type: w.enroll.platformType,
    host_details: {
      os_version: {
        _id: '22.04', arch: 'x86_64', build: '', codename: 'jammy', major: '22', minor: '4', name: 'Ubuntu',
        patch: '0', platform: 'ubuntu', platform_like: 'debian', version: '22.04.4 LTS (Jammy Jellyfish)',
      },
      osquery_info: {
        build_distro: 'centos7', build_platform: 'linux', config_hash: '', config_valid: '0', extensions: 'active',
        instance_id: id.instanceId, pid: String(id.osqueryPid), platform_mask: '9', start_time: String(now),
        uuid: id.hostUuid, version: w.agentVersion, watcher: String(id.osqueryPid - rnd.int(1, 40)),
      },
      platform_info: {
        address: '0xe8000', date: '11/12/2020', extra: '', firmware_type: 'bios', revision: '4.11', size: '64 KB',
        vendor: 'SeaBIOS', version: '1.16.3-debian-1.16.3-2', volume_size: '0',
      },
      system_info: {
        board_model: '', board_serial: '', board_vendor: '', board_version: '', computer_name: id.hostname,
        cpu_brand: rnd.pick(['Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz', 'AMD EPYC 7R13 Processor', 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz']),
        cpu_logical_cores: String(cores), cpu_microcode: `0x${rnd.chars(7, HEX)}`, cpu_physical_cores: String(cores / 2),
        cpu_subtype: '85', cpu_type: 'x86_64', hardware_model: 'Standard PC (Q35 + ICH9, 2009)',
        hardware_serial: `ec2${rnd.chars(13, HEX)}`, hardware_vendor: 'QEMU', hardware_version: 'pc-q35-8.2',
        hostname: id.hostname, local_hostname: id.hostname.split('.')[0] ?? id.hostname,
        physical_memory: String(cores * 4 * 1024 ** 3), uuid: id.hostUuid,
      },
    },
  };
}

/** `POST config` and `POST distributed/read` carry only the node key. */
export function nodeKeyBody(id: AgentIdentity): object {
  return { node_key: id.nodeKey };
}

const BINARIES = [
  ['/usr/bin/curl', '-fsS --max-time 10 https://metadata.internal/latest/meta-data/instance-id'],
  ['/usr/bin/python3', '/opt/monitoring/bin/collect_disk_stats.py --interval 60 --output /var/lib/node_exporter/disk.prom'],
  ['/usr/bin/bash', '-c /usr/local/bin/rotate-logs.sh /var/log/app/*.log'],
  ['/usr/sbin/logrotate', '/etc/logrotate.conf'],
  ['/usr/bin/git', 'fetch --prune origin'],
  ['/usr/bin/systemctl', 'is-active --quiet nginx.service'],
  ['/usr/bin/apt-get', '-qq update'],
  ['/usr/bin/sshd', '-D -R'],
] as const;

function ipv4(rnd: Random, prefix: string): string {
  return `${prefix}.${rnd.int(0, 255)}.${rnd.int(1, 254)}`;
}

/** One differential result line: a scheduled query's added/removed row. */
function resultLine(w: Workload, id: AgentIdentity, rnd: Random, unixTime: number, counter: number): object {
  const time = String(unixTime - rnd.int(0, 59));
  const pid = String(rnd.int(300, 4_000_000));
  const kind = rnd.int(0, 5);
  let name: string;
  let columns: Record<string, string>;
  switch (kind) {
    case 0: {
      const [path, args] = rnd.pick(BINARIES);
      name = 'process_events';
      columns = {
        auid: '4294967295', cmdline: `${path.split('/').pop() ?? path} ${args}`, cwd: rnd.pick(['/', '/root', `/home/${id.username}`, '/var/lib/app']),
        euid: '0', gid: '0', parent: String(rnd.int(1, 4_000_000)), path, pid, time, uid: rnd.pick(['0', '1000', '33']),
      };
      break;
    }
    case 1:
      name = 'socket_events';
      columns = {
        action: 'connect', family: '2', fd: String(rnd.int(3, 200)), local_address: ipv4(rnd, '10.20'),
        local_port: String(rnd.int(32_768, 60_999)), path: rnd.pick(BINARIES)[0], pid, protocol: '6',
        remote_address: ipv4(rnd, rnd.pick(['52.94', '140.82', '151.101', '104.16'])),
        remote_port: rnd.pick(['443', '80', '53', '5432']), time,
      };
      break;
    case 2:
      name = 'logged_in_users';
      columns = { host: ipv4(rnd, '10.8'), pid, time, tty: `pts/${rnd.int(0, 9)}`, type: 'user', user: id.username };
      break;
    case 3:
      name = 'listening_ports';
      columns = {
        address: rnd.pick(['0.0.0.0', '::', '10.20.4.17']), family: rnd.pick(['2', '10']),
        name: rnd.pick(['nginx', 'sshd', 'node_exporter', 'postgres', 'redis-server']),
        path: rnd.pick(['/usr/sbin/nginx', '/usr/sbin/sshd', '/usr/local/bin/node_exporter', '/usr/lib/postgresql/14/bin/postgres']),
        pid, port: rnd.pick(['22', '80', '443', '5432', '6379', '9100']), protocol: '6',
      };
      break;
    case 4:
      name = 'pack_fim-linux_ssh_config_changes';
      columns = {
        action: rnd.pick(['UPDATED', 'ATTRIBUTES_MODIFIED', 'CREATED']), sha256: rnd.chars(64, HEX),
        target_path: rnd.pick(['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/50-cloud-init.conf', '/etc/ssh/ssh_known_hosts']),
        time, uid: '0',
      };
      break;
    default:
      name = 'docker_containers';
      columns = {
        id: rnd.chars(64, HEX), image: rnd.pick(['registry.internal/app/api:2024.12.3', 'grafana/promtail:2.9.4', 'redis:7.2-alpine']),
        name: `/${rnd.pick(['api', 'worker', 'promtail', 'redis'])}-${rnd.chars(5, HEX)}`, started_at: time,
        state: 'running', status: `Up ${rnd.int(1, 59)} minutes`,
      };
  }
  return {
    name, hostIdentifier: id.hostUuid, calendarTime: calendarTime(unixTime), unixTime, epoch: 0, counter,
    numerics: false, decorations: decorations(w, id), columns, action: rnd.pick(['added', 'added', 'removed']),
  };
}

/** `POST log` with `log_type: result`: the lines one logger flush carries. */
export function resultLogBody(w: Workload, id: AgentIdentity, rnd: Random, atVirtualMs: number, flush: number): object {
  const unixTime = unixSecondsAt(w, atVirtualMs);
  const lines = rnd.int(w.logger.resultLines.min, w.logger.resultLines.max);
  const data: object[] = [];
  for (let i = 0; i < lines; i += 1) data.push(resultLine(w, id, rnd, unixTime, flush));
  const body = { node_key: id.nodeKey, log_type: 'result', data };
  const target = w.logger.resultBodyBytes;
  return target === undefined ? body : fitResultLogBody(body as { data: Record<string, unknown>[] } & typeof body, target);
}

const STATUS_MESSAGES = [
  ['scheduler.cpp', '83', 'Executing scheduled query process_events'],
  ['scheduler.cpp', '119', 'Found results for query: socket_events'],
  ['events.cpp', '682', 'Expiring events for subscriber: process_events (overflowed limit 50000)'],
  ['config.cpp', '417', 'Refreshing configuration state'],
  ['distributed.cpp', '158', 'Executing distributed query'],
  ['auditdnetlink.cpp', '402', 'Failed to set the audit process ID: Operation not permitted'],
] as const;

/** `POST log` with `log_type: status`: glog lines the agent buffered since the last status post, without
 * decorations (they only go on result lines here), 200-350 bytes each. */
export function statusLogBody(w: Workload, id: AgentIdentity, rnd: Random, atVirtualMs: number): object {
  const unixTime = unixSecondsAt(w, atVirtualMs);
  const lines = rnd.int(w.logger.statusLines.min, w.logger.statusLines.max);
  const data: object[] = [];
  for (let i = 0; i < lines; i += 1) {
    const [filename, line, message] = rnd.pick(STATUS_MESSAGES);
    const at = unixTime - rnd.int(0, 59);
    data.push({
      hostIdentifier: id.hostUuid, calendarTime: calendarTime(at), unixTime: String(at),
      severity: filename === 'auditdnetlink.cpp' ? '1' : '0', filename, line, message,
      version: w.agentVersion,
    });
  }
  return { node_key: id.nodeKey, log_type: 'status', data };
}

/** `POST distributed/write`: the rows, status and stats of the one query the read returned. */
export function distributedWriteBody(w: Workload, id: AgentIdentity, rnd: Random, atVirtualMs: number): object {
  const queryId = uuid(rnd);
  const rows: Record<string, string>[] = [];
  const count = rnd.int(w.distributed.resultRows.min, w.distributed.resultRows.max);
  for (let i = 0; i < count; i += 1) {
    const [path, args] = rnd.pick(BINARIES);
    rows.push({
      pid: String(rnd.int(300, 4_000_000)), name: path.split('/').pop() ?? path, path, cmdline: `${path} ${args}`,
      uid: rnd.pick(['0', '33', '1000']), start_time: String(unixSecondsAt(w, atVirtualMs) - rnd.int(60, 864_000)),
    });
  }
  const wallTimeMs = rnd.int(2, 180);
  return {
    node_key: id.nodeKey,
    queries: { [queryId]: rows },
    statuses: { [queryId]: 0 },
    messages: { [queryId]: '' },
    stats: {
      [queryId]: {
        wall_time: Math.floor(wallTimeMs / 1000), wall_time_ms: wallTimeMs, user_time: rnd.int(0, wallTimeMs),
        system_time: rnd.int(0, wallTimeMs), memory: rnd.int(0, 4_194_304),
      },
    },
  };
}
