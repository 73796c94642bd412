/**
 * Nothing a link makes outlives it: close(), a SIGINT to the owning process at a random point, a SIGKILL
 * of the owner and its link process followed by the sweep. "Nothing" is checked against the system's own
 * listings: `ip netns list`, `ip link`, `ip route`, /proc.
 */
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { UsageError } from '../../bench/errors.ts';
import { LAN, LinkError, checkLinkSupport, detectNetem, openLink, sweepStaleLinks } from '../../bench/link/index.ts';
import { isAlive } from '../../bench/link/ip.ts';
import { pingPongMs, startProbePeer } from '../../bench/link/probe.ts';
import { randomStream } from '../../bench/workload/prng.ts';
import { LINK_SKIP, ROOT_REASON, leftovers, processGroup, processesWith, settle } from './helpers.ts';
import { describeUnless } from '../support/skip.ts';

/** Prefixes of these tests' names, apart from the other link tests' and from real runs' `trb`. */
const PREFIX = 'trbc';
const OTHER_PREFIX = 'trbo';
/** A `sleep` duration no other process on the machine uses, to find the sleepers these tests start. */
const SLEEP_SECONDS = '4242';
/** How long teardown may take once its trigger happened: a few `ip` calls on a busy machine. */
const SETTLE_MS = 20_000;

/** The link process of namespace `ns`: its options on its command line name the namespace. */
function linkProcesses(ns: string): Promise<number[]> {
  return processesWith(`"serverNamespace":"${ns}"`);
}

function sleepers(): Promise<number[]> {
  return processesWith(`sleep\0${SLEEP_SECONDS}`);
}

/** Starts test/link/hold-link.ts in a process group of its own (so the tests can signal it and find its children). */
function startHolder() {
  const holder = execa(process.execPath, ['--import', 'tsx', 'test/link/hold-link.ts', PREFIX, SLEEP_SECONDS], {
    detached: true,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    buffer: false,
  });
  let stdout = '';
  let stderr = '';
  holder.stdout.setEncoding('utf8');
  holder.stderr.setEncoding('utf8');
  holder.stderr.on('data', (chunk: string) => (stderr += chunk));
  const opened = new Promise<{ namespace: string; sleeperPid: number }>((resolve, reject) => {
    holder.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^open (.*)$/m.exec(stdout);
      if (match !== null) resolve(JSON.parse(match[1]!) as { namespace: string; sleeperPid: number });
    });
    void holder.then((r) => reject(new Error(`holder exited (${r.signal ?? r.exitCode}) before opening its link: ${stderr}`)));
  });
  opened.catch(() => undefined);
  return { holder, pid: holder.pid!, opened, stderr: () => stderr };
}

