/**
 * The inverse of resolving flags: the command line that runs one scenario of a resolved run on its own, with
 * every axis and every condition that differs from the defaults spelt out, so it does not depend on a suite.
 */
import path from 'node:path';
import type { ScenarioSpec } from '../model/index.ts';
import { overridesLabel } from '../workload/index.ts';
import { AGENT_SESSION_TIMEOUT_S, DEFAULT_SEED, DEFAULT_WORKLOAD, NGINX_IDLE_TIMEOUT_S, type ResolvedRun } from './resolve.ts';

/** Quotes an argument for a POSIX shell when it needs it (a path with spaces). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `npx tls-reuse-bench run --modes persistent --tls 1.2 …`: runs `spec` alone, into a new folder. */
export function rerunCommand(spec: ScenarioSpec, run: Pick<ResolvedRun, 'certs' | 'workloadPath' | 'workloadOverrides' | 'capture'>, root: string): string {
  const args = ['run', '--modes', spec.mode, '--tls', spec.tls.replace(/^tls/, ''), '--server', spec.server];
  const custom = spec.cert === 'custom' ? run.certs.custom : undefined;
  if (custom === undefined) args.push('--cert', spec.cert);
  else args.push('--cert', custom.chain, '--key', custom.key, '--ca', custom.ca);
  args.push('--endpoints', String(spec.endpoints), '--virtual-minutes', String(spec.virtualMinutes), '--time-compression', String(spec.timeCompression));
  if (spec.sessionTimeoutVirtualSeconds !== AGENT_SESSION_TIMEOUT_S) args.push('--session-timeout', `${spec.sessionTimeoutVirtualSeconds}s`);
  if (spec.serverIdleTimeoutVirtualSeconds !== NGINX_IDLE_TIMEOUT_S) args.push('--server-idle-timeout', `${spec.serverIdleTimeoutVirtualSeconds}s`);
  if (!spec.sessionTickets) args.push('--session-tickets', 'off');
  if (spec.seed !== DEFAULT_SEED) args.push('--seed', String(spec.seed));
  const axes = overridesLabel(run.workloadOverrides ?? {});
  const file = path.resolve(run.workloadPath) === path.resolve(root, DEFAULT_WORKLOAD) ? [] : [run.workloadPath];
  if (file.length > 0 || axes !== '') args.push('--workload', [...file, ...(axes === '' ? [] : [axes])].join(','));
  if (!run.capture) args.push('--no-capture');
  return ['npx', 'tls-reuse-bench', ...args.map(shellWord)].join(' ');
}
