/**
 * Numbers in the user's locale with sensible units (W → kW → MW, Wh → kWh → MWh), instants in the
 * user's time zone, and calendar dates in a zone. Pure; Intl formatters are cached because cards
 * format on every live update.
 */

/** Between a number and its unit, so "1.5 kW" never wraps. */
export const UNIT_SPACE = '\u00a0';

const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function numberFormat(locale: string | undefined, min: number, max: number): Intl.NumberFormat {
  const key = `${locale ?? ''}|${min}|${max}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { minimumFractionDigits: min, maximumFractionDigits: max });
    numberFormats.set(key, f);
  }
  return f;
}

/** Fraction digits so a figure shows about three significant digits (1.23, 12.3, 123, 1,234). */
function digitsFor(abs: number): number {
  if (abs === 0 || abs >= 100) return 0;
  if (abs >= 10) return 1;
  return 2;
}

export function formatNumber(value: number, locale?: string, maxFractionDigits?: number): string {
  if (!Number.isFinite(value)) return '–';
  const max = maxFractionDigits ?? digitsFor(Math.abs(value));
  return numberFormat(locale, 0, max).format(value);
}

interface Scale { factor: number; unit: string }

function scaled(value: number, scales: Scale[], locale: string | undefined): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  let pick = scales[0]!;
  for (const s of scales) if (abs >= s.factor) pick = s;
  const v = value / pick.factor;
  return `${numberFormat(locale, 0, digitsFor(Math.abs(v))).format(v)}${UNIT_SPACE}${pick.unit}`;
}

const POWER: Scale[] = [{ factor: 1, unit: 'W' }, { factor: 1e3, unit: 'kW' }, { factor: 1e6, unit: 'MW' }, { factor: 1e9, unit: 'GW' }];
/** Scales over kWh values. */
const ENERGY: Scale[] = [{ factor: 1e-3, unit: 'Wh' }, { factor: 1, unit: 'kWh' }, { factor: 1e3, unit: 'MWh' }, { factor: 1e6, unit: 'GWh' }];

/** Power given in W: "850 W", "1.25 kW", "3.4 MW". */
export function formatPower(watts: number, locale?: string): string {
  return scaled(watts, POWER, locale);
}

/** Energy given in kWh: "450 Wh", "12.3 kWh", "1.2 MWh". */
export function formatEnergy(kwh: number, locale?: string): string {
  return scaled(kwh, ENERGY, locale);
}

const KIND_UNIT: Record<string, string> = { voltage: 'V', current: 'A', frequency: 'Hz' };

/** A state value by its entity kind (canonical units on the wire: W, kWh, V, A, Hz). */
export function formatState(kind: string, value: number | null, text: string | null, locale?: string): string {
  if (kind === 'switch') return text ?? (value === 1 ? 'on' : value === 0 ? 'off' : '–');
  if (value === null) return text ?? '–';
  if (kind === 'power') return formatPower(value, locale);
  if (kind === 'energy_total' || kind === 'energy_interval') return formatEnergy(value, locale);
  if (kind === 'power_factor') return formatNumber(value, locale, 2);
  const unit = KIND_UNIT[kind];
  return unit ? `${formatNumber(value, locale)}${UNIT_SPACE}${unit}` : formatNumber(value, locale);
}

function dateFormat(locale: string | undefined, timeZone: string | undefined, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale ?? ''}|${timeZone ?? ''}|${JSON.stringify(opts)}`;
  let f = dateFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...opts, timeZone });
    dateFormats.set(key, f);
  }
  return f;
}

const toDate = (t: string | number | Date) => (t instanceof Date ? t : new Date(t));

/** "23 Nov 2026, 14:05" in the user's locale and zone. */
export function formatDateTime(t: string | number | Date, locale?: string, timeZone?: string): string {
  return dateFormat(locale, timeZone, { dateStyle: 'medium', timeStyle: 'short' }).format(toDate(t));
}

