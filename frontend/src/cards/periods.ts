/**
 * Calendar periods in the user's time zone, as the energy API takes them (local dates and
 * date-times plus `tz`, so the hub cuts days and months across DST itself). Pure.
 */
import { addDays, todayIn } from '../lib/format.js';

export type Period = 'today' | 'yesterday' | 'week' | 'month' | 'year';
export const PERIODS: readonly Period[] = ['today', 'yesterday', 'week', 'month', 'year'];

export interface LocalRange { start: string; end: string }

function monthStart(date: string): string { return `${date.slice(0, 7)}-01`; }

function addMonths(firstOfMonth: string, n: number): string {
  const [y, m] = firstOfMonth.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + n, 1));
  return d.toISOString().slice(0, 10);
}

/** `[start, end)` of a period as local calendar dates. `week` = the last 7 days including today. */
export function periodRange(period: Period, timeZone: string | undefined, now: number = Date.now()): LocalRange {
  const today = todayIn(timeZone, now);
  switch (period) {
    case 'today': return { start: today, end: addDays(today, 1) };
    case 'yesterday': return { start: addDays(today, -1), end: today };
    case 'week': return { start: addDays(today, -6), end: addDays(today, 1) };
    case 'month': return { start: monthStart(today), end: addMonths(monthStart(today), 1) };
    case 'year': return { start: `${today.slice(0, 4)}-01-01`, end: `${Number(today.slice(0, 4)) + 1}-01-01` };
  }
}

const partsFormats = new Map<string, Intl.DateTimeFormat>();

/** The local date-time `YYYY-MM-DDTHH:MM:SS` of an instant in `timeZone`. */
export function localDateTime(timeZone: string | undefined, now: number = Date.now()): string {
  const key = timeZone ?? '';
  let f = partsFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    partsFormats.set(key, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(now)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

/**
 * So far in this period, and the same stretch of the previous one (for trends): today until now
 * vs yesterday until the same time; this month until now vs last month until the same day and time
 * (clamped to the shorter month's end).
 */
export function soFarAndBefore(period: 'today' | 'month', timeZone: string | undefined, now: number = Date.now()): { current: LocalRange; previous: LocalRange } {
  const nowLocal = localDateTime(timeZone, now);
  const today = nowLocal.slice(0, 10);
  const time = nowLocal.slice(10); // "THH:MM:SS"
  if (period === 'today') {
    const yesterday = addDays(today, -1);
    return { current: { start: today, end: nowLocal }, previous: { start: yesterday, end: `${yesterday}${time}` } };
  }
  const start = monthStart(today);
  const prevStart = addMonths(start, -1);
  const prevLastDay = addDays(start, -1);
  const sameDay = `${prevStart.slice(0, 8)}${today.slice(8, 10)}`;
  const prevEnd = sameDay > prevLastDay ? `${start}T00:00:00` : `${sameDay}${time}`;
  return { current: { start, end: nowLocal }, previous: { start: prevStart, end: prevEnd } };
}

/** Relative change in percent, or undefined when there is nothing to compare with. */
export function trendPercent(current: number, previous: number): number | undefined {
  if (!Number.isFinite(current) || !Number.isFinite(previous) || previous === 0) return undefined;
  return ((current - previous) / Math.abs(previous)) * 100;
}

const labelFormats = new Map<string, Intl.DateTimeFormat>();

/** Axis label of an energy bucket: "14:00" for hours and quarter-hours, "23 Nov" for days, "Nov 2026" for months. */
export function bucketLabel(datetime: string, interval: string, locale: string | undefined, timeZone: string | undefined): string {
  const key = `${interval}|${locale ?? ''}|${timeZone ?? ''}`;
  let f = labelFormats.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions = interval === 'month' ? { month: 'short', year: 'numeric' }
      : interval === 'day' ? { day: 'numeric', month: 'short' } : { hour: '2-digit', minute: '2-digit' };
    f = new Intl.DateTimeFormat(locale, { ...opts, timeZone });
    labelFormats.set(key, f);
  }
  return f.format(new Date(datetime));
}
