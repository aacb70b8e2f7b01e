/**
 * Local periods (quarter-hour, hour, day, month) in an IANA time zone, and rolling 15-minute
 * buckets up into them. Hours keep the offset of the instant being truncated, like PostgreSQL's
 * date_trunc(unit, t, zone): the repeated hour of a fall-back night is two hours, so a DST day has
 * 23 or 25 hourly periods and 92 or 100 quarter-hours.
 */
import { DateTime, IANAZone } from 'luxon';
import { JoulehubError } from '../sdk/errors.js';
import { BUCKET_MS } from './types.js';

export type PeriodInterval = '15m' | 'hour' | 'day' | 'month';

export const PERIOD_INTERVALS: readonly PeriodInterval[] = ['15m', 'hour', 'day', 'month'];

const HOUR_MS = 3_600_000;

/** A time zone name that is not a valid IANA zone. */
export class InvalidTimeZoneError extends JoulehubError {}

function zoneOf(tz: string): IANAZone {
  const zone = IANAZone.create(tz);
  if (!zone.isValid) throw new InvalidTimeZoneError('INVALID_TIMEZONE', `unknown time zone "${tz}"`, { tz });
  return zone;
}

/** True when `tz` names an IANA time zone (e.g. Europe/Berlin, UTC). */
export function isValidTimeZone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

/** The zone's UTC offset at `t`, in ms. */
export function offsetMs(t: number, tz: string): number {
  return zoneOf(tz).offset(t) * 60_000;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** The start of the local period containing `t`. */
export function periodStart(t: number, interval: PeriodInterval, tz: string): number {
  switch (interval) {
    case '15m':
      zoneOf(tz);
      return Math.floor(t / BUCKET_MS) * BUCKET_MS;
    case 'hour': {
      const off = zoneOf(tz).offset(t) * 60_000;
      return t - mod(t + off, HOUR_MS);
    }
    case 'day':
    case 'month':
      return DateTime.fromMillis(t, { zone: zoneOf(tz) }).startOf(interval).toMillis();
  }
}

/**
 * Where the period containing `t` ends: the first instant after `t` that belongs to another period.
 * That is the next period's start, except where an offset changes by less than an hour
 * (Australia/Lord_Howe, +11 → +10:30): PostgreSQL, and so this module, label the hour after such a
 * change by its local wall-clock hour, which began before the change.
 */
export function nextPeriodStart(t: number, interval: PeriodInterval, tz: string): number {
  const zone = zoneOf(tz);
  const start = periodStart(t, interval, tz);
  switch (interval) {
    case '15m':
      return start + BUCKET_MS;
    case 'hour': {
      const off = zone.offset(start);
      if (zone.offset(start + HOUR_MS) === off && zone.offset(t) === off) return start + HOUR_MS;
      // The offset changes within the hour: the period runs until the label changes.
      let b = Math.floor(t / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
      for (let i = 0; i < 8 && periodStart(b, 'hour', tz) === start; i++) b += BUCKET_MS;
      return b;
    }
    case 'day':
      return DateTime.fromMillis(start, { zone }).plus({ days: 1 }).startOf('day').toMillis();
    case 'month':
      return DateTime.fromMillis(start, { zone }).plus({ months: 1 }).startOf('month').toMillis();
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
  return last < from ? { from, to: from } : { from, to: nextPeriodStart(last, interval, tz) };
}

/** The starts (labels) of all periods starting in [start, end), in order. */
export function periodStarts(start: number, end: number, interval: PeriodInterval, tz: string): number[] {
  const out: number[] = [];
  const { from, to } = periodSpan(start, end, interval, tz);
  for (let p = from; p < to; p = nextPeriodStart(p, interval, tz)) {
    const label = periodStart(p, interval, tz);
    if (label >= start && label < end && label !== out.at(-1)) out.push(label);
  }
  return out;
}

export interface PeriodEnergy { start: number; kwh: number }

/** Groups 15-minute buckets by the local period containing each bucket's start; sorted by start. */
export function rollup(buckets: ReadonlyMap<number, number>, interval: PeriodInterval, tz: string): PeriodEnergy[] {
  zoneOf(tz);
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
