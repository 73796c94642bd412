/**
 * The traffic counters of the connections being accounted, laid out by the model's table: one Float64Array
 * for every live connection, a connection's slot holding its `up` counters then its `down` counters, each
 * field at its place in TRAFFIC_FIELD_NAMES. A counter added to TRAFFIC_FIELDS gets its place, its zero and
 * its place in the report from here without another edit (its per-packet rule is `CaptureAccount.packet`'s).
 *
 * One array rather than a counter object (or a typed array) per connection: nothing is allocated when a
 * connection opens, the garbage collector never walks the counters, and a slot is reused once its
 * connection is reported, so memory follows the connections open at once.
 */
import { emptyTlsCounters, TRAFFIC_FIELD_NAMES, type Direction, type TlsCounters, type TrafficCounters, type TrafficField } from '../model/index.ts';

/** Counters per direction. */
export const FIELD_COUNT = TRAFFIC_FIELD_NAMES.length;
/** Numbers per connection: up, then down. */
export const SLOT_STRIDE = 2 * FIELD_COUNT;

/** Each field's place within a direction (`FIELD.frames` is 0, ...), from the model's order. */
export const FIELD = Object.fromEntries(TRAFFIC_FIELD_NAMES.map((name, i) => [name, i])) as Readonly<Record<TrafficField, number>>;

/** Where a direction's counters begin within a slot. */
export function directionOffset(dir: Direction): number {
  return dir === 'up' ? 0 : FIELD_COUNT;
}

/** Slots allocated at first; the array doubles when they are all taken. */
const INITIAL_SLOTS = 1024;

/** Counters of the live connections, one slot each. */
export class CounterSlab {
  /** The numbers; a slot's `up` counters start at its base. Replaced when the slab grows: read it after `allocate`. */
  values = new Float64Array(INITIAL_SLOTS * SLOT_STRIDE);
  /** Bases of released slots (zeroed), reused first. */
  private readonly free: number[] = [];
  /** Slots ever handed out (the next fresh one). */
  private used = 0;

  /** A zeroed slot's base. */
  allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const base = this.used * SLOT_STRIDE;
    if (base + SLOT_STRIDE > this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.used++;
    return base;
  }

  /** The slot's counters are reported: zero them and hand the slot to the next connection. */
  release(base: number): void {
    this.values.fill(0, base, base + SLOT_STRIDE);
    this.free.push(base);
  }

  /** One direction's counters as the model's object, with `tls` as given. */
  traffic(base: number, dir: Direction, tls: TlsCounters | null): TrafficCounters {
    const values = this.values;
    const at = base + directionOffset(dir);
    const counters = {} as TrafficCounters;
    for (let i = 0; i < FIELD_COUNT; i++) counters[TRAFFIC_FIELD_NAMES[i]!] = values[at + i]!;
    counters.tls = tls ?? emptyTlsCounters();
    return counters;
  }
}
