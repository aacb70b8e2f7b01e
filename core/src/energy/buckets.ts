/**
 * 15-minute buckets: UTC-aligned, labelled by their start (epoch ms). Every offset in use today is
 * a multiple of 15 minutes, so local quarter-hours, hours and days all start on a bucket boundary.
 */
import { BUCKET_MS, type Segment } from './types.js';

/** The start of the bucket containing `t`. */
export function bucketStart(t: number): number {
  return Math.floor(t / BUCKET_MS) * BUCKET_MS;
}

/** The first bucket boundary at or after `t`. */
export function bucketCeil(t: number): number {
  return Math.ceil(t / BUCKET_MS) * BUCKET_MS;
}

/**
 * Spreads each segment over the buckets it overlaps, in proportion to overlap. The last bucket of a
 * segment takes the remainder, so a segment's parts add up to its energy, each with its sign. A zero-length segment
 * (or one whose end precedes its start) lands whole in the bucket of its start.
 * Buckets that receive only zero energy are still present: they have data, and it says 0 kWh.
 */
export function toBuckets(segments: Iterable<Segment>, into: Map<number, number> = new Map()): Map<number, number> {
  const add = (b: number, kwh: number): void => {
    into.set(b, (into.get(b) ?? 0) + kwh);
  };
  for (const seg of segments) {
    const first = bucketStart(seg.start);
    const length = seg.end - seg.start;
    if (!(length > 0) || seg.end <= first + BUCKET_MS) {
      add(first, seg.kwh);
      continue;
    }
    // Cumulative shares (energy up to each bucket's end), clamped to the total: every part has the
    // sign of the segment even for denormal energies, and the parts telescope to the total.
    const clamp = seg.kwh >= 0 ? (x: number) => Math.min(seg.kwh, x) : (x: number) => Math.max(seg.kwh, x);
    let done = 0;
    let b = first;
    for (; b + BUCKET_MS < seg.end; b += BUCKET_MS) {
      const upTo = clamp((seg.kwh * (b + BUCKET_MS - seg.start)) / length);
      add(b, upTo - done);
      done = upTo;
    }
    add(b, seg.kwh - done);
  }
  return into;
}

/** Adds the buckets of `extra` into `into` (returns `into`). */
export function mergeBuckets(into: Map<number, number>, extra: ReadonlyMap<number, number>): Map<number, number> {
  for (const [b, kwh] of extra) into.set(b, (into.get(b) ?? 0) + kwh);
  return into;
}

/** Σ kWh over buckets. */
export function sumBuckets(buckets: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const kwh of buckets.values()) total += kwh;
  return total;
}
