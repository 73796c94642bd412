/**
 * Bodies of a given size (issue 12's sensitivity sweep: `--workload log-body=300,config-size=2000`): a result
 * post or a config response cut or grown to exactly `targetBytes` of compact JSON, keeping its shape. Every
 * value these bodies hold is ASCII with nothing JSON escapes, so one character of a string is one byte.
 * Pure: the same body and target give the same bytes.
 */

/** Compact JSON size in bytes. */
function sizeOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Filler appended to a string value: hex digits, as the lines' hashes and ids are (cannot need escaping). */
function filler(length: number, seedText: string): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += (seedText.charCodeAt(i % Math.max(1, seedText.length)) * 2654435761 + i).toString(16);
  return out.slice(0, length);
}

/** The string entries of an object, longest first. */
function stringKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o)
    .filter((k) => typeof o[k] === 'string')
    .sort((a, b) => (o[b] as string).length - (o[a] as string).length);
}

/**
 * A result post `{node_key, log_type, data: [line, ...]}` of exactly `targetBytes`, or as close above as its
 * smallest form allows (one line without decorations and with empty columns: about 260 bytes). Lines past
 * the target are dropped; the last line loses its decorations, then its columns' text; a body under the
 * target grows its last line's longest column value (a differential row of a longer path or hash).
 */
export function fitResultLogBody(body: { data: Record<string, unknown>[] } & Record<string, unknown>, targetBytes: number): object {
  const out = structuredClone(body);
  while (out.data.length > 1 && sizeOf(out) > targetBytes) out.data.pop();
  const line = out.data[out.data.length - 1];
  if (line === undefined) return out;
  if (sizeOf(out) > targetBytes) delete line.decorations;
  const columns = (typeof line.columns === 'object' && line.columns !== null ? line.columns : {}) as Record<string, unknown>;
  line.columns = columns;
  // Shrink: cut the longest values first; drop whole columns once their values are empty.
  for (let excess = sizeOf(out) - targetBytes; excess > 0; excess = sizeOf(out) - targetBytes) {
    const longest = stringKeys(columns)[0];
    if (longest === undefined) break;
    const value = columns[longest] as string;
    if (value.length > 0) columns[longest] = value.slice(0, Math.max(0, value.length - excess));
    else delete columns[longest];
  }
  const missing = targetBytes - sizeOf(out);
  if (missing > 0) {
    const key = stringKeys(columns)[0];
    const entry = '"diff":""'.length + (Object.keys(columns).length > 0 ? 1 : 0);
    if (key !== undefined) columns[key] = (columns[key] as string) + filler(missing, key);
    else if (missing >= entry) columns.diff = filler(missing - entry, String(line.name));
  }
  return out;
}

/** The smallest scheduled query a config shrinks to. */
const SMALLEST_QUERY = { query: 'SELECT 1;', interval: 3600 } as const;

/**
 * An osquery config of exactly `targetBytes` (at least a config of one `SELECT 1;` query, 60 bytes): packs,
 * then scheduled queries, then other sections are dropped from the end while it is too large; while it is too
 * small, copies of its first scheduled query are added under new names; the rest is trailing spaces in the
 * last scheduled query's SQL, which SQLite ignores.
 */
export function fitConfig(config: Record<string, unknown>, targetBytes: number): Record<string, unknown> {
  const out = structuredClone(config);
  const section = (name: string) => (typeof out[name] === 'object' && out[name] !== null ? (out[name] as Record<string, unknown>) : null);
  const dropLast = (o: Record<string, unknown>) => delete o[Object.keys(o).at(-1)!];
  for (const name of ['packs', 'schedule']) {
    const s = section(name);
    while (s !== null && Object.keys(s).length > 0 && sizeOf(out) > targetBytes) dropLast(s);
  }
  for (const key of Object.keys(out).reverse()) {
    if (sizeOf(out) <= targetBytes) break;
    if (key !== 'schedule') delete out[key];
  }
  const schedule = section('schedule') ?? ((out.schedule = {}) as Record<string, unknown>);
  const template = (Object.values(structuredClone(config.schedule ?? {}) as Record<string, unknown>)[0] ?? SMALLEST_QUERY) as Record<string, unknown>;
  if (Object.keys(schedule).length === 0) {
    schedule.query_0 = structuredClone(template);
    if (sizeOf(out) > targetBytes) schedule.query_0 = { ...SMALLEST_QUERY };
  }
  for (let n = Object.keys(schedule).length; ; n++) {
    const grown = { ...schedule, [`query_${n}`]: template };
    if (sizeOf({ ...out, schedule: grown }) > targetBytes) break;
    schedule[`query_${n}`] = structuredClone(template);
  }
  const last = schedule[Object.keys(schedule).at(-1)!] as Record<string, unknown>;
  const missing = targetBytes - sizeOf(out);
  if (missing > 0) last.query = `${String(last.query ?? '')}${' '.repeat(missing)}`;
  return out;
}