describeUnless(LINK_SKIP, `link lifecycle (${ROOT_REASON})`, () => {
  it('checkLinkSupport passes as root', async () => {
    await expect(checkLinkSupport()).resolves.toBeUndefined();
  });

  it('without CAP_NET_ADMIN and CAP_SYS_ADMIN: one-line errors with exit code 2 that say loopback still works, and nothing left', async () => {
    const unprivileged = execa('setpriv', ['--bounding-set', '-net_admin,-sys_admin', '--', process.execPath, '--import', 'tsx', 'test/link/unprivileged.ts', PREFIX]);
    const result = await unprivileged;
    const { check, open } = JSON.parse(result.stdout) as Record<string, { name: string; message: string; exitCode: number }>;
    expect(check).toEqual({
      name: 'LinkError',
      message:
        'network emulation needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN, for TAP devices and namespaces): run as root, or use --network loopback, which needs no emulator',
      exitCode: 2,
    });
    expect(open!.name).toBe('LinkError');
    expect(open!.exitCode).toBe(2);
    expect(open!.message).toMatch(/^link trbc\d+n\d+: creating TAP device trbc\d+c\d+ needs CAP_NET_ADMIN: run as root$/);
    expect(await leftovers(PREFIX, unprivileged.pid!)).toEqual([]);
  });

  it('rejects a prefix that would not fit interface names', async () => {
    await expect(openLink({ profile: LAN, prefix: 'trbxy' })).rejects.toThrow(UsageError);
    await expect(openLink({ profile: LAN, prefix: 'trbxy' })).rejects.toThrow('link prefix: expected 1 to 4 lowercase letters (names must fit 15 bytes), got "trbxy"');
  });

  it('close() removes the namespace, the devices, their routes and the link process, kills what still runs inside, and is idempotent', async () => {
    const link = await openLink({ profile: LAN, prefix: PREFIX });
    const peer = await startProbePeer(link.serverIp, link.serverCommand);
    expect((await pingPongMs(peer, 5)).length).toBe(5);
    const before = await leftovers(PREFIX, process.pid);
    expect(before).toEqual(expect.arrayContaining([link.serverNamespace, link.clientInterface]));
    expect(before.some((l) => l.includes(link.clientInterface) && l.startsWith(link.clientIp.replace(/\d+$/, '')))).toBe(true);
    expect(await linkProcesses(link.serverNamespace)).toHaveLength(1);
    // The peer is left running on purpose: close() must stop it.
    const stats = await link.close();
    expect(stats.up.forwardedFrames).toBeGreaterThan(0);
    expect(await link.close()).toBe(stats);
    expect(await leftovers(PREFIX, process.pid)).toEqual([]);
    expect(await settle(() => linkProcesses(link.serverNamespace), SETTLE_MS)).toEqual([]);
    expect(await settle(() => processesWith(`--host\0${link.serverIp}\0`), SETTLE_MS)).toEqual([]);
    await peer.close();
    await expect(link.stats()).rejects.toThrow(LinkError);
  });

  it('a device deleted under a running link ends it with a LinkError saying so, and leaves nothing', async () => {
    const link = await openLink({ profile: LAN, prefix: PREFIX });
    await execa('ip', ['-n', link.serverNamespace, 'link', 'delete', link.serverInterface]);
    expect(await settle(() => linkProcesses(link.serverNamespace), SETTLE_MS)).toEqual([]);
    // "is not running (it failed: ...)" or, if this process has not yet seen the exit, "exited (..., after: ...)".
    const message = new RegExp(`^link ${link.serverNamespace}: the link process .*the server device reported an error or hang-up`);
    await expect(link.stats()).rejects.toThrow(message);
    await expect(link.close()).rejects.toThrow(message);
    expect(await leftovers(PREFIX, process.pid)).toEqual([]);
  });

  it('an abort while opening, once the namespace exists, leaves nothing behind', async () => {
    const controller = new AbortController();
    const opening = openLink({ profile: LAN, prefix: PREFIX, signal: controller.signal });
    opening.catch(() => undefined);
    // Mid set-up: the namespace is made after both devices, before they are configured.
    for (const deadline = Date.now() + SETTLE_MS; !(await leftovers(PREFIX, process.pid)).some((l) => /n\d+$/.test(l)); ) {
      if (Date.now() > deadline) throw new Error('the namespace never appeared');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    controller.abort(new Error('aborted by the test'));
    await expect(opening).rejects.toThrow('aborted by the test');
    expect(await settle(() => leftovers(PREFIX, process.pid), SETTLE_MS)).toEqual([]);
  });

  it('SIGINT to the owning process at random points leaves no namespace, device, route or process', async () => {
    // First run: SIGINT a little after the link is open and traffic flows; it also times the opening, so
    // the next runs can pick points inside it (interpreter start, link process start, namespace set-up).
    const random = randomStream(10, 'link', 'sigint');
    let openMs = 0;
    const points: string[] = [];
    for (let run = 0; run < 4; run++) {
      const started = Date.now();
      const h = startHolder();
      if (run === 0) {
        await h.opened;
        openMs = Date.now() - started;
        await new Promise((resolve) => setTimeout(resolve, random.int(0, 300)));
      } else {
        await new Promise((resolve) => setTimeout(resolve, random.int(0, openMs)));
      }
      points.push(`${Date.now() - started} ms`);
      process.kill(h.pid, 'SIGINT');
      await h.holder;
      const left = await settle(async () => [...(await leftovers(PREFIX, h.pid)), ...(await processGroup(h.pid)), ...(await sleepers())], SETTLE_MS);
      expect(left, `SIGINT at ${points.at(-1)} after start (opening took ${openMs} ms)`).toEqual([]);
    }
    console.info(`SIGINT after ${points.join(', ')} (opening took ${openMs} ms)`);
  });

  it('after a SIGKILL of the owner and its link process, sweepStaleLinks removes the namespace and stops what ran inside', async () => {
    const h = startHolder();
    const { namespace, sleeperPid } = await h.opened;
    // The whole process group: the owner, its link process and the probe peer; the sleeper has its own group.
    process.kill(-h.pid, 'SIGKILL');
    await h.holder;
    expect(await settle(() => processGroup(h.pid), SETTLE_MS)).toEqual([]);
    // What SIGKILL leaves: the namespace (the devices went with the link process's fds) and the sleeper in it.
    expect(await leftovers(PREFIX, h.pid)).toEqual([namespace]);
    expect(isAlive(sleeperPid)).toBe(true);
    const removed = await sweepStaleLinks(PREFIX);
    expect(removed).toContain(namespace);
    expect(await leftovers(PREFIX, h.pid)).toEqual([]);
    expect(await settle(sleepers, SETTLE_MS)).toEqual([]);
  });

  it('sweepStaleLinks leaves a live owner\'s link and other prefixes alone', async () => {
    const link = await openLink({ profile: LAN, prefix: PREFIX });
    const gone = execa('true');
    await gone;
    const foreign = `${OTHER_PREFIX}${gone.pid}n0`;
    await execa('ip', ['netns', 'add', foreign]);
    try {
      const removed = await sweepStaleLinks(PREFIX);
      expect(removed).not.toContain(link.serverNamespace);
      expect(removed).not.toContain(link.clientInterface);
      expect((await execa('ip', ['netns', 'list'])).stdout).toContain(foreign);
      const peer = await startProbePeer(link.serverIp, link.serverCommand);
      expect((await pingPongMs(peer, 3)).length).toBe(3);
      await peer.close();
    } finally {
      await link.close();
      await execa('ip', ['netns', 'delete', foreign]);
    }
  });

  it('detectNetem answers from a throwaway namespace and removes it', async () => {
    const netem = await detectNetem(PREFIX);
    expect(typeof netem.available).toBe('boolean');
    expect(netem.detail).not.toBe('');
    expect(await leftovers(PREFIX, process.pid)).toEqual([]);
    console.info(`netem: ${netem.available ? 'available' : 'absent'} (${netem.detail})`);
  });
});
