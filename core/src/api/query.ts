/**
 * Query-string checks the schemas cannot express (time zones, instants, start before end). Every
 * problem is collected before failing, so one 400 names them all.
 */
import type { FastifyRequest } from 'fastify';
import { ApiError, type ProblemItem } from './errors.js';
import { isValidTimeZone, parseRangeBound } from './time.js';
import { ajvErrorsToItems, summarize } from './validation.js';

export const rangeQueryProperties = {
  start: {
    type: 'string', minLength: 1, example: '2025-03-30T00:00:00Z',
    description: 'Inclusive start: an ISO 8601 date-time with offset, or a date / local date-time read in `tz`',
  },
  end: {
    type: 'string', minLength: 1, example: '2025-03-31T00:00:00Z',
    description: 'Exclusive end (ranges are half-open), same forms as `start`',
  },
} as const;

export const tzQueryProperty = {
  type: 'string', minLength: 1, example: 'Europe/Berlin',
  description: "IANA time zone that cuts hours, days and months and reads local times (default the hub's)",
} as const;

/**
 * Routes using it set `attachValidation: true`, so schema problems (unknown interval, bad count)
 * and the checks here (time zone, instants, order) come back together in one 400.
 */
export class QueryProblems {
  readonly items: ProblemItem[] = [];
  /** The schema validation failed: the query's values may be uncoerced, so only collect problems. */
  readonly schemaFailed: boolean;

  constructor(request: FastifyRequest) {
    const err = request.validationError as (Error & { validation?: unknown; validationContext?: string }) | undefined;
    this.schemaFailed = err !== undefined;
    if (!err) return;
    if (err instanceof ApiError) throw err;
    if (!Array.isArray(err.validation)) throw err;
    this.items.push(...ajvErrorsToItems(err.validation, err.validationContext));
    if (err.validationContext !== 'querystring') this.throwIfAny();
  }

  add(param: string, reason: string): void {
    this.items.push({ pointer: `/query/${param}`, reason });
  }

  /** The time zone, or the hub's default when absent; records a problem when unknown. */
  timeZone(tz: unknown, fallback: string): string {
    if (tz === undefined) return fallback;
    if (typeof tz !== 'string') return fallback;
    if (!isValidTimeZone(tz)) {
      this.add('tz', `unknown time zone ${JSON.stringify(tz)}; use an IANA name such as Europe/Berlin`);
      return fallback;
    }
    return tz;
  }

  instant(param: string, text: unknown, tz: string): number | undefined {
    if (typeof text !== 'string') return undefined;
    const t = parseRangeBound(text, tz);
    if (t === undefined) this.add(param, `${JSON.stringify(text)} is not an ISO 8601 date or date-time`);
    return t;
  }

  /** Both bounds parsed; start after end is a problem (start = end is an empty range). */
  range(q: { start?: unknown; end?: unknown }, tz: string): { start: number; end: number } | undefined {
    const start = this.instant('start', q.start, tz);
    const end = this.instant('end', q.end, tz);
    if (start === undefined || end === undefined) return undefined;
    if (start > end) {
      this.add('start', `start (${String(q.start)}) is after end (${String(q.end)})`);
      return undefined;
    }
    return { start, end };
  }

  /** The request's time zone (default `fallback`) and its [start, end) read in that zone. */
  zonedRange(q: { start?: unknown; end?: unknown; tz?: unknown }, fallback: string): { tz: string; range: { start: number; end: number } | undefined } {
    const tz = this.timeZone(q.tz, fallback);
    return { tz, range: this.range(q, tz) };
  }

  /** Throws a 400 listing every problem, if there are any. */
  throwIfAny(): void {
    if (this.items.length > 0) throw new ApiError('INVALID_QUERY', summarize(this.items), this.items);
  }
}
