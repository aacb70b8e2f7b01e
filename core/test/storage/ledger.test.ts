import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closedSegments, sumBuckets, toBuckets, type Sample } from '../../src/energy/index.js';
import { ledgerOptions, recomputeAll, recomputeLedger, type LedgerEntity } from '../../src/storage/ledger.js';
import { insertSamples } from '../../src/storage/samples.js';
import { createTestDatabase, describeDb, type TestDatabase } from '../support/db.js';

const DAY = Date.UTC(2025, 0, 1);
const MIN = 60_000;
const at = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return DAY + (h * 60 + m) * MIN;
};
const hhmm = (t: number): string => new Date(t).toISOString().slice(11, 16);

let counter = 0;
const entityOf = (kind: LedgerEntity['kind'], extra: Partial<LedgerEntity> = {}): LedgerEntity =>
  ({ id: `dev${++counter}.${kind}`, kind, reportsOnChange: false, maxGapSeconds: null, ...extra });

describeDb('energy ledger', (target) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(target.url); });
  afterAll(async () => { await t?.drop(); });

  const write = async (entity: LedgerEntity, samples: Sample[]): Promise<void> => {
    await insertSamples(t.db, samples.map((s) => ({ entityId: entity.id, t: s.t, v: s.v })));
  };
  /** Writes the samples, then recomputes the range they cover (what the hub does after a flush). */
  const record = async (entity: LedgerEntity, samples: Sample[]): Promise<void> => {
    await write(entity, samples);
    const times = samples.map((s) => s.t);
    await recomputeLedger(t.db, entity, { from: Math.min(...times), to: Math.max(...times) });
  };
  const rows = async (entityId: string) => (await t.db.selectFrom('energy_15m').selectAll()
    .where('entity_id', '=', entityId).orderBy('bucket').execute())
    .map((r) => ({ bucket: r.bucket.getTime(), kwh: r.kwh, source: r.source }));
  const hours = async (entityId: string) => (await t.db.selectFrom('energy_1h').selectAll()
    .where('entity_id', '=', entityId).orderBy('bucket').execute())
    .map((r) => ({ bucket: r.bucket.getTime(), kwh: r.kwh }));
  const table = async (entityId: string): Promise<Record<string, number>> =>
    Object.fromEntries((await rows(entityId)).map((r) => [hhmm(r.bucket), Number(r.kwh.toFixed(9))]));
  const allSamples = async (entityId: string): Promise<Sample[]> => (await t.db.selectFrom('samples').select(['time', 'value'])
    .where('entity_id', '=', entityId).orderBy('time').execute()).map((r) => ({ t: r.time.getTime(), v: r.value }));

  it('stores the closed segments of the issue examples (the open tail is not stored)', async () => {
    const interval = entityOf('energy_interval');
    await record(interval, [{ t: at('00:00'), v: 12 }, { t: at('01:00'), v: 26 }, { t: at('02:00'), v: 18 }]);
    expect(await table(interval.id)).toEqual({
      '00:00': 3, '00:15': 3, '00:30': 3, '00:45': 3, '01:00': 6.5, '01:15': 6.5, '01:30': 6.5, '01:45': 6.5,
    });
    expect((await rows(interval.id)).every((r) => r.source === 'interval')).toBe(true);

    const power = entityOf('power');
    await record(power, [22, 24, 23, 18, 22, 23, 8].map((kw, i) => ({ t: DAY + i * 5 * MIN, v: kw * 1000 })));
    expect(await table(power.id)).toEqual({ '00:00': 5.75, '00:15': 5.25 });
    expect((await rows(power.id))[0].source).toBe('integrated');

    const counter = entityOf('energy_total');
    await record(counter, [{ t: at('00:00'), v: 100 }, { t: at('00:15'), v: 101 }, { t: at('00:30'), v: 0.2 }, { t: at('00:45'), v: 1.2 }]);
    const r = await rows(counter.id);
    expect(r.reduce((a, x) => a + x.kwh, 0)).toBeCloseTo(2.2, 12);
    expect(r[0].source).toBe('counter');
  });

  it('recomputes the affected buckets for a late reading and ignores re-sent ones', async () => {
    const e = entityOf('power');
    await record(e, [{ t: at('00:00'), v: 1000 }, { t: at('01:00'), v: 1000 }, { t: at('02:00'), v: 0 }]);
    expect(Object.values(await table(e.id)).reduce((a, x) => a + x, 0)).toBeCloseTo(2, 12);
    // A late reading at 00:30 says the device was off from then on.
    await record(e, [{ t: at('00:30'), v: 0 }]);
    expect(await table(e.id)).toMatchObject({ '00:00': 0.25, '00:15': 0.25, '00:30': 0, '00:45': 0, '01:00': 0.25 });
    const before = await rows(e.id);
    await record(e, [{ t: at('00:00'), v: 1000 }, { t: at('00:30'), v: 0 }, { t: at('01:00'), v: 1000 }]);
    expect(await rows(e.id)).toEqual(before);
    // A corrected value replaces the old one (last write wins).
    await record(e, [{ t: at('00:30'), v: 2000 }]);
    expect(await table(e.id)).toMatchObject({ '00:30': 0.5, '00:45': 0.5 });
  });

  it('turns a counter dip into a glitch once a later reading returns to the level', async () => {
    const e = entityOf('energy_total');
    await record(e, [{ t: at('00:00'), v: 100 }, { t: at('00:15'), v: 101 }]);
    await record(e, [{ t: at('00:30'), v: 3 }]);
    expect(await table(e.id)).toEqual({ '00:00': 1, '00:15': 3 }); // counted as a reset for now
    await record(e, [{ t: at('00:45'), v: 101.5 }]);
    expect(await table(e.id)).toEqual({ '00:00': 1, '00:15': 0.25, '00:30': 0.25 });
  });

  it('keeps the hourly table equal to the hourly sums of the 15-minute rows', async () => {
    const e = entityOf('power');
    await record(e, Array.from({ length: 30 }, (_, i) => ({ t: at('00:00') + i * 7 * MIN + 13_000, v: 100 * i })));
    await record(e, [{ t: at('01:10'), v: null }, { t: at('02:02'), v: 4000 }]);
    const byHour = new Map<number, number>();
    for (const r of await rows(e.id)) {
      const h = Math.floor(r.bucket / 3_600_000) * 3_600_000;
      byHour.set(h, (byHour.get(h) ?? 0) + r.kwh);
    }
    const h = await hours(e.id);
    expect(h.map((x) => x.bucket)).toEqual([...byHour.keys()]);
    for (const x of h) expect(x.kwh).toBeCloseTo(byHour.get(x.bucket)!, 12);
  });

  it('rebuilds from scratch and clears the ledger of an entity without energy', async () => {
    const e = entityOf('energy_interval');
    await write(e, [{ t: at('00:00'), v: 1 }, { t: at('00:30'), v: 2 }, { t: at('01:00'), v: 3 }]);
    await recomputeAll(t.db, e);
    expect(await table(e.id)).toEqual({ '00:00': 0.5, '00:15': 0.5, '00:30': 1, '00:45': 1 });
    await recomputeAll(t.db, { ...e, kind: 'voltage' });
    expect(await rows(e.id)).toEqual([]);
    expect(await hours(e.id)).toEqual([]);
  });

  it('serialises concurrent recomputes of one entity', async () => {
    const e = entityOf('power');
    const a = Array.from({ length: 20 }, (_, i) => ({ t: at('00:00') + i * 2 * MIN, v: 500 + i }));
    const b = Array.from({ length: 20 }, (_, i) => ({ t: at('00:00') + i * 2 * MIN + MIN, v: 900 - i }));
    await write(e, a);
    await write(e, b);
    await Promise.all([
      recomputeLedger(t.db, e, { from: a[0].t, to: a.at(-1)!.t }),
      recomputeLedger(t.db, e, { from: b[0].t, to: b.at(-1)!.t }),
    ]);
    const incremental = await rows(e.id);
    await recomputeAll(t.db, e);
    expect(incremental).toEqual(await rows(e.id));
  });

  it('incremental recompute after random batches in random order equals a full rebuild, and conserves energy', async () => {
    const kinds = ['power', 'energy_total', 'energy_interval'] as const;
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...kinds),
      fc.boolean(),
      fc.option(fc.integer({ min: 2 * MIN, max: 90 * MIN }), { nil: undefined }),
      fc.array(fc.oneof(fc.integer({ min: 1, max: 4 * MIN }), fc.integer({ min: 1, max: 3 * 3_600_000 })), { minLength: 1, maxLength: 40 }),
      fc.array(fc.record({
        writes: fc.array(fc.tuple(fc.nat(), fc.option(fc.integer({ min: 0, max: 4000 }), { freq: 6 })), { minLength: 1, maxLength: 15 }),
        deletes: fc.array(fc.nat(), { maxLength: 2 }),
      }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 6 }),
      async (kind, reportsOnChange, maxGapMs, spacing, batches, windowSamples) => {
        const e = entityOf(kind, { reportsOnChange, maxGapSeconds: maxGapMs === undefined ? null : maxGapMs / 1000 });
        let time = DAY + 7_123;
        const slots = spacing.map((dt) => (time += dt));
        const value = (v: number | null): number | null => (v === null ? null : kind === 'power' ? v - 1000 : v / 100);
        for (const batch of batches) {
          const samples = batch.writes.map(([i, v]) => ({ t: slots[i % slots.length], v: value(v) }));
          await write(e, samples);
          const gone = batch.deletes.map((i) => slots[i % slots.length]);
          if (gone.length > 0) {
            await t.db.deleteFrom('samples').where('entity_id', '=', e.id).where('time', 'in', gone.map((x) => new Date(x))).execute();
          }
          const touched = [...samples.map((s) => s.t), ...gone];
          // Small windows also exercise the window-by-window path.
          await recomputeLedger(t.db, e, { from: Math.min(...touched), to: Math.max(...touched) }, { windowSamples });
        }
        const incremental = await rows(e.id);
        const incrementalHours = await hours(e.id);
        await recomputeAll(t.db, e);
        expect(incremental).toEqual(await rows(e.id));
        expect(incrementalHours.map((h) => h.bucket)).toEqual((await hours(e.id)).map((h) => h.bucket));

        const segments = closedSegments(await allSamples(e.id), ledgerOptions(e));
        const expected = toBuckets(segments);
        const stored = new Map(incremental.map((r) => [r.bucket, r.kwh]));
        expect([...stored.keys()].sort()).toEqual([...expected.keys()].sort());
        const segmentTotal = segments.reduce((a, s) => a + s.kwh, 0);
        expect(Math.abs(sumBuckets(stored) - segmentTotal)).toBeLessThan(1e-9);
        const { rows: [sums] } = await sql<{ h: number | null }>`select sum(kwh) as h from energy_1h where entity_id = ${e.id}`.execute(t.db);
        expect(Math.abs((sums.h ?? 0) - segmentTotal)).toBeLessThan(1e-9);
      },
    ), { numRuns: 100 });
  }, 120_000);

  it('computes a range from the samples it was handed when they are what is stored, and reads them when a write changed them', async () => {
    const kinds = ['power', 'energy_total', 'energy_interval'] as const;
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...kinds),
      // Stored before the import: readings around and inside the imported span.
      fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 4000 })), { maxLength: 12 }),
      // The imported readings: minute offsets (made strictly increasing) and values.
      fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 4000 })), { minLength: 1, maxLength: 60 }),
      // What a live write does to the span after the import committed, before its ledger recompute.
      fc.constantFrom('nothing', 'changes a value', 'adds a reading', 'deletes a reading'),
      fc.integer({ min: 1, max: 8 }),
      async (kind, before, imported, meddle, windowSamples) => {
        const e = entityOf(kind);
        const value = (v: number): number => (kind === 'power' ? v : v / 100);
        await write(e, before.map(([m, v]) => ({ t: DAY + m * MIN, v: value(v) })));
        let minute = 100;
        const stream = imported.map(([dm, v]) => ({ t: DAY + (minute += dm) * MIN, v: value(v) }));
        await write(e, stream);
        const known = { t: Float64Array.from(stream, (x) => x.t), v: Float64Array.from(stream, (x) => x.v), count: stream.length };
        const mid = stream[Math.floor(stream.length / 2)];
        if (meddle === 'changes a value') await write(e, [{ t: mid.t, v: (mid.v ?? 0) + 1 }]);
        if (meddle === 'adds a reading') await write(e, [{ t: mid.t + 1_000, v: 5 }]);
        if (meddle === 'deletes a reading') {
          await t.db.deleteFrom('samples').where('entity_id', '=', e.id).where('time', '=', new Date(mid.t)).execute();
        }
        await recomputeLedger(t.db, e, { from: stream[0].t, to: stream.at(-1)!.t }, { known, windowSamples });
        // The samples written before the import were never recomputed: rebuild the parts outside the
        // import's span the same way for the comparison, then the whole entity from scratch.
        const viaKnown = (await rows(e.id)).filter((r) => r.bucket >= stream[0].t - 15 * MIN && r.bucket < stream.at(-1)!.t);
        await recomputeAll(t.db, e);
        const rebuilt = (await rows(e.id)).filter((r) => r.bucket >= stream[0].t - 15 * MIN && r.bucket < stream.at(-1)!.t);
        expect(viaKnown).toEqual(rebuilt);
      },
    ), { numRuns: 60 });
  }, 120_000);
});
