/**
 * One loopback source address per agent (issue 11): agent i connects from its own address in 127.0.0.0/8,
 * bound before connect. Each address has the whole ephemeral port range to itself, so a fleet never runs
 * out of ports, TIME_WAIT sockets are per agent as in the field, and a capture attributes each agent's
 * traffic by address alone (and can be filtered to a sample of agents by address).
 */

/** Agents' addresses start here (127.16.0.1 is agent 0); 127.0.0.1, where the servers listen, is never used. */
const FIRST_AGENT_ADDRESS = (127 << 24) | (16 << 16);
/** 127.16.0.0 to 127.255.255.255 less the first: more agents than any run on one machine needs. */
export const MAX_AGENTS = (1 << 24) - (16 << 16) - 2;

/** The 32-bit form of agent `index`'s address (`FIRST_AGENT_ADDRESS + index + 1`, so none ends the /8). */
function agentAddressNumber(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_AGENTS) {
    throw new RangeError(`agent index ${index} is outside 0..${MAX_AGENTS - 1}`);
  }
  return FIRST_AGENT_ADDRESS + index + 1;
}

function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Agent `index`'s source address: `127.16.0.1` for agent 0, `127.16.3.232` for agent 999. */
export function agentAddress(index: number): string {
  return dotted(agentAddressNumber(index));
}

/** The agent an address belongs to, or null when it is no agent's. */
export function agentIndexOf(address: string): number | null {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  const n = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const index = n - FIRST_AGENT_ADDRESS - 1;
  return index >= 0 && index < MAX_AGENTS ? index : null;
}

/**
 * The addresses of agents `0 .. count-1` as the fewest CIDR blocks (`127.16.0.1/32`, `127.16.0.2/31`, ...):
 * a BPF filter of a handful of `net` terms whatever the count, where one `host` term per agent would make a
 * program too long for the kernel at a few hundred agents.
 */
export function agentNetworks(count: number): string[] {
  if (count <= 0) return [];
  let start = agentAddressNumber(0);
  const end = agentAddressNumber(count - 1) + 1;
  const blocks: string[] = [];
  while (start < end) {
    // The largest block aligned at `start` that does not run past `end`.
    let size = 1;
    while (size < 1 << 24 && start % (size * 2) === 0 && start + size * 2 <= end) size *= 2;
    blocks.push(`${dotted(start)}/${32 - Math.log2(size)}`);
    start += size;
  }
  return blocks;
}
