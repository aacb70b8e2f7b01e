import { describe, expect, it } from 'vitest';
import {
  allSegments, closedSegments, normalizeSamples, tailSegment, toBuckets, type Sample, type Segment,
} from '../../src/energy/index.js';

const DAY = Date.UTC(2025, 0, 1);
const MIN = 60_000;
/** Epoch ms of HH:MM on the test day (UTC). */
const at = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return DAY + (h * 60 + m) * MIN;
};
const s = (hhmm: string, v: number | null): Sample => ({ t: at(hhmm), v });
const total = (segs: Segment[]): number => segs.reduce((a, x) => a + x.kwh, 0);
/** Buckets as { 'HH:MM': kWh } for readable assertions. */
const labelled = (segs: Segment[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [b, kwh] of [...toBuckets(segs)].sort((a, c) => a[0] - c[0])) {
    out[new Date(b).toISOString().slice(11, 16)] = kwh;
  }
  return out;
};

describe('power (zero-order hold)', () => {
  it('issue example: 5-minute kW readings 22, 24, 23, 18, 22, 23, 8 from 00:00', () => {
    const kw = [22, 24, 23, 18, 22, 23, 8];
    const samples = kw.map((v, i) => ({ t: DAY + i * 5 * MIN, v: v * 1000 }));
    const buckets = labelled(allSegments(samples, { kind: 'power' }, at('00:35')));
    expect(Object.keys(buckets)).toEqual(['00:00', '00:15', '00:30']);
    expect(buckets['00:00']).toBeCloseTo(5.75, 9);
    expect(buckets['00:15']).toBeCloseTo(5.25, 9);
    expect(buckets['00:30']).toBeCloseTo(0.666667, 6);
    // Later "now" changes nothing: the latest reading is held for the spacing before it only.
    expect(labelled(allSegments(samples, { kind: 'power' }, at('05:00')))['00:30']).toBeCloseTo(8 / 12, 12);
  });

  it('holds each reading until the next one', () => {
    const segs = closedSegments([s('00:00', 1000), s('00:30', 2000), s('01:00', 0)], { kind: 'power' });
    expect(segs).toEqual([
      { start: at('00:00'), end: at('00:30'), kwh: 0.5 },
      { start: at('00:30'), end: at('01:00'), kwh: 1 },
    ]);
  });

  it('gives signed energy for negative power (export)', () => {
    const segs = closedSegments([s('00:00', -3000), s('01:00', 0)], { kind: 'power' });
    expect(total(segs)).toBeCloseTo(-3, 12);
  });

  it('does not bridge unavailability: a null stops the energy until the next reading', () => {
    const segs = closedSegments([s('00:00', 1200), s('00:10', null), s('00:50', 600), s('01:00', 600)], { kind: 'power' });
    expect(segs).toEqual([
      { start: at('00:00'), end: at('00:10'), kwh: 0.2 },
      { start: at('00:50'), end: at('01:00'), kwh: 0.1 },
    ]);
  });

  it('does not bridge a gap above the max gap: the reading is held for the spacing before it', () => {
    const samples = [s('00:00', 600), s('00:05', 600), s('02:00', 600), s('02:05', 600)];
    const segs = closedSegments(samples, { kind: 'power', maxGapMs: 10 * MIN });
    expect(segs).toEqual([
      { start: at('00:00'), end: at('00:05'), kwh: 0.05 },
      { start: at('00:05'), end: at('00:10'), kwh: 0.05 },
      { start: at('02:00'), end: at('02:05'), kwh: 0.05 },
    ]);
    // Without a max gap the reading is held across it.
    expect(total(closedSegments(samples, { kind: 'power' }))).toBeCloseTo(0.6 * (125 / 60), 12);
  });

  it('holds a reading before a large gap at most for the max gap', () => {
    // 00:00 → 01:00 is within the max gap; 01:00 → 05:00 is not, and the spacing before (1 h) is capped at 20 min.
    const segs = closedSegments([s('00:00', 3000), s('01:00', 3000), s('05:00', 3000)], { kind: 'power', maxGapMs: 60 * MIN });
    expect(segs.at(-1)).toEqual({ start: at('01:00'), end: at('02:00'), kwh: 3 });
    const capped = closedSegments([s('00:00', 3000), s('01:00', 3000), s('05:00', 3000)], { kind: 'power', maxGapMs: 20 * MIN });
    expect(capped).toEqual([
      { start: at('00:00'), end: at('00:15'), kwh: 0.75 }, // first reading: 15 minutes
      { start: at('01:00'), end: at('01:20'), kwh: 1 },
    ]);
  });

  it('treats a reading before a gap that follows unavailability as an only reading (15 minutes)', () => {
    const segs = closedSegments([s('00:00', null), s('03:00', 4000), s('09:00', 4000)], { kind: 'power', maxGapMs: 60 * MIN });
    expect(segs).toEqual([{ start: at('03:00'), end: at('03:15'), kwh: 1 }]);
  });

  describe('tail', () => {
    it('extends the latest reading for the spacing before it, never past now', () => {
      const samples = [s('00:00', 1000), s('00:10', 2000)];
      expect(tailSegment(samples, { kind: 'power' }, at('01:00'))).toEqual({ start: at('00:10'), end: at('00:20'), kwh: 2000 * 10 / 60 / 1000 });
      expect(tailSegment(samples, { kind: 'power' }, at('00:14'))).toEqual({ start: at('00:10'), end: at('00:14'), kwh: 2000 * 4 / 60 / 1000 });
      expect(tailSegment(samples, { kind: 'power' }, at('00:10'))).toBeNull();
      expect(tailSegment(samples, { kind: 'power' }, at('00:05'))).toBeNull();
    });

    it('extends an only reading for 15 minutes', () => {
      expect(tailSegment([s('00:00', 4000)], { kind: 'power' }, at('12:00'))).toEqual({ start: at('00:00'), end: at('00:15'), kwh: 1 });
    });

    it('holds report-on-change power until now, capped by the max gap', () => {
      const samples = [s('00:00', 1000), s('00:01', 2000)];
      expect(tailSegment(samples, { kind: 'power', reportsOnChange: true }, at('03:01'))).toEqual({ start: at('00:01'), end: at('03:01'), kwh: 6 });
      expect(tailSegment(samples, { kind: 'power', reportsOnChange: true, maxGapMs: 60 * MIN }, at('03:01')))
        .toEqual({ start: at('00:01'), end: at('01:01'), kwh: 2 });
    });

    it('caps the spacing-based tail at the max gap', () => {
      const samples = [s('00:00', 1000), s('02:00', 3000)];
      expect(tailSegment(samples, { kind: 'power', maxGapMs: 30 * MIN }, at('09:00'))).toEqual({ start: at('02:00'), end: at('02:30'), kwh: 1.5 });
    });

    it('has no tail after unavailability or without readings', () => {
      expect(tailSegment([s('00:00', 1000), s('00:05', null)], { kind: 'power' }, at('01:00'))).toBeNull();
      expect(tailSegment([], { kind: 'power' }, at('01:00'))).toBeNull();
    });
  });
});

