/**
 * Reading timestamps of imported files: ISO 8601 / RFC 3339 with an explicit offset. A time
 * without an offset is refused: a meter's local clock is ambiguous across DST. Runs once per row
 * of files with millions of rows, so: one capture-free shape test, a few character checks for
 * what Date.parse would silently roll over (2025-02-30, 24:00), then Date.parse.
 */

const SHAPE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

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

/**
 * Epoch ms of `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ` at text[s, e) — the form almost
 * every readings file uses — read in place, with the date's start cached between calls; NaN for
 * anything else (the caller then asks parseInstant, which gives the same result for these forms).
 */
export function instantReader(): (text: string, s: number, e: number) => number {
  let dayKey = -1;
  let dayMs = 0;
  const digit = (text: string, i: number): number => {
    const c = text.charCodeAt(i) - 48;
    return c >= 0 && c <= 9 ? c : -1000;
  };
  const two = (text: string, i: number): number => digit(text, i) * 10 + digit(text, i + 1);
  return (text, s, e) => {
    const len = e - s;
    if ((len !== 20 && len !== 24) || text.charCodeAt(e - 1) !== 90 /* Z */) return Number.NaN;
    if (text.charCodeAt(s + 4) !== 45 || text.charCodeAt(s + 7) !== 45 || text.charCodeAt(s + 10) !== 84 /* T */
      || text.charCodeAt(s + 13) !== 58 || text.charCodeAt(s + 16) !== 58) return Number.NaN;
    let ms = 0;
    if (len === 24) {
      if (text.charCodeAt(s + 19) !== 46) return Number.NaN;
      ms = digit(text, s + 20) * 100 + two(text, s + 21);
      if (ms < 0) return Number.NaN;
    }
    const year = two(text, s) * 100 + two(text, s + 2);
    const month = two(text, s + 5);
    const day = two(text, s + 8);
    const h = two(text, s + 11);
    const m = two(text, s + 14);
    const sec = two(text, s + 17);
    if (year < 100 || month < 0 || day < 0 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59) return Number.NaN;
    const key = year * 10_000 + month * 100 + day;
    if (key !== dayKey) {
      if (month < 1 || month > 12 || day < 1) return Number.NaN;
      const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      if (day > DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0)) return Number.NaN;
      dayKey = key;
      dayMs = Date.UTC(year, month - 1, day);
    }
    return dayMs + h * 3_600_000 + m * 60_000 + sec * 1000 + ms;
  };
}
