/**
 * The one reading of timestamps in files and payloads: ISO 8601 / RFC 3339 with an explicit offset.
 * A time without an offset is refused: a meter's local clock is ambiguous across DST. Shared by
 * `joulehub import` and integrations (csv-replay) through the SDK. Runs once per row of files with
 * millions of rows, so: one capture-free shape test, a few character checks for what Date.parse
 * would silently roll over (2025-02-30, 24:00), then Date.parse.
 */

const SHAPE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})$/;

/** Days in each month of a common year (for core's fast readers; not part of the SDK's index). */
export const DAYS_IN_MONTH: readonly number[] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function twoDigits(s: string, at: number): number {
  return (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);
}

/**
 * Epoch milliseconds of `2025-04-07T00:00:00Z`, `2025-04-07 02:00+02:00`, `…T05:45:00.5+0545`
 * (surrounding spaces allowed); NaN when the text is not such a time, names no offset, or is not a
 * real calendar instant (2025-02-30, 24:00, minute 60, offset +25:00).
 */
export function parseInstant(text: string): number {
  let s = text;
  if (!SHAPE.test(s)) {
    s = s.trim();
    if (!SHAPE.test(s)) return Number.NaN;
  }
  const year = twoDigits(s, 0) * 100 + twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  if (month < 1 || month > 12 || day < 1 || twoDigits(s, 11) > 23) return Number.NaN;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0)) return Number.NaN;
  // Date.parse refuses minute or second 60 and offsets beyond ±23:59 by itself (NaN).
  return Date.parse(s);
}
