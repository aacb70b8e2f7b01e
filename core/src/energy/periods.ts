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

/** The start of the local period after the one containing `t`. */
export function nextPeriodStart(t: number, interval: PeriodInterval, tz: string): number {
  const start = periodStart(t, interval, tz);
  switch (interval) {
    case '15m':
      return start + BUCKET_MS;
    case 'hour': {
      // Where an offset changes by less than an hour (Australia/Lord_Howe), a local hour is shorter.
      const next = periodStart(start + HOUR_MS, 'hour', tz);
      return next > start ? next : start + HOUR_MS;
    }
    case 'day':
      return DateTime.fromMillis(start, { zone: zoneOf(tz) }).plus({ days: 1 }).startOf('day').toMillis();
    case 'month':
      return DateTime.fromMillis(start, { zone: zoneOf(tz) }).plus({ months: 1 }).startOf('month').toMillis();
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

/** The starts of all periods starting in [start, end). */
export function periodStarts(start: number, end: number, interval: PeriodInterval, tz: string): number[] {
  const out: number[] = [];
  const { from, to } = periodSpan(start, end, interval, tz);
  for (let p = from; p < to; p = nextPeriodStart(p, interval, tz)) out.push(p);
  return out;
}

export interface PeriodEnergy { start: number; kwh: number }

/** Groups 15-minute buckets by the local period containing each bucket's start; sorted by start. */
export function rollup(buckets: ReadonlyMap<number, number>, interval: PeriodInterval, tz: string): PeriodEnergy[] {
  zoneOf(tz);
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const out: PeriodEnergy[] = [];
  let current: PeriodEnergy | undefined;
  let currentEnd = Number.NEGATIVE_INFINITY;
  for (const b of keys) {
    if (current === undefined || b >= currentEnd) {
      const start = periodStart(b, interval, tz);
      currentEnd = nextPeriodStart(b, interval, tz);
      current = { start, kwh: 0 };
      out.push(current);
    }
    current.kwh += buckets.get(b)!;
  }
  return out;
}
