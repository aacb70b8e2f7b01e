/** Local time in a zone, daily windows (crossing midnight) and sun times: pure functions. */
import * as SunCalc from 'suncalc';
import { WEEKDAYS, type Weekday, type Window } from './rule.js';

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

export interface LocalTime { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: Weekday }

export function localTime(t: number, tz: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) parts[p.type] = p.value;
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
    hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second),
    weekday: parts.weekday!.toLowerCase().slice(0, 3) as Weekday,
  };
}

/** Hours since local midnight as the wall clock shows them (07:30 → 7.5). */
export function localHours(t: number, tz: string): number {
  const l = localTime(t, tz);
  return l.hour + l.minute / 60 + l.second / 3600;
}

export function previousWeekday(d: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(d) + 6) % 7]!;
}

export function nextWeekday(d: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(d) + 1) % 7]!;
}

/** Windows sorted numerically by start, then end. */
export function sortWindows<W extends { 0: number; 1: number } | { from: number; to: number }>(ws: readonly W[]): W[] {
  const from = (w: W) => ('from' in w ? w.from : w[0]);
  const to = (w: W) => ('to' in w ? w.to : w[1]);
  return [...ws].sort((a, b) => from(a) - from(b) || to(a) - to(b));
}

/** Whether hour `h` of a day lies in [from, to); from > to crosses midnight; from === to is all day. */
export function inWindow(h: number, [from, to]: Window): boolean {
  if (from === to) return true;
  return from < to ? h >= from && h < to : h >= from || h < to;
}

/**
 * Windows per weekday → is `t` inside one? A window crossing midnight belongs to the day it starts:
 * Monday's [22, 6] covers Monday 22:00 to Tuesday 06:00.
 */
export function insideWeekly(t: number, tz: string, byDay: (d: Weekday) => readonly Window[]): Window | undefined {
  const l = localTime(t, tz);
  const h = l.hour + l.minute / 60 + l.second / 3600;
  for (const w of byDay(l.weekday)) {
    const [from, to] = w;
    if (from === to || (from < to ? h >= from && h < to : h >= from)) return w;
  }
  for (const w of byDay(previousWeekday(l.weekday))) {
    if (w[0] > w[1] && h < w[1]) return w;
  }
  return undefined;
}

/** "HH:MM" of fractional hours. */
export function hhmm(h: number): string {
  const total = Math.round(h * 60);
  return `${String(Math.floor(total / 60) % 24).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

export function parseHhmm(s: string): number {
  const [h, m] = s.split(':').map(Number);
  return h! + m! / 60;
}

const DOW: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** A croner pattern for local time-of-day `h` on the given weekdays (hour 24 = 00:00 the next day). */
export function cronAt(h: number, days: readonly Weekday[]): string {
  let total = Math.round(h * 60);
  let ds = days;
  if (total >= 1440) {
    total -= 1440;
    ds = days.map(nextWeekday);
  }
  const dow = ds.length === 7 ? '*' : [...new Set(ds.map((d) => DOW[d]))].sort().join(',');
  return `${total % 60} ${Math.floor(total / 60)} * * ${dow}`;
}

/** `t`'s local date at noon UTC-ish, for suncalc (which wants a date on the day). */
function localNoon(t: number, tz: string): Date {
  const l = localTime(t, tz);
  return new Date(Date.UTC(l.year, l.month - 1, l.day, 12));
}

/** The next sunrise/sunset (+ offset) strictly after `t`, or null when the sun does not rise/set for a year. */
export function nextSunEvent(t: number, tz: string, event: 'sunrise' | 'sunset', lat: number, lon: number, offsetMin = 0): number | null {
  const day = 86_400_000;
  for (let i = -1; i < 370; i++) {
    const date = new Date(localNoon(t, tz).getTime() + i * day);
    const times = SunCalc.getTimes(date, lat, lon) as unknown as Record<string, Date | null | undefined>;
    const at = times[event];
    if (!at || Number.isNaN(at.getTime())) continue;
    const when = at.getTime() + offsetMin * 60_000;
    if (when > t) return when;
  }
  return null;
}
