import { describe, expect, it } from 'vitest';
import {
  BUCKET_MS, InvalidTimeZoneError, nextPeriodStart, offsetMs, periodBounds, periodSpan, periodStart, periodStarts, rollup,
} from '../../src/energy/index.js';

const H = 3_600_000;
const iso = (t: number): string => new Date(t).toISOString();

/** A full day of 15-minute buckets of 1 kWh each, from `from` (inclusive) to `to` (exclusive). */
function flat(from: number, to: number, kwh = 1): Map<number, number> {
  const m = new Map<number, number>();
  for (let b = from; b < to; b += BUCKET_MS) m.set(b, kwh);
  return m;
}

describe('local periods', () => {
  it('cuts days in the time zone', () => {
    const t = Date.UTC(2025, 5, 15, 21, 30); // 23:30 in Berlin (CEST)
    expect(iso(periodStart(t, 'day', 'Europe/Berlin'))).toBe('2025-06-14T22:00:00.000Z');
    expect(iso(nextPeriodStart(t, 'day', 'Europe/Berlin'))).toBe('2025-06-15T22:00:00.000Z');
    expect(iso(periodStart(t, 'day', 'UTC'))).toBe('2025-06-15T00:00:00.000Z');
    expect(iso(periodStart(t, 'month', 'Europe/Berlin'))).toBe('2025-05-31T22:00:00.000Z');
    expect(iso(nextPeriodStart(t, 'month', 'Europe/Berlin'))).toBe('2025-06-30T22:00:00.000Z');
    expect(iso(periodStart(t + 7 * 60_000, '15m', 'Europe/Berlin'))).toBe('2025-06-15T21:30:00.000Z');
  });

  it('Europe/Berlin 2025-03-30 has 92 quarter-hours and 23 hours; 2025-10-26 has 100 and 25', () => {
    const spring = Date.UTC(2025, 2, 29, 23);
    const springEnd = nextPeriodStart(spring, 'day', 'Europe/Berlin');
    expect(springEnd - spring).toBe(23 * H);
    expect(periodStarts(spring, springEnd, '15m', 'Europe/Berlin')).toHaveLength(92);
    expect(periodStarts(spring, springEnd, 'hour', 'Europe/Berlin')).toHaveLength(23);

    const autumn = Date.UTC(2025, 9, 25, 22);
    const autumnEnd = nextPeriodStart(autumn, 'day', 'Europe/Berlin');
    expect(autumnEnd - autumn).toBe(25 * H);
    expect(periodStarts(autumn, autumnEnd, '15m', 'Europe/Berlin')).toHaveLength(100);
    const hours = periodStarts(autumn, autumnEnd, 'hour', 'Europe/Berlin');
    expect(hours).toHaveLength(25);
    // The repeated 02:00 hour is two periods, one hour apart.
    expect(hours.map(iso)).toContain('2025-10-26T00:00:00.000Z');
    expect(hours.map(iso)).toContain('2025-10-26T01:00:00.000Z');

    const days = rollup(flat(spring, autumnEnd), 'day', 'Europe/Berlin');
    expect(days[0]).toEqual({ start: spring, kwh: 92 });
    expect(days.at(-1)).toEqual({ start: autumn, kwh: 100 });
  });

  it('Asia/Kathmandu (+05:45): hours and days start on bucket boundaries and totals are exact', () => {
    const tz = 'Asia/Kathmandu';
    expect(offsetMs(Date.UTC(2025, 0, 1), tz)).toBe(5.75 * H);
    const dayStart = Date.UTC(2025, 0, 1) - 5.75 * H; // local midnight
    expect(periodStart(dayStart + 10 * H, 'day', tz)).toBe(dayStart);
    expect(iso(periodStart(Date.UTC(2025, 0, 1, 3, 20), 'hour', tz))).toBe('2025-01-01T03:15:00.000Z');
    for (const interval of ['hour', 'day', 'month'] as const) {
      for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2025, 0, 3); t += 7 * 60_000) {
        expect(periodStart(t, interval, tz) % BUCKET_MS).toBe(0);
      }
    }
    // Three local days of 1 kWh per quarter-hour → exactly 96 kWh each, 24 hours of 4 kWh each.
    const buckets = flat(dayStart, dayStart + 3 * 24 * H);
    expect(rollup(buckets, 'day', tz)).toEqual([0, 1, 2].map((d) => ({ start: dayStart + d * 24 * H, kwh: 96 })));
    const hours = rollup(buckets, 'hour', tz);
    expect(hours).toHaveLength(72);
    expect(hours.every((h) => h.kwh === 4)).toBe(true);
  });

  it('every zone in use today has offsets that are multiples of 15 minutes', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    expect(zones.length).toBeGreaterThan(300);
    for (const tz of zones) {
      for (const t of [Date.UTC(2025, 0, 15), Date.UTC(2025, 6, 15)]) {
        expect(Math.abs(offsetMs(t, tz) % BUCKET_MS), tz).toBe(0);
      }
    }
  });

  it('spans the buckets of the periods that start in [start, end)', () => {
    const tz = 'Europe/Berlin';
    const d = Date.UTC(2025, 5, 1, 22); // 2 June 00:00 local
    expect(periodSpan(d, d + 48 * H, 'day', tz)).toEqual({ from: d, to: d + 48 * H });
    // A day starting before `start` is left out; the day containing `end - 1` is whole.
    expect(periodSpan(d + H, d + 25 * H, 'day', tz)).toEqual({ from: d + 24 * H, to: d + 48 * H });
    expect(periodSpan(d + H, d + 2 * H, 'day', tz).from).toBe(periodSpan(d + H, d + 2 * H, 'day', tz).to);
    expect(periodSpan(d + 7 * 60_000, d + H, '15m', tz)).toEqual({ from: d + BUCKET_MS, to: d + H });
  });

  it('labels hours like PostgreSQL where the offset changes by half an hour (Australia/Lord_Howe)', () => {
    const tz = 'Australia/Lord_Howe';
    // 2025-04-06 02:00 +11 becomes 01:30 +10:30 (15:00 UTC). date_trunc('hour', t, tz) keeps t's offset.
    const at = (hhmm: string): number => Date.parse(`2025-04-05T${hhmm}:00Z`);
    expect(periodStart(at('14:45'), 'hour', tz)).toBe(at('14:00'));
    expect(periodStart(at('15:00'), 'hour', tz)).toBe(at('14:30'));
    expect(periodStart(at('15:30'), 'hour', tz)).toBe(at('15:30'));
    expect(nextPeriodStart(at('14:07'), 'hour', tz)).toBe(at('15:00'));
    expect(nextPeriodStart(at('15:00'), 'hour', tz)).toBe(at('15:30'));
    const hours = rollup(flat(at('14:00'), at('16:30')), 'hour', tz);
    expect(hours).toEqual([
      { start: at('14:00'), kwh: 4 },
      { start: at('14:30'), kwh: 2 },
      { start: at('15:30'), kwh: 4 },
    ]);
  });

  it('starts a day at its first instant where DST changes at midnight', () => {
    // Chile springs forward at 00:00: 11 September 2022 begins at 01:00 local and has 23 hours.
    const santiago = periodStart(Date.parse('2022-09-11T12:00:00Z'), 'day', 'America/Santiago');
    expect(iso(santiago)).toBe('2022-09-11T04:00:00.000Z');
    expect(nextPeriodStart(santiago, 'day', 'America/Santiago') - santiago).toBe(23 * H);
    expect(periodStarts(santiago, santiago + 23 * H, '15m', 'America/Santiago')).toHaveLength(92);
    // Cuba falls back from 01:00 to 00:00: 1 November 2020 begins at the first of its two midnights.
    const havana = periodStart(Date.parse('2020-11-01T12:00:00Z'), 'day', 'America/Havana');
    expect(iso(havana)).toBe('2020-11-01T04:00:00.000Z');
    expect(nextPeriodStart(havana, 'day', 'America/Havana') - havana).toBe(25 * H);
    expect(periodStarts(havana, havana + 25 * H, 'hour', 'America/Havana')).toHaveLength(25);
  });

  it('lists consecutive period bounds with their labels', () => {
    const tz = 'Europe/Berlin';
    const start = Date.UTC(2025, 0, 31, 23);
    const { bounds, labels } = periodBounds(start, Date.UTC(2025, 3, 30, 22), 'month', tz);
    expect(bounds.map(iso)).toEqual(['2025-01-31T23:00:00.000Z', '2025-02-28T23:00:00.000Z', '2025-03-31T22:00:00.000Z', '2025-04-30T22:00:00.000Z']);
    expect(labels).toEqual(bounds.slice(0, -1));
    expect(periodBounds(start, start, 'day', tz)).toEqual({ bounds: [], labels: [] });
  });

  it('refuses an unknown time zone with a typed error', () => {
    expect(() => periodStart(0, 'day', 'Mars/Olympus')).toThrow(InvalidTimeZoneError);
    expect(() => rollup(new Map(), 'day', 'Nowhere')).toThrow(/unknown time zone "Nowhere"/);
  });
});
