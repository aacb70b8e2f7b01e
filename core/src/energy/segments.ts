/**
 * From raw samples to energy segments: the rules of the ledger, one function per kind.
 *
 * A segment is energy spread uniformly over a half-open interval. Closed segments lie between
 * stored consecutive readings and do not depend on the current time, so the ledger can store them;
 * the tail after the latest reading does depend on it and is added at query time.
 */
import type { BucketSource, LedgerOptions, Sample, Segment } from './types.js';

/** How long an entity's only reading (or the first after unavailability) is assumed to last. */
export const DEFAULT_SPACING_MS = 15 * 60 * 1000;

const MS_PER_HOUR = 3_600_000;

/** The `source` an entity's ledger rows carry, or null for kinds that carry no energy. */
export function sourceForKind(kind: LedgerOptions['kind']): BucketSource | null {
  switch (kind) {
    case 'power': return 'integrated';
    case 'energy_total': return 'counter';
    case 'energy_interval': return 'interval';
    default: return null;
  }
}

function numeric(v: number | null): v is number {
  return v !== null && Number.isFinite(v);
}

/**
 * Sorted by time, one sample per timestamp: the last occurrence in the input wins
 * (re-sending or correcting a reading replaces it). Non-finite values count as unavailable.
 */
export function normalizeSamples(samples: readonly Sample[]): Sample[] {
  const byTime = new Map<number, number | null>();
  for (const s of samples) byTime.set(s.t, numeric(s.v) ? s.v : null);
  const out: Sample[] = [];
  for (const [t, v] of byTime) out.push({ t, v });
  out.sort((a, b) => a.t - b.t);
  return out;
}

function isSorted(samples: readonly Sample[]): boolean {
  for (let i = 1; i < samples.length; i++) if (!(samples[i].t > samples[i - 1].t)) return false;
  for (const s of samples) if (s.v !== null && !Number.isFinite(s.v)) return false;
  return true;
}

function prepare(samples: readonly Sample[]): readonly Sample[] {
  return isSorted(samples) ? samples : normalizeSamples(samples);
}

/**
 * How long reading i is held when nothing (usable) follows it: the spacing before it, or the
 * default when it is the first reading or the first after unavailability (the gap since a null
 * marker says nothing about the reporting interval). Capped by the max gap.
 */
function extension(sorted: readonly Sample[], i: number, maxGapMs: number | undefined): number {
  const prev = i > 0 ? sorted[i - 1] : undefined;
  const spacing = prev !== undefined && prev.v !== null ? sorted[i].t - prev.t : DEFAULT_SPACING_MS;
  return maxGapMs !== undefined ? Math.min(spacing, maxGapMs) : spacing;
}

/** The configured max gap, or undefined when none (a non-positive value means none). */
function gapLimit(opts: LedgerOptions): number | undefined {
  return opts.maxGapMs !== undefined && opts.maxGapMs > 0 ? opts.maxGapMs : undefined;
}

/** Power and interval readings: each reading covers [t, next t), unless the gap is too large. */
function heldSegments(sorted: readonly Sample[], opts: LedgerOptions, energy: (v: number, ms: number) => number): Segment[] {
  const out: Segment[] = [];
  const maxGap = gapLimit(opts);
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i];
    if (a.v === null) continue;
    const gap = sorted[i + 1].t - a.t;
    const ms = maxGap !== undefined && gap > maxGap ? extension(sorted, i, maxGap) : gap;
    if (ms > 0) out.push({ start: a.t, end: a.t + ms, kwh: energy(a.v, ms) });
  }
  return out;
}

const powerEnergy = (w: number, ms: number): number => (w * ms) / (MS_PER_HOUR * 1000);
const intervalEnergy = (kwh: number): number => kwh;

/**
 * Cumulative counter: differences between accepted readings, spread over the time between them.
 * A drop is a reset (the new value counts from 0); a dip whose next reading is back at or above
 * the previous accepted level is a glitch and is skipped; the latest reading, having no next,
 * counts as a reset until a later reading shows otherwise. Never negative.
 */
function counterSegments(sorted: readonly Sample[]): Segment[] {
  const readings = sorted.filter((s): s is { t: number; v: number } => s.v !== null);
  const out: Segment[] = [];
  if (readings.length === 0) return out;
  let last = readings[0];
  for (let i = 1; i < readings.length; i++) {
    const r = readings[i];
    let delta: number;
    if (r.v >= last.v) {
      delta = r.v - last.v;
    } else {
      const next = readings[i + 1];
      if (next !== undefined && next.v >= last.v) continue; // glitch
      delta = Math.max(0, r.v); // reset: counts from 0
    }
    out.push({ start: last.t, end: r.t, kwh: delta });
    last = r;
  }
  return out;
}

/** Energy segments between consecutive readings (input in any order; last write per timestamp wins). */
export function closedSegments(samples: readonly Sample[], opts: LedgerOptions): Segment[] {
  const sorted = prepare(samples);
  switch (opts.kind) {
    case 'power': return heldSegments(sorted, opts, powerEnergy);
    case 'energy_interval': return heldSegments(sorted, opts, intervalEnergy);
    case 'energy_total': return counterSegments(sorted);
    default: return [];
  }
}

/**
 * The open end after the latest reading, as seen at `now`. Power: held for the spacing before it
 * (15 minutes for an only reading), never past `now`; report-on-change power is held until `now`.
 * Both are capped by the max gap. Interval energy: the whole value over [t, t + spacing) — the
 * energy is a fact, so it is not truncated at `now`. Counters and a latest null have no tail.
 */
export function tailSegment(samples: readonly Sample[], opts: LedgerOptions, now: number): Segment | null {
  const sorted = prepare(samples);
  const i = sorted.length - 1;
  if (i < 0) return null;
  const last = sorted[i];
  if (last.v === null) return null;
  const maxGap = gapLimit(opts);
  if (opts.kind === 'energy_interval') {
    const ms = extension(sorted, i, maxGap);
    return ms > 0 ? { start: last.t, end: last.t + ms, kwh: last.v } : null;
  }
  if (opts.kind !== 'power') return null;
  let end = opts.reportsOnChange ? now : Math.min(now, last.t + extension(sorted, i, maxGap));
  if (maxGap !== undefined) end = Math.min(end, last.t + maxGap);
  const ms = end - last.t;
  return ms > 0 ? { start: last.t, end, kwh: powerEnergy(last.v, ms) } : null;
}

/** Closed segments plus the tail: everything the samples say as of `now`. */
export function allSegments(samples: readonly Sample[], opts: LedgerOptions, now: number): Segment[] {
  const sorted = prepare(samples);
  const segs = closedSegments(sorted, opts);
  const tail = tailSegment(sorted, opts, now);
  if (tail !== null) segs.push(tail);
  return segs;
}
