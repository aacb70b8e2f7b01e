/**
 * Local periods (quarter-hour, hour, day, month) in an IANA time zone, and rolling 15-minute
 * buckets up into them. This module is the one definition of periods: the energy queries group
 * stored buckets by the boundaries it computes.
 *
 * - A day (month) begins at the first instant of its local date (of its first date): local
 *   midnight, or, where midnight falls into a DST gap, the end of the gap.
 * - An hour keeps the offset of the instant being truncated, like PostgreSQL's
 *   date_trunc('hour', t, zone): the repeated hour of a fall-back night is two periods, so a DST day
 *   has 23 or 25 hours and 92 or 100 quarter-hours.
 * - Quarter-hours are the UTC buckets: every offset in use is a multiple of 15 minutes.
 */
import { JoulehubError } from '../sdk/errors.js';
import { BUCKET_MS } from './types.js';

export type PeriodInterval = '15m' | 'hour' | 'day' | 'month';

export const PERIOD_INTERVALS: readonly PeriodInterval[] = ['15m', 'hour', 'day', 'month'];

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** A time zone name that is not a valid IANA zone. */
export class InvalidTimeZoneError extends JoulehubError {}

// --- offsets -------------------------------------------------------------------------------------
// Intl is the source of truth for zone rules, but formatting is slow (tens of µs); period math asks
// for the same instants (period boundaries) again and again, so offsets are cached per instant.

const formatters = new Map<string, Intl.DateTimeFormat | null>();
const offsets = new Map<string, Map<number, number>>();
let cached = 0;
const MAX_CACHED = 500_000;

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz, hourCycle: 'h23', era: 'short',
        year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
      });
    } catch {
      f = null;
    }
    formatters.set(tz, f);
  }
  if (f === null) throw new InvalidTimeZoneError('INVALID_TIMEZONE', `unknown time zone "${tz}"`, { tz });
  return f;
}

/** True when `tz` names a time zone (e.g. Europe/Berlin, UTC). */
export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

function computeOffset(t: number, tz: string): number {
  const f: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(t)) f[p.type] = p.value;
  const year = f.era === 'BC' || f.era === 'B' ? 1 - Number(f.year) : Number(f.year);
  const d = new Date(0);
  d.setUTCFullYear(year, Number(f.month) - 1, Number(f.day));
  d.setUTCHours(Number(f.hour), Number(f.minute), Number(f.second), 0);
  return d.getTime() - (t - mod(t, 1000));
}

