/**
 * Names of what a link creates: `<prefix><owner pid><kind><index>`, e.g. `trb4711c0` (client-side device),
 * `trb4711s0` (server-side device), `trb4711n0` (server namespace), `trb4711t0` (a throwaway namespace for
 * probing the kernel). The owner is the process that opened the link: a name whose owner is gone is stale,
 * and only names that parse with our prefix are ever swept.
 */
import { UsageError } from '../errors.ts';

/** The default prefix: tls-reuse-bench. */
export const DEFAULT_PREFIX = 'trb';

/** What a name is for. */
export type NameKind = 'client-device' | 'server-device' | 'namespace' | 'probe-namespace';

const KIND_LETTERS: Readonly<Record<NameKind, string>> = {
  'client-device': 'c',
  'server-device': 's',
  namespace: 'n',
  'probe-namespace': 't',
};

/** Interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL): 4 + 7 (pid_max 4194304) + 1 + 3. */
const MAX_PREFIX_LENGTH = 4;
const MAX_INDEX = 999;

/** A parsed name. */
export interface ParsedName {
  ownerPid: number;
  kind: NameKind;
  index: number;
}

/** @throws UsageError unless `prefix` is 1 to 4 lowercase letters. */
export function checkPrefix(prefix: string): void {
  if (!new RegExp(`^[a-z]{1,${MAX_PREFIX_LENGTH}}$`).test(prefix)) {
    throw new UsageError(`link prefix: expected 1 to ${MAX_PREFIX_LENGTH} lowercase letters (names must fit 15 bytes), got "${prefix}"`);
  }
}

/** The name of `kind` number `index` owned by `ownerPid`. */
export function linkName(prefix: string, ownerPid: number, kind: NameKind, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > MAX_INDEX) throw new RangeError(`link index ${index} is outside 0..${MAX_INDEX}`);
  return `${prefix}${ownerPid}${KIND_LETTERS[kind]}${index}`;
}

/** The owner, kind and index of a name made by `linkName` with `prefix`; null for any other name. */
export function parseLinkName(prefix: string, name: string): ParsedName | null {
  const match = /^(\d+)([a-z])(\d{1,3})$/.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '');
  if (match === null) return null;
  const kind = (Object.keys(KIND_LETTERS) as NameKind[]).find((k) => KIND_LETTERS[k] === match[2]);
  return kind === undefined ? null : { ownerPid: Number(match[1]), kind, index: Number(match[3]) };
}
