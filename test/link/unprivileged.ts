/**
 * Run without CAP_NET_ADMIN and CAP_SYS_ADMIN (`setpriv --bounding-set -net_admin,-sys_admin`): prints, as
 * one JSON line, what checkLinkSupport and openLink throw, for the permission test.
 */
import { LAN, checkLinkSupport, openLink } from '../../bench/link/index.ts';

async function outcome(action: () => Promise<unknown>): Promise<{ name: string; message: string; exitCode: number | null } | 'resolved'> {
  try {
    await action();
    return 'resolved';
  } catch (error) {
    const e = error as Error & { exitCode?: number };
    return { name: e.name, message: e.message, exitCode: e.exitCode ?? null };
  }
}

const check = await outcome(() => checkLinkSupport());
const open = await outcome(() => openLink({ profile: LAN, prefix: process.argv[2] ?? 'trb' }));
process.stdout.write(`${JSON.stringify({ check, open })}\n`);
process.exit(0);