/** The zone's UTC offset at `t`, in ms (local = t + offset). */
export function offsetMs(t: number, tz: string): number {
  let m = offsets.get(tz);
  if (m === undefined) {
    formatter(tz);
    offsets.set(tz, (m = new Map()));
  }
  let o = m.get(t);
  if (o === undefined) {
    o = computeOffset(t, tz);
    if (cached >= MAX_CACHED) {
      for (const zone of offsets.values()) zone.clear();
      cached = 0;
    }
    m.set(t, o);
    cached++;
  }
  return o;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

// --- local dates -----------------------------------------------------------------------------------

/** The local calendar date of `t`, as the epoch ms of that date's midnight read as UTC. */
function localDate(t: number, tz: string): number {
  return Math.floor((t + offsetMs(t, tz)) / DAY_MS) * DAY_MS;
}

/** The first instant whose local date is `date` (a date's midnight read as UTC). */
function firstInstantOf(date: number, tz: string): number {
  const guess = date - offsetMs(date, tz);
  // Transitions are months apart: the offsets 3 h either side of the guess cover any one nearby.
  const candidates = new Set([offsetMs(guess - 3 * HOUR_MS, tz), offsetMs(guess, tz), offsetMs(guess + 3 * HOUR_MS, tz)]);
  let best = Number.POSITIVE_INFINITY;
  for (const o of candidates) {
    const c = date - o;
    if (offsetMs(c, tz) === o && c < best) best = c; // c reads local midnight; the earlier one wins
  }
  if (best !== Number.POSITIVE_INFINITY) return best;
  // Midnight falls into a gap: the date begins where the gap ends. Step to it by quarter-hours
  // (where today's transitions lie), then pin it down to the ms for old, odd offsets.
  let hi = Math.floor((guess - 3 * HOUR_MS) / BUCKET_MS) * BUCKET_MS;
  while (hi + offsetMs(hi, tz) < date) hi += BUCKET_MS;
  let lo = hi - BUCKET_MS;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid + offsetMs(mid, tz) < date) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** `date` (a midnight read as UTC) moved by whole months, on the 1st. */
function addMonths(date: number, months: number): number {
  const d = new Date(date);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
}

// --- periods ---------------------------------------------------------------------------------------

/** The start (label) of the local period containing `t`. */
export function periodStart(t: number, interval: PeriodInterval, tz: string): number {
  switch (interval) {
    case '15m':
      formatter(tz);
      return Math.floor(t / BUCKET_MS) * BUCKET_MS;
    case 'hour':
      return t - mod(t + offsetMs(t, tz), HOUR_MS);
    case 'day':
      return firstInstantOf(localDate(t, tz), tz);
    case 'month':
      return firstInstantOf(addMonths(localDate(t, tz), 0), tz);
  }
}

/**
 * Where the period containing `t` ends: the first instant after `t` that belongs to another period.
 * That is the next period's start, except where an offset changes by less than an hour
 * (Australia/Lord_Howe, +11 → +10:30): the hour after such a change is labelled by its local
 * wall-clock hour, which began before the change (as PostgreSQL's date_trunc does).
 */
export function nextPeriodStart(t: number, interval: PeriodInterval, tz: string): number {
  switch (interval) {
    case '15m':
      formatter(tz);
      return Math.floor(t / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
    case 'hour': {
      const start = periodStart(t, 'hour', tz);
      const off = offsetMs(start, tz);
      if (offsetMs(start + HOUR_MS, tz) === off && offsetMs(t, tz) === off) return start + HOUR_MS;
      // The offset changes within the hour: the period runs until the label changes.
      let b = Math.floor(t / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
      for (let i = 0; i < 8 && periodStart(b, 'hour', tz) === start; i++) b += BUCKET_MS;
      return b;
    }
    case 'day':
      return firstInstantOf(localDate(t, tz) + DAY_MS, tz);
    case 'month':
      return firstInstantOf(addMonths(localDate(t, tz), 1), tz);
  }
}

/**
 * The span of 15-minute buckets whose periods start in [start, end): from the first period
 * starting at or after `start` to the end of the period containing `end - 1`. Empty (from === to)
 * when no period starts in the range.
 */
export function periodSpan(start: number, end: number, interval: PeriodInterval, tz: string): { from: number; to: number } {
  const first = periodStart(start, interval, tz);
  const from = first === start ? start : nextPeriodStart(start, interval, tz);
  if (!(end > from)) return { from, to: from };
  const last = periodStart(end - 1, interval, tz);
  return last < from ? { from, to: from } : { from, to: nextPeriodStart(end - 1, interval, tz) };
}

export interface PeriodBounds {
  /** Where each period begins, in order, and (last element) where the last one ends: n + 1 instants. */
  bounds: number[];
  /** Each period's label (its start; differs from its bound only after a sub-hour offset change). */
  labels: number[];
}

/** The consecutive periods covering [from, to) (period boundaries, e.g. from periodSpan). */
export function periodBounds(from: number, to: number, interval: PeriodInterval, tz: string): PeriodBounds {
  const bounds: number[] = [];
  const labels: number[] = [];
  let p = from;
  for (; p < to; p = nextPeriodStart(p, interval, tz)) {
    bounds.push(p);
    labels.push(periodStart(p, interval, tz));
  }
  if (bounds.length > 0) bounds.push(p);
  return { bounds, labels };
}

/** The starts (labels) of all periods starting in [start, end), in order. */
export function periodStarts(start: number, end: number, interval: PeriodInterval, tz: string): number[] {
  const { from, to } = periodSpan(start, end, interval, tz);
  return periodBounds(from, to, interval, tz).labels.filter((l, i, all) => l >= start && l < end && l !== all[i - 1]);
}

export interface PeriodEnergy { start: number; kwh: number }

/** Groups 15-minute buckets by the local period containing each bucket's start; sorted by start. */
export function rollup(buckets: ReadonlyMap<number, number>, interval: PeriodInterval, tz: string): PeriodEnergy[] {
  formatter(tz);
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const sums = new Map<number, number>();
  // Buckets come sorted, so the period of the previous one usually still applies.
  let runStart = Number.POSITIVE_INFINITY;
  let runEnd = Number.NEGATIVE_INFINITY;
  let label = 0;
  for (const b of keys) {
    if (!(b >= runStart && b < runEnd)) {
      label = periodStart(b, interval, tz);
      runStart = b;
      runEnd = nextPeriodStart(b, interval, tz);
    }
    sums.set(label, (sums.get(label) ?? 0) + buckets.get(b)!);
  }
  return [...sums].sort((a, b) => a[0] - b[0]).map(([start, kwh]) => ({ start, kwh }));
}
