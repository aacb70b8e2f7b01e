import { describe, expect, it } from 'vitest';
import { BUCKET_MS, bucketCeil, bucketStart, sumBuckets, toBuckets } from '../../src/energy/index.js';

const T0 = Date.UTC(2025, 5, 1);
const MIN = 60_000;

describe('15-minute buckets', () => {
  it('labels buckets by their UTC-aligned start', () => {
    expect(bucketStart(T0 + 14 * MIN + 59_999)).toBe(T0);
    expect(bucketStart(T0 + 15 * MIN)).toBe(T0 + BUCKET_MS);
    expect(bucketCeil(T0 + 1)).toBe(T0 + BUCKET_MS);
    expect(bucketCeil(T0)).toBe(T0);
  });

  it('splits a segment in proportion to its overlap with each bucket', () => {
    // 10:05 → 10:50: 10 min in the first bucket, 15 + 15, then 5 min.
    const b = toBuckets([{ start: T0 + 5 * MIN, end: T0 + 50 * MIN, kwh: 9 }]);
    expect([...b.keys()]).toEqual([T0, T0 + BUCKET_MS, T0 + 2 * BUCKET_MS, T0 + 3 * BUCKET_MS]);
    expect(b.get(T0)).toBeCloseTo(2, 12);
    expect(b.get(T0 + BUCKET_MS)).toBeCloseTo(3, 12);
    expect(b.get(T0 + 2 * BUCKET_MS)).toBeCloseTo(3, 12);
    expect(b.get(T0 + 3 * BUCKET_MS)).toBeCloseTo(1, 12);
    expect(sumBuckets(b)).toBe(9);
  });

  it('puts a segment inside one bucket, or ending on its boundary, in that bucket only', () => {
    expect([...toBuckets([{ start: T0 + MIN, end: T0 + BUCKET_MS, kwh: 1 }])]).toEqual([[T0, 1]]);
  });

  it('adds up segments landing in the same bucket', () => {
    const b = toBuckets([
      { start: T0, end: T0 + 5 * MIN, kwh: 1 },
      { start: T0 + 5 * MIN, end: T0 + 10 * MIN, kwh: 2 },
    ]);
    expect([...b]).toEqual([[T0, 3]]);
  });

  it('keeps a zero-length segment at a boundary without NaN', () => {
    const b = toBuckets([{ start: T0 + BUCKET_MS, end: T0 + BUCKET_MS, kwh: 0.5 }, { start: T0, end: T0, kwh: 0 }]);
    expect([...b]).toEqual([[T0 + BUCKET_MS, 0.5], [T0, 0]]);
  });

  it('keeps buckets with zero energy: they have data', () => {
    const b = toBuckets([{ start: T0, end: T0 + 30 * MIN, kwh: 0 }]);
    expect([...b]).toEqual([[T0, 0], [T0 + BUCKET_MS, 0]]);
  });

  it('handles times before 1970', () => {
    const t = Date.UTC(1969, 11, 31, 23, 50);
    const b = toBuckets([{ start: t, end: t + 20 * MIN, kwh: 2 }]);
    expect(b.get(Date.UTC(1969, 11, 31, 23, 45))).toBeCloseTo(1, 12);
    expect(b.get(0)).toBeCloseTo(1, 12);
  });
});