describe('energy_total (cumulative counter)', () => {
  const opts = { kind: 'energy_total' as const };

  it('issue example: 100, 101, 0.2, 1.2 is a reset and gives 2.2 kWh', () => {
    const segs = closedSegments([s('00:00', 100), s('00:15', 101), s('00:30', 0.2), s('00:45', 1.2)], opts);
    expect(total(segs)).toBeCloseTo(2.2, 12);
    expect(segs.map((x) => x.kwh)).toEqual([1, 0.2, expect.closeTo(1, 12)]);
  });

  it('spreads a difference uniformly between the readings', () => {
    const buckets = labelled(closedSegments([s('00:00', 10), s('01:00', 14)], opts));
    expect(buckets).toEqual({ '00:00': 1, '00:15': 1, '00:30': 1, '00:45': 1 });
  });

  it('ignores a dip that returns to the previous level: 100, 50, 101 → 1 kWh', () => {
    const segs = closedSegments([s('00:00', 100), s('00:15', 50), s('00:30', 101)], opts);
    expect(segs).toEqual([{ start: at('00:00'), end: at('00:30'), kwh: 1 }]);
  });

  it('counts a dip as a reset while it is the latest reading, and as a glitch once the level returns', () => {
    const first = [s('00:00', 100), s('00:15', 101), s('00:30', 3)];
    expect(total(closedSegments(first, opts))).toBeCloseTo(4, 12);
    expect(total(closedSegments([...first, s('00:45', 101.5)], opts))).toBeCloseTo(1.5, 12);
    expect(total(closedSegments([...first, s('00:45', 3.5)], opts))).toBeCloseTo(4.5, 12);
  });

  it('keeps counting across unavailability (nulls are skipped)', () => {
    const segs = closedSegments([s('00:00', 5), s('00:15', null), s('01:00', 7)], opts);
    expect(segs).toEqual([{ start: at('00:00'), end: at('01:00'), kwh: 2 }]);
  });

  it('never gives negative energy, not even for a negative reset value', () => {
    const segs = closedSegments([s('00:00', 5), s('00:15', -2), s('00:30', -3)], opts);
    for (const seg of segs) expect(seg.kwh).toBeGreaterThanOrEqual(0);
  });

  it('has no tail', () => {
    expect(tailSegment([s('00:00', 1), s('00:15', 2)], opts, at('05:00'))).toBeNull();
  });
});

