/**
 * Whether this kernel has the `netem` qdisc, found by trying it in a throwaway namespace (the root
 * namespace's qdiscs are never touched). Recorded with a run's environment: the link always emulates the
 * path in its own process, whatever this says (docs/link.md, "Why not netem").
 */
import { execa } from 'execa';
import { deleteNamespace, ip } from './ip.ts';
import { DEFAULT_PREFIX, checkPrefix, linkName } from './names.ts';

/** The outcome: available, or why not (tc's own message). */
export interface NetemSupport {
  available: boolean;
  detail: string;
}

let probes = 0;

/**
 * Tries `tc qdisc add dev lo root netem delay 1ms` in a namespace of its own and removes the namespace.
 *
 * @throws LinkError when the namespace cannot be made (no permission: see `checkLinkSupport`).
 */
export async function detectNetem(prefix: string = DEFAULT_PREFIX): Promise<NetemSupport> {
  checkPrefix(prefix);
  const ns = linkName(prefix, process.pid, 'probe-namespace', probes++);
  await ip(['netns', 'add', ns], `create namespace ${ns}`);
  try {
    const result = await execa('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { reject: false, stdin: 'ignore' });
    if (result.failed && result.exitCode === undefined) return { available: false, detail: 'tc (iproute2) is not installed' };
    if (result.failed) return { available: false, detail: `tc qdisc add ... netem: ${result.stderr.trim().split('\n')[0] ?? `exit ${result.exitCode}`}` };
    return { available: true, detail: 'tc accepted a netem qdisc' };
  } finally {
    await deleteNamespace(ns);
  }
}
