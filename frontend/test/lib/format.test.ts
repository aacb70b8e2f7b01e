import { describe, expect, it } from 'vitest';
import {
  addDays, formatDate, formatDateTime, formatEnergy, formatNumber, formatPower, formatState, formatTime,
  hoursOfDay, isCalendarDate, todayIn,
} from '../../src/lib/format.js';

// Intl output uses U+00A0 and U+202F in places; compare with plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('formatting', () => {
  it('scales power from W to kW and MW with about three significant digits', () => {
    expect(plain(formatPower(0, 'en'))).toBe('0 W');
    expect(plain(formatPower(7.456, 'en'))).toBe('7.46 W');
    expect(plain(formatPower(850, 'en'))).toBe('850 W');
    expect(plain(formatPower(999.4, 'en'))).toBe('999 W');
    expect(plain(formatPower(1000, 'en'))).toBe('1 kW');
    expect(plain(formatPower(1234, 'en'))).toBe('1.23 kW');
    expect(plain(formatPower(12_345, 'en'))).toBe('12.3 kW');
    expect(plain(formatPower(-2500, 'en'))).toBe('-2.5 kW');
    expect(plain(formatPower(3_400_000, 'en'))).toBe('3.4 MW');
  });

  it('writes numbers in the locale: a German user gets a decimal comma', () => {
    expect(plain(formatPower(1234, 'de-DE'))).toBe('1,23 kW');
    expect(plain(formatEnergy(12.345, 'de-DE'))).toBe('12,3 kWh');
    expect(plain(formatNumber(1234.5, 'de-DE', 1))).toBe('1.234,5');
    expect(plain(formatNumber(1234.5, 'en-US', 1))).toBe('1,234.5');
  });

  it('scales energy given in kWh to Wh and MWh', () => {
    expect(plain(formatEnergy(0.45, 'en'))).toBe('450 Wh');
    expect(plain(formatEnergy(1.5, 'en'))).toBe('1.5 kWh');
    expect(plain(formatEnergy(2500, 'en'))).toBe('2.5 MWh');
    expect(formatEnergy(Number.NaN, 'en')).toBe('–');
  });

  it('formats a state by its kind', () => {
    expect(plain(formatState('power', 2200, null, 'en'))).toBe('2.2 kW');
    expect(plain(formatState('energy_total', 1234.5, null, 'en'))).toBe('1.23 MWh');
    expect(plain(formatState('voltage', 230.1, null, 'en'))).toBe('230 V');
    expect(formatState('switch', 1, 'on', 'en')).toBe('on');
    expect(formatState('power', null, null, 'en')).toBe('–');
  });

  it('shows instants in the user\'s time zone, not the browser\'s', () => {
    const t = '2026-07-01T12:30:00Z';
    expect(plain(formatTime(t, 'en-GB', 'Europe/Berlin'))).toBe('14:30');
    expect(plain(formatTime(t, 'en-GB', 'Asia/Kathmandu'))).toBe('18:15');
    expect(plain(formatTime(t, 'en-US', 'America/New_York'))).toBe('08:30 AM');
    expect(plain(formatDateTime(t, 'en-GB', 'Pacific/Auckland'))).toBe('2 Jul 2026, 00:30');
  });

  it('finds today\'s date in a zone and does calendar arithmetic', () => {
    const t = Date.parse('2026-03-28T23:30:00Z');
    expect(todayIn('UTC', t)).toBe('2026-03-28');
    expect(todayIn('Europe/Berlin', t)).toBe('2026-03-29');
    expect(todayIn('America/Los_Angeles', t)).toBe('2026-03-28');
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2026-03-29')).toBe(true);
    expect(isCalendarDate('29.03.2026')).toBe(false);
    expect(formatDate('2026-03-29', 'en-GB')).toBe('Sun, 29 Mar 2026');
  });
});

describe('hours of a day in a time zone', () => {
  it('has 24 hours on an ordinary day, starting at local midnight', () => {
    const hours = hoursOfDay('2026-07-01', 'Europe/Berlin');
    expect(hours.length).toBe(24);
    expect(new Date(hours[0]!).toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(hoursOfDay('2026-07-01', 'Asia/Kathmandu').map((t) => new Date(t).toISOString())[0]).toBe('2026-06-30T18:15:00.000Z');
  });

  it('has 23 hours on the spring-forward day and 25 on the fall-back day', () => {
    expect(hoursOfDay('2026-03-29', 'Europe/Berlin').length).toBe(23);
    expect(hoursOfDay('2026-10-25', 'Europe/Berlin').length).toBe(25);
    expect(hoursOfDay('2026-03-08', 'America/New_York').length).toBe(23);
    const fall = hoursOfDay('2026-10-25', 'Europe/Berlin').map((t) => plain(formatTime(t, 'en-GB', 'Europe/Berlin')));
    expect(fall.slice(0, 5)).toEqual(['00:00', '01:00', '02:00', '02:00', '03:00']);
  });
});
