/**
 * Where each row of a replay lands in hub time. Pure: no clock, no I/O.
 *
 * Rows are addressed by an unrolled index j: row j % n of pass ⌊j / n⌋. A looped file repeats
 * with a period of its span plus one sampling step (the spacing of its last two rows), so a week
 * at 1-minute resolution repeats after exactly 7 days. Its file position is
 * `times[j % n] + ⌊j / n⌋ · period`.
 *
 * With speed s > 0 the replay starts at file position P0 when the hub clock reads H0 and a row at
 * position u is due at `H0 + (u − P0) / s`:
 * - a looped file with align 'now' is a periodic signal laid over the calendar from its first
 *   row: P0 is where the hub's now falls in it. At speed 1 every reading keeps its time of day
 *   (and weekday, for a week-long file), and a restart re-sends identical readings for the same
 *   times;
 * - otherwise P0 is the first row plus the backfill (in file time), so the whole file is played.
 * Backfill reports the rows in [P0 − backfill · s, P0] at once. Timestamps are the due times with
 * align 'now', the file positions with align 'file'.
 * Speed 0 reports every row at once; with align 'now' the file is shifted to end now.
 */
import { ConfigError } from '@joulehub/core/sdk';

export interface TimelineOptions {
  speed: number;
  loop: boolean;
  align: 'now' | 'file';
  backfillMs: number;
  /** Hub time the replay starts at (H0). */
  startedAt: number;
}

/** First index i with times[i] ≥ x (`strict`: > x); times.length when none. */
function search(times: Float64Array, x: number, strict: boolean): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? times[mid]! <= x : times[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

export class Timeline {
  readonly n: number;
  /** Span of one pass including its last step (ms of file time); 0 when not looping. */
  readonly period: number;
  /** First row reported (the start of the backfill). */
  readonly startIndex: number;
  /** First row reported live; rows before it are reported at start. */
  readonly liveIndex: number;
  /** End (exclusive); Infinity when looping. */
  readonly endIndex: number;
  private readonly t0: number;
  private readonly p0: number;
  private readonly shift: number;
  private readonly cycleBase: number;

  constructor(private readonly times: Float64Array, private readonly o: TimelineOptions) {
    const n = times.length;
    this.n = n;
    this.t0 = times[0]!;
    const tEnd = times[n - 1]!;
    if (o.loop && n < 2) {
      throw new ConfigError('CSV_REPLAY_TOO_SHORT_TO_LOOP', 'loop: the file needs at least two rows to loop', { path: 'loop' });
    }
    this.period = o.loop ? tEnd - this.t0 + (tEnd - times[n - 2]!) : 0;
    this.endIndex = o.loop ? Number.POSITIVE_INFINITY : n;

    if (o.speed === 0) {
      this.p0 = tEnd;
      this.shift = o.align === 'now' ? o.startedAt - tEnd : 0;
      this.startIndex = 0;
      this.liveIndex = n;
      this.cycleBase = 0;
      return;
    }
    const backfillSpan = o.backfillMs * o.speed;
    this.p0 = o.loop && o.align === 'now' ? this.t0 + mod(o.startedAt - this.t0, this.period) : this.t0 + backfillSpan;
    this.shift = 0;
    this.startIndex = this.indexFrom(this.p0 - backfillSpan, false);
    this.liveIndex = this.indexFrom(this.p0, true);
    // Counters continue across passes from where the calendar tiling puts them, so a restart at
    // speed 1 re-sends the same counter values for the same times.
    this.cycleBase = o.loop && o.align === 'now' && o.speed === 1 ? Math.floor((o.startedAt - this.t0) / this.period) : 0;
  }

  /** First unrolled index whose position is ≥ x (`strict`: > x). */
  private indexFrom(x: number, strict: boolean): number {
    if (!this.o.loop) return search(this.times, x, strict);
    let k = Math.floor((x - this.t0) / this.period);
    let i = search(this.times, x - k * this.period, strict);
    if (i === this.n) {
      k += 1;
      i = 0;
    }
    return k * this.n + i;
  }

  /** Row of the file for unrolled index j. */
  row(j: number): number {
    return mod(j, this.n);
  }

  /** Pass number for counters: readings of pass c are raised by c times the counter's per-pass increase. */
  cycle(j: number): number {
    return Math.floor(j / this.n) + this.cycleBase;
  }

  /** How many times the replay has started over by row j. */
  loopsAt(j: number): number {
    return Math.floor(j / this.n) - Math.floor(this.startIndex / this.n);
  }

  /** File position of row j (ms, file time, unrolled). */
  position(j: number): number {
    return this.times[this.row(j)]! + Math.floor(j / this.n) * this.period;
  }

  /** Hub time at which row j is due. */
  dueAt(j: number): number {
    if (this.o.speed === 0) return this.o.startedAt;
    return this.o.startedAt + (this.position(j) - this.p0) / this.o.speed;
  }

  /** Timestamp row j's readings carry (epoch ms). */
  timestamp(j: number): number {
    if (this.o.align === 'file') return this.position(j);
    if (this.o.speed === 0) return this.position(j) + this.shift;
    return Math.round(this.dueAt(j));
  }
}
