/** Parsing and formatting of instants at the API edge. Pure functions. */
import { DateTime, IANAZone } from 'luxon';

/** RFC 3339 date-time that names its offset: `2018-08-24T00:00:00Z`, `…T02:00:00.5+05:45`. */
const OFFSET_DATETIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$/;
/** A calendar date or a local date-time without offset, read in the request's time zone. */
const LOCAL_DATETIME = /^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?)?$/;

export function isValidTimeZone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

/**
 * An instant that must carry its own offset (readings: a device's clock without an offset is
 * ambiguous across DST). Returns epoch ms, or undefined when unparseable, offset-less or not a
 * real calendar instant (2018-02-30).
 */
export function parseOffsetInstant(text: string): number | undefined {
  if (!OFFSET_DATETIME.test(text)) return undefined;
  const dt = DateTime.fromISO(text.replace(' ', 'T'), { setZone: true });
  return dt.isValid ? dt.toMillis() : undefined;
}

/**
 * A query-range bound: an offset date-time, or a date / local date-time read in `tz`
 * (`start=2025-03-30&tz=Europe/Berlin` is Berlin midnight), so day and month ranges can be written
 * without working out offsets.
 */
export function parseRangeBound(text: string, tz: string): number | undefined {
  const withOffset = parseOffsetInstant(text);
  if (withOffset !== undefined) return withOffset;
  if (!LOCAL_DATETIME.test(text)) return undefined;
  const dt = DateTime.fromISO(text.replace(' ', 'T'), { zone: tz });
  return dt.isValid ? dt.toMillis() : undefined;
}

/** `2018-08-24T00:00:00Z`, with milliseconds only when there are some. */
export function formatInstant(value: number | Date | string): string {
  const ms = typeof value === 'number' ? value : new Date(value).getTime();
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
