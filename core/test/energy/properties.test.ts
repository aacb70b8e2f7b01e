/**
 * Conservation and order-independence of the energy arithmetic, over random batches.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  allSegments, BUCKET_MS, closedSegments, nextPeriodStart, periodStart, periodStarts, rollup, sumBuckets, toBuckets,
  type LedgerOptions, type Sample, type Segment,
} from '../../src/energy/index.js';

const T0 = Date.UTC(2025, 2, 29, 20, 7, 13);
const H = 3_600_000;
const ENERGY_KINDS = ['power', 'energy_total', 'energy_interval'] as const;

const value = (kind: LedgerOptions['kind']): fc.Arbitrary<number | null> => {
  const num = kind === 'power'
    ? fc.double({ min: -20_000, max: 20_000, noNaN: true })
    : kind === 'energy_total'
      ? fc.oneof(fc.double({ min: 0, max: 500, noNaN: true }), fc.integer({ min: 0, max: 500 }))
      : fc.double({ min: 0, max: 30, noNaN: true });
  return fc.option(num, { freq: 6 });
};

/** A sorted batch without duplicate timestamps, with random spacing (ms to hours). */
const samplesOf = (kind: LedgerOptions['kind']): fc.Arbitrary<Sample[]> =>
  fc.array(fc.tuple(fc.oneof(fc.integer({ min: 1, max: 5 * 60_000 }), fc.integer({ min: 1, max: 4 * H })), value(kind)), { maxLength: 60 })
    .map((steps) => {
      let t = T0;
      return steps.map(([dt, v]) => ({ t: (t += dt), v }));
    });

const batch = fc.constantFrom(...ENERGY_KINDS).chain((kind) => fc.record({
  opts: fc.record({
    kind: fc.constant(kind),
    reportsOnChange: fc.boolean(),
    maxGapMs: fc.option(fc.integer({ min: 60_000, max: 3 * H }), { nil: undefined }),
  }) as fc.Arbitrary<LedgerOptions>,
  samples: samplesOf(kind),
  nowAfter: fc.integer({ min: -H, max: 6 * H }),
}));

const sum = (segs: Segment[]): number => segs.reduce((a, s) => a + s.kwh, 0);
const nowFor = (samples: Sample[], after: number): number => (samples.at(-1)?.t ?? T0) + after;

