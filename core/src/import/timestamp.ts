/**
 * Reading timestamps of imported files. parseInstant (the SDK's, shared with integrations) is the
 * rule; instantReader is a fast path for the form almost every readings file uses.
 */
import { DAYS_IN_MONTH } from '../sdk/time.js';

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