describe('energy_interval (energy per period)', () => {
  const opts = { kind: 'energy_interval' as const };

  it('issue example: hourly 12, 26, 18 → 3, 6.5 and 4.5 per quarter-hour', () => {
    const samples = [s('00:00', 12), s('01:00', 26), s('02:00', 18)];
    const buckets = labelled(allSegments(samples, opts, at('02:10')));
    expect(buckets).toEqual({
      '00:00': 3, '00:15': 3, '00:30': 3, '00:45': 3,
      '01:00': 6.5, '01:15': 6.5, '01:30': 6.5, '01:45': 6.5,
      '02:00': 4.5, '02:15': 4.5, '02:30': 4.5, '02:45': 4.5,
    });
  });

  it('ends a period at a null', () => {
    const segs = closedSegments([s('00:00', 2), s('00:30', null), s('02:00', 1), s('02:15', 1)], opts);
    expect(segs).toEqual([
      { start: at('00:00'), end: at('00:30'), kwh: 2 },
      { start: at('02:00'), end: at('02:15'), kwh: 1 },
    ]);
  });

  it('ends a period at a gap above the max gap, like a latest reading', () => {
    const segs = closedSegments([s('00:00', 1), s('00:15', 2), s('06:00', 3)], { ...opts, maxGapMs: 60 * MIN });
    expect(segs).toEqual([
      { start: at('00:00'), end: at('00:15'), kwh: 1 },
      { start: at('00:15'), end: at('00:30'), kwh: 2 },
    ]);
  });

  it('carries the latest value whole over the spacing before it, even past now', () => {
    expect(tailSegment([s('00:00', 1), s('00:15', 2)], opts, at('00:16'))).toEqual({ start: at('00:15'), end: at('00:30'), kwh: 2 });
    expect(tailSegment([s('00:00', 4)], opts, at('00:00'))).toEqual({ start: at('00:00'), end: at('00:15'), kwh: 4 });
    expect(tailSegment([s('00:00', 4), s('00:15', null)], opts, at('01:00'))).toBeNull();
  });
});

describe('input handling', () => {
  it('sorts unsorted input and lets the last write per timestamp win', () => {
    const samples = [s('00:30', 0), s('00:00', 9999), s('00:15', 2000), s('00:00', 1000)];
    expect(normalizeSamples(samples)).toEqual([s('00:00', 1000), s('00:15', 2000), s('00:30', 0)]);
    expect(total(closedSegments(samples, { kind: 'power' }))).toBeCloseTo(0.25 + 0.5, 12);
  });

  it('gives no energy for measurement kinds', () => {
    for (const kind of ['voltage', 'current', 'frequency', 'power_factor', 'switch'] as const) {
      expect(allSegments([s('00:00', 230), s('00:15', 231)], { kind }, at('01:00'))).toEqual([]);
    }
  });
});
