import fc from 'fast-check';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { poolOf } from '../../src/storage/db.js';
import { dedupeLastWins, insertSamples, isoFormatter, latestSamples, loadSamples } from '../../src/storage/samples.js';
import { copyNewSamples, copySamples } from '../../src/storage/samples-copy.js';
import type { SampleRow } from '../../src/storage/samples.js';
import { createTestDatabase, describeDb } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;

async function allSamples(t: TestDatabase) {
  const rows = await t.db.selectFrom('samples').selectAll().orderBy('entity_id').orderBy('time').execute();
  return rows.map((r) => ({ entityId: r.entity_id, t: r.time.getTime(), v: r.value }));
}

describeDb('samples', (target) => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(target.url); });
  afterEach(async () => { await t.drop(); });

  it('stores a batch and reads it back by range and by latest', async () => {
    const rows: SampleRow[] = Array.from({ length: 10 }, (_, i) => ({ entityId: 'fridge.power', t: T0 + i * MIN, v: i * 10.5 }));
    rows.push({ entityId: 'fridge.power', t: T0 + 10 * MIN, v: null });
    expect(await insertSamples(t.db, rows)).toEqual({ count: 11, changed: 11 });

    expect(await loadSamples(t.db, 'fridge.power', T0 + 2 * MIN, T0 + 4 * MIN)).toEqual([
      { t: T0 + 2 * MIN, v: 21 }, { t: T0 + 3 * MIN, v: 31.5 },
    ]);
    expect(await latestSamples(t.db, 'fridge.power', 2)).toEqual([{ t: T0 + 9 * MIN, v: 94.5 }, { t: T0 + 10 * MIN, v: null }]);
    expect(await latestSamples(t.db, 'fridge.power', 1, T0 + 5 * MIN)).toEqual([{ t: T0 + 4 * MIN, v: 42 }]);
    expect(await loadSamples(t.db, 'other.power', T0, T0 + 60 * MIN)).toEqual([]);
  });

  it('lets the last write per entity and time win, within a batch and across batches', async () => {
    const r = await insertSamples(t.db, [
      { entityId: 'a.power', t: T0, v: 1 },
      { entityId: 'b.power', t: T0, v: 5 },
      { entityId: 'a.power', t: T0, v: 2 },
      { entityId: 'a.power', t: T0 + MIN, v: 3 },
      { entityId: 'a.power', t: T0, v: 4 },
    ]);
    expect(r.count).toBe(3);
    expect(await allSamples(t)).toEqual([
      { entityId: 'a.power', t: T0, v: 4 }, { entityId: 'a.power', t: T0 + MIN, v: 3 }, { entityId: 'b.power', t: T0, v: 5 },
    ]);

    // A correction overwrites; re-sending the same readings changes nothing.
    expect(await insertSamples(t.db, [{ entityId: 'a.power', t: T0 + MIN, v: 30 }])).toEqual({ count: 1, changed: 1 });
    expect(await insertSamples(t.db, [{ entityId: 'a.power', t: T0 + MIN, v: 30 }, { entityId: 'b.power', t: T0, v: 5 }])).toEqual({ count: 2, changed: 0 });
    expect((await allSamples(t)).find((s) => s.entityId === 'a.power' && s.t === T0 + MIN)?.v).toBe(30);
  });

  it('keeps awkward entity ids and extreme values intact', async () => {
    const ids = ['quote"d.power', 'back\\slash.power', 'comma,brace{}.power', 'tab\there.power', 'ünï.power'];
    await insertSamples(t.db, ids.map((entityId, i) => ({ entityId, t: T0 + i, v: [1e-300, -2.5e10, 0, 123456.789012, Number.MAX_VALUE][i] })));
    await copySamples(t.db, ids.map((entityId, i) => ({ entityId, t: T0 + 1000 + i, v: 7 })));
    const got = await allSamples(t);
    expect(new Set(got.map((g) => g.entityId))).toEqual(new Set(ids));
    expect(got.filter((g) => g.t < T0 + 1000).map((g) => g.v).sort((a, b) => a! - b!)).toEqual([-2.5e10, 0, 1e-300, 123456.789012, Number.MAX_VALUE]);
  });

  it('copies times and values exactly, before 2000 and far ahead, through the binary COPY', async () => {
    const times = [Date.UTC(1970, 0, 1), Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2000, 0, 1), T0 + 0.9, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(1, 0, 1)];
    const values = [1e-300, -2.5e10, 0, 123456.789012, Number.MAX_VALUE, null];
    await copySamples(t.db, times.map((time, i) => ({ entityId: 'copy.power', t: time, v: values[i] })));
    const got = (await allSamples(t)).filter((g) => g.entityId === 'copy.power');
    // Times are whole milliseconds (floored), as the ISO text of the other write paths.
    expect(got.map((g) => [g.t, g.v])).toEqual(times.map((time, i) => [Math.floor(time), values[i]]).sort((a, b) => (a[0] as number) - (b[0] as number)));
    await expect(copySamples(t.db, [{ entityId: 'copy.power', t: Date.UTC(10000, 0, 1), v: 1 }])).rejects.toThrow(/outside the years 1 to 9999/);
  });

  it('copies new live readings in one COPY, and stores nothing (the caller merges) when one of them is stored already', async () => {
    const pool = poolOf(t.db)!;
    const ids = Array.from({ length: 5000 }, (_, i) => `live${i % 3}.power`);
    const ts = ids.map((_, i) => T0 + Math.floor(i / 3) * 1000);
    const vs = ids.map((_, i) => (i % 11 === 0 ? null : i * 1.5));
    expect(await copyNewSamples(pool, ids, ts, vs)).toBe(true);
    expect((await allSamples(t)).filter((g) => g.entityId.startsWith('live'))).toHaveLength(5000);
    // One reading already stored (with another value): nothing of the batch is written.
    expect(await copyNewSamples(pool, ['live0.power', 'live9.power'], [T0 + 10_000_000, ts[0]], [1, 2])).toBe(true);
    expect(await copyNewSamples(pool, ['live8.power', 'live0.power'], [T0, ts[0]], [1, 99])).toBe(false);
    const after = await allSamples(t);
    expect(after.find((g) => g.entityId === 'live0.power' && g.t === ts[0])?.v).toBe(vs[0]);
    expect(after.some((g) => g.entityId === 'live8.power')).toBe(false);
    // Repeated or unordered instants of an entity are left to the upsert, as are invalid rows.
    expect(await copyNewSamples(pool, ['x.power', 'x.power'], [T0, T0], [1, 2])).toBe(false);
    expect(await copyNewSamples(pool, ['x.power'], [Number.NaN], [1])).toBe(false);
    expect((await allSamples(t)).some((g) => g.entityId === 'x.power')).toBe(false);
  });

  it('reports a refused COPY as "not new" even when the refusal arrives while rows are still being sent', async () => {
    // The server refuses at the first row; the client is then still sending: it must stop and say so
    // (false), not fail with an error of the COPY stream's own.
    const pool = poolOf(t.db)!;
    await insertSamples(t.db, [{ entityId: 'big.power', t: T0, v: 5 }]);
    const n = 200_000;
    const ids = Array.from({ length: n }, () => 'big.power');
    const ts = ids.map((_, i) => T0 + i * 1000);
    const vs = ids.map((_, i) => i);
    expect(await copyNewSamples(pool, ids, ts, vs)).toBe(false);
    const stored = (await allSamples(t)).filter((g) => g.entityId === 'big.power');
    expect(stored).toEqual([{ entityId: 'big.power', t: T0, v: 5 }]);
    // The pool still works afterwards.
    expect(await copyNewSamples(pool, ['big.power'], [T0 + 1e10], [1])).toBe(true);
  });

  it('splits a very large batch into several statements without losing a row', async () => {
    const rows: SampleRow[] = [];
    for (let i = 0; i < 45_000; i++) rows.push({ entityId: `e${i % 3}.power`, t: T0 + Math.floor(i / 3) * 1000, v: i });
    expect((await insertSamples(t.db, rows)).count).toBe(45_000);
    const n = await t.db.selectFrom('samples').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(n.n).toBe(45_000);
  });

  it('imports through COPY idempotently and reports the range per entity', async () => {
    function* file(): Generator<SampleRow> {
      for (let i = 0; i < 3000; i++) {
        yield { entityId: 'meter.energy', t: T0 + i * MIN, v: 1000 + i * 0.25 };
        yield { entityId: 'pv.power', t: T0 + i * MIN, v: i % 7 === 0 ? null : i };
      }
    }
    const progress: number[] = [];
    const first = await copySamples(t.db, file(), { chunkRows: 1000, onProgress: (n) => progress.push(n) });
    expect(first.count).toBe(6000);
    expect(first.ranges).toEqual(new Map([
      ['meter.energy', { from: T0, to: T0 + 2999 * MIN }],
      ['pv.power', { from: T0, to: T0 + 2999 * MIN }],
    ]));
    expect(progress.at(-1)).toBe(6000);
    const before = await allSamples(t);
    expect(before).toHaveLength(6000);

    const second = await copySamples(t.db, (async function* () { yield* file(); })());
    expect(second.count).toBe(6000);
    expect(await allSamples(t)).toEqual(before);
  });

  it('lets the last row win when an import repeats a timestamp, in or out of order', async () => {
    const rows: SampleRow[] = [
      { entityId: 'x.power', t: T0 + 2 * MIN, v: 1 },
      { entityId: 'x.power', t: T0, v: 2 },
      { entityId: 'x.power', t: T0 + 2 * MIN, v: 3 },
      { entityId: 'x.power', t: T0 + MIN, v: 4 },
    ];
    const r = await copySamples(t.db, rows);
    expect(r.ranges.get('x.power')).toEqual({ from: T0, to: T0 + 2 * MIN });
    expect(await loadSamples(t.db, 'x.power', T0, T0 + 3 * MIN)).toEqual([
      { t: T0, v: 2 }, { t: T0 + MIN, v: 4 }, { t: T0 + 2 * MIN, v: 3 },
    ]);
    // A later import corrects earlier data, exactly like a live write.
    await copySamples(t.db, [{ entityId: 'x.power', t: T0, v: 20 }]);
    expect((await loadSamples(t.db, 'x.power', T0, T0 + 1))[0].v).toBe(20);
  });

  it('keeps the last row when a later chunk repeats times of an earlier one (chunks committed while the next is read)', async () => {
    const rows: SampleRow[] = [];
    for (let i = 0; i < 50; i++) rows.push({ entityId: 'y.power', t: T0 + i * MIN, v: i });
    for (let i = 0; i < 50; i++) rows.push({ entityId: 'y.power', t: T0 + i * MIN, v: 100 + i });
    rows.push({ entityId: 'z.power', t: T0, v: 1 }, { entityId: 'y.power', t: T0 + 99 * MIN, v: 7 }, { entityId: 'z.power', t: T0 + MIN, v: 2 });
    const progress: number[] = [];
    const r = await copySamples(t.db, rows, { chunkRows: 7, onProgress: (n) => progress.push(n) });
    expect(r.count).toBe(103);
    expect(progress).toEqual([...Array.from({ length: 14 }, (_, i) => (i + 1) * 7), 103]);
    const y = await loadSamples(t.db, 'y.power', T0, T0 + 100 * MIN);
    expect(y).toEqual([...Array.from({ length: 50 }, (_, i) => ({ t: T0 + i * MIN, v: 100 + i })), { t: T0 + 99 * MIN, v: 7 }]);
    expect(await loadSamples(t.db, 'z.power', T0, T0 + 2 * MIN)).toEqual([{ t: T0, v: 1 }, { t: T0 + MIN, v: 2 }]);
  });

  it('streams one large transaction through staging, first import and re-import alike', async () => {
    function* file(): Generator<SampleRow> {
      for (let i = 0; i < 5000; i++) yield { entityId: `e${i % 4}.power`, t: T0 + Math.floor(i / 4) * MIN, v: i };
    }
    const opts = { chunkRows: Number.POSITIVE_INFINITY, directMaxRows: 100 };
    expect((await copySamples(t.db, file(), opts)).count).toBe(5000);
    const once = await allSamples(t);
    expect(once).toHaveLength(5000);
    await copySamples(t.db, file(), opts);
    expect(await allSamples(t)).toEqual(once);
    // Overlapping and out of order: merged, last row wins.
    await copySamples(t.db, [{ entityId: 'e0.power', t: T0, v: -1 }, ...file(), { entityId: 'e0.power', t: T0, v: -2 }], opts);
    expect((await loadSamples(t.db, 'e0.power', T0, T0 + 1))[0].v).toBe(-2);
  });

  it('stores nothing of a one-transaction import whose input fails part way', async () => {
    async function* failing(): AsyncGenerator<SampleRow> {
      for (let i = 0; i < 1000; i++) yield { entityId: 'a.power', t: T0 + i * MIN, v: i };
      throw new Error('bad line 1001');
    }
    await expect(copySamples(t.db, failing(), { chunkRows: Number.POSITIVE_INFINITY, directMaxRows: 100 })).rejects.toThrow('bad line 1001');
    await expect(copySamples(t.db, failing(), { chunkRows: Number.POSITIVE_INFINITY })).rejects.toThrow('bad line 1001');
    expect(await allSamples(t)).toEqual([]);
    // The pool is still usable afterwards.
    await insertSamples(t.db, [{ entityId: 'a.power', t: T0, v: 1 }]);
    expect(await allSamples(t)).toHaveLength(1);
  });

  it('falls back to merging when a live write lands in the range of a first import', async () => {
    // Stand-in for a concurrent writer: the first row inserted into samples fails as a duplicate would.
    await sql`create sequence once_seq`.execute(t.db);
    await sql`create function fail_once() returns trigger language plpgsql as $$
      begin
        if nextval('once_seq') = 1 then raise exception 'simulated race' using errcode = 'unique_violation'; end if;
        return new;
      end $$`.execute(t.db);
    await sql`create trigger fail_once before insert on samples for each row execute function fail_once()`.execute(t.db);
    const rows = Array.from({ length: 300 }, (_, i) => ({ entityId: 'a.power', t: T0 + i * MIN, v: i }));
    expect((await copySamples(t.db, rows)).count).toBe(300); // direct COPY, then the merge
    expect(await allSamples(t)).toHaveLength(300);
    await sql`alter sequence once_seq restart`.execute(t.db);
    const more = rows.map((r) => ({ ...r, entityId: 'b.power' }));
    await copySamples(t.db, more, { chunkRows: Number.POSITIVE_INFINITY, directMaxRows: 50 }); // staging, plain insert, then the merge
    expect(await allSamples(t)).toHaveLength(600);
  });

  it('refuses a malformed reading without writing part of the batch', async () => {
    await expect(insertSamples(t.db, [
      { entityId: 'a.power', t: T0, v: 1 },
      { entityId: 'a.power', t: Number.NaN, v: 2 },
    ])).rejects.toThrow(/invalid sample at index 1/);
    expect(await allSamples(t)).toEqual([]);
  });
});

describe('sample helpers', () => {
  it('formats times exactly like toISOString', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: -62135596800000, max: 253402300799999, noNaN: true }), { maxLength: 50 }), (ts) => {
      const iso = isoFormatter(); // one formatter across many times, as in a batch
      for (const t of ts) expect(iso(t)).toBe(new Date(Math.floor(t)).toISOString());
    }));
  });

  it('keeps the last row per entity and instant, in first-seen order', () => {
    const rows = [
      { entityId: 'a', t: 2, v: 1 }, { entityId: 'b', t: 2, v: 2 }, { entityId: 'a', t: 1, v: 3 }, { entityId: 'a', t: 2, v: 4 },
    ];
    expect(dedupeLastWins(rows)).toEqual([{ entityId: 'a', t: 2, v: 4 }, { entityId: 'b', t: 2, v: 2 }, { entityId: 'a', t: 1, v: 3 }]);
    const clean = [{ entityId: 'a', t: 1, v: 1 }, { entityId: 'a', t: 2, v: 1 }];
    expect(dedupeLastWins(clean)).toBe(clean);
  });
});