/** "14:05" (or "2:05 PM") in the user's locale and zone. */
export function formatTime(t: string | number | Date, locale?: string, timeZone?: string): string {
  return dateFormat(locale, timeZone, { hour: '2-digit', minute: '2-digit' }).format(toDate(t));
}

/** "Mon, 23 Nov 2026" for a calendar date `YYYY-MM-DD` (a date, not an instant: no zone shift). */
export function formatDate(date: string, locale?: string): string {
  return dateFormat(locale, 'UTC', { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' }).format(new Date(`${date}T12:00:00Z`));
}

/** Today's calendar date in `timeZone`, as `YYYY-MM-DD`. */
export function todayIn(timeZone: string | undefined, now: number = Date.now()): string {
  const parts = dateFormat('en-CA', timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(now));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** `YYYY-MM-DD` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  return addDays(text, 0) === text;
}

/** The browser's IANA zone, or UTC when it has none. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** `tag` when this browser's Intl takes it as a locale, else undefined (a value stored by an older browser). */
export function usableLocale(tag: string | null | undefined): string | undefined {
  if (!tag) return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** `zone` when this browser's Intl knows it, else undefined (so formatting never throws on it). */
export function usableTimeZone(zone: string | null | undefined): string | undefined {
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

/**
 * Chromium's and Node's Intl (CLDR) list some zones under names IANA has since replaced; users know
 * the current ones (Asia/Kathmandu, not Asia/Katmandu). Both names work with Intl and PostgreSQL.
 */
const CURRENT_ZONE_NAMES: Record<string, string> = {
  'Africa/Asmera': 'Africa/Asmara',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Coral_Harbour': 'America/Atikokan',
  'America/Cordoba': 'America/Argentina/Cordoba',
  'America/Godthab': 'America/Nuuk',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Louisville': 'America/Kentucky/Louisville',
  'America/Mendoza': 'America/Argentina/Mendoza',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Europe/Kiev': 'Europe/Kyiv',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Truk': 'Pacific/Chuuk',
};

/** The current IANA name of a zone this browser may know by an older one. */
export function currentZoneName(zone: string): string {
  return CURRENT_ZONE_NAMES[zone] ?? zone;
}

/** The zones a user can pick, by current IANA names, sorted, UTC included. */
export function timeZoneChoices(): string[] {
  let list: string[] = [];
  try {
    list = Intl.supportedValuesOf('timeZone');
  } catch {
    // an old browser: only the stored value and the browser's own are offered
  }
  const names = new Set(['UTC', ...list.map(currentZoneName)]);
  return [...names].filter((z) => usableTimeZone(z)).sort();
}

/** The browser's own locale (what is used while the account has none stored). */
export function browserLocale(): string {
  return (typeof navigator !== 'undefined' && navigator.language) || 'en';
}

/** "5 min ago"-style text for an instant relative to `now`. */
export function formatRelative(t: string | number | Date, locale?: string, now: number = Date.now()): string {
  const seconds = Math.round((toDate(t).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** Offset of `timeZone` from UTC at instant `t`, in ms (positive east of Greenwich). */
export function zoneOffsetMs(t: number, timeZone: string): number {
  const parts = dateFormat('en-US', timeZone, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(t));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return local - (t - (((t % 1000) + 1000) % 1000));
}

/** The instant a calendar day starts in `timeZone` (its local midnight, or the first moment after). */
export function startOfDay(date: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - zoneOffsetMs(wall, timeZone);
  t = wall - zoneOffsetMs(t, timeZone);
  return t;
}

/** Start instants of the hours of a calendar day in `timeZone`: 24, or 23/25 on DST days. */
export function hoursOfDay(date: string, timeZone: string): number[] {
  const start = startOfDay(date, timeZone);
  const end = startOfDay(addDays(date, 1), timeZone);
  const hours: number[] = [];
  for (let t = start; t < end; t += 3_600_000) hours.push(t);
  return hours;
}