describe('energy properties', () => {
  it('conserves energy: Σ buckets = Σ segment energy (within 1e-9 kWh)', () => {
    fc.assert(fc.property(batch, ({ opts, samples, nowAfter }) => {
      const segs = allSegments(samples, opts, nowFor(samples, nowAfter));
      const buckets = toBuckets(segs);
      expect(Math.abs(sumBuckets(buckets) - sum(segs))).toBeLessThan(1e-9);
      for (const [b, kwh] of buckets) {
        expect(b % BUCKET_MS).toBe(0);
        expect(Number.isFinite(kwh)).toBe(true);
      }
    }), { numRuns: 400 });
  });

  it('keeps segments ordered, disjoint and within the readings', () => {
    fc.assert(fc.property(batch, ({ opts, samples }) => {
      const segs = closedSegments(samples, opts);
      for (let i = 0; i < segs.length; i++) {
        expect(segs[i].end).toBeGreaterThan(segs[i].start);
        if (i > 0) expect(segs[i].start).toBeGreaterThanOrEqual(segs[i - 1].end);
      }
      if (segs.length > 0) {
        expect(segs[0].start).toBeGreaterThanOrEqual(samples[0].t);
        expect(segs.at(-1)!.end).toBeLessThanOrEqual(samples.at(-1)!.t);
      }
    }), { numRuns: 300 });
  });

  it('interval energy: every reported kWh lands in exactly one place', () => {
    fc.assert(fc.property(samplesOf('energy_interval'), fc.option(fc.integer({ min: 60_000, max: 3 * H }), { nil: undefined }), (samples, maxGapMs) => {
      const input = samples.reduce((a, s) => a + (s.v ?? 0), 0);
      const buckets = toBuckets(allSegments(samples, { kind: 'energy_interval', maxGapMs }, T0));
      expect(Math.abs(sumBuckets(buckets) - input)).toBeLessThan(1e-9);
    }), { numRuns: 300 });
  });

  it('counter energy is never negative, and equals the rise of a counter that never drops', () => {
    fc.assert(fc.property(samplesOf('energy_total'), (samples) => {
      const segs = closedSegments(samples, { kind: 'energy_total' });
      for (const s of segs) expect(s.kwh).toBeGreaterThanOrEqual(0);
      for (const kwh of toBuckets(segs).values()) expect(kwh).toBeGreaterThanOrEqual(0);
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.array(fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { freq: 5 }), { minLength: 1, maxLength: 50 }), (rises) => {
      let level = 1000;
      const samples: Sample[] = rises.map((r, i) => ({ t: T0 + i * 60_000, v: r === null ? null : (level += r) }));
      const numeric = samples.filter((s) => s.v !== null);
      const expected = numeric.length > 0 ? numeric.at(-1)!.v! - numeric[0].v! : 0;
      expect(Math.abs(sum(closedSegments(samples, { kind: 'energy_total' })) - expected)).toBeLessThan(1e-9);
    }), { numRuns: 200 });
  });

  it('gives the same buckets for shuffled, duplicated input (last write per timestamp wins)', () => {
    fc.assert(fc.property(
      batch.chain((b) => fc.record({
        b: fc.constant(b),
        stale: fc.array(fc.tuple(fc.nat(), value(b.opts.kind)), { maxLength: 20 }),
        order: fc.array(fc.nat(), { minLength: 100, maxLength: 100 }),
      })),
      ({ b: { opts, samples, nowAfter }, stale, order }) => {
        const now = nowFor(samples, nowAfter);
        const expected = toBuckets(allSegments(samples, opts, now));
        const staleSamples = samples.length === 0 ? [] : stale.map(([i, v]) => ({ t: samples[i % samples.length].t, v }));
        const mixed = [...staleSamples, ...samples];
        // Deterministic shuffle driven by `order`.
        for (let i = mixed.length - 1; i > 0; i--) {
          const j = order[i % order.length] % (i + 1);
          [mixed[i], mixed[j]] = [mixed[j], mixed[i]];
        }
        // The final word for every timestamp that had a stale write comes last.
        const rewritten = samples.filter((s) => staleSamples.some((x) => x.t === s.t)).reverse();
        const input = [...mixed, ...rewritten];
        expect(toBuckets(allSegments(input, opts, now))).toEqual(expected);
      },
    ), { numRuns: 300 });
  });

  it('rolls up to the same total in any time zone, each bucket in the period containing it', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    fc.assert(fc.property(
      fc.constantFrom(...zones),
      fc.constantFrom('15m', 'hour', 'day', 'month' as const),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 4 * 366 * 96 }), fc.double({ min: -50, max: 50, noNaN: true })), { maxLength: 200 }),
      (tz, interval, entries) => {
        const buckets = new Map<number, number>();
        for (const [i, kwh] of entries) buckets.set(Date.UTC(2023, 0, 1) + i * BUCKET_MS, kwh);
        const periods = rollup(buckets, interval, tz);
        const total = periods.reduce((a, p) => a + p.kwh, 0);
        expect(Math.abs(total - sumBuckets(buckets))).toBeLessThan(1e-9);
        for (let i = 1; i < periods.length; i++) expect(periods[i].start).toBeGreaterThan(periods[i - 1].start);
        for (const b of buckets.keys()) {
          const p = periodStart(b, interval, tz);
          expect(p).toBeLessThanOrEqual(b);
          expect(nextPeriodStart(b, interval, tz)).toBeGreaterThan(b);
          expect(p % BUCKET_MS).toBe(0); // local periods start on bucket boundaries
          expect(periods.some((x) => x.start === p)).toBe(true);
        }
      },
    ), { numRuns: 200 });
  });

  it('a local day has 92 quarter-hours on the spring-forward Sunday, 100 on the fall-back one, 96 otherwise', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2000, max: 2037 }), fc.integer({ min: 0, max: 365 }),
      fc.constantFrom('Europe/Berlin', 'Europe/London', 'Europe/Helsinki'),
      (year, dayOfYear, tz) => {
        const local = DateTime.fromObject({ year, month: 1, day: 1 }, { zone: tz }).plus({ days: dayOfYear });
        const lastSunday = (month: number): string => {
          const end = DateTime.fromObject({ year, month }, { zone: tz }).endOf('month');
          return end.minus({ days: end.weekday % 7 }).toISODate()!;
        };
        const start = local.startOf('day').toMillis();
        const end = nextPeriodStart(start, 'day', tz);
        const quarters = periodStarts(start, end, '15m', tz).length;
        const hours = periodStarts(start, end, 'hour', tz).length;
        const date = local.toISODate();
        const expected = date === lastSunday(3) ? 92 : date === lastSunday(10) ? 100 : 96;
        expect(quarters).toBe(expected);
        expect(hours).toBe(expected / 4);
      },
    ), { numRuns: 300 });
  });
});
