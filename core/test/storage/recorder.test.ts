import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDb, migrateToLatest } from '../../src/storage/db.js';
import { createRecorder } from '../../src/storage/recorder.js';
import type { FlushSummary, Recorder } from '../../src/storage/recorder.js';
import type { Database } from '../../src/storage/schema.js';
import { createTestDatabase, describeDb } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { embeddedUnavailable, makeTempDir, startOwnServer, testLogger } from '../support/embedded-server.js';
import type { OwnServer } from '../support/embedded-server.js';

const T0 = Date.UTC(2025, 5, 1);
const log = testLogger();

async function rows(db: Kysely<Database>, entityId?: string) {
  let q = db.selectFrom('samples').selectAll();
  if (entityId) q = q.where('entity_id', '=', entityId);
  const r = await q.orderBy('entity_id').orderBy('time').execute();
  return r.map((s) => ({ entityId: s.entity_id, t: s.time.getTime(), v: s.value }));
}

async function count(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('samples').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

function rangesUnion(summaries: FlushSummary[]): Map<string, { from: number; to: number }> {
  const out = new Map<string, { from: number; to: number }>();
  for (const s of summaries) {
    for (const [id, r] of s.ranges) {
      const o = out.get(id);
      out.set(id, o ? { from: Math.min(o.from, r.from), to: Math.max(o.to, r.to) } : { ...r });
    }
  }
  return out;
}

describeDb('recorder', (target) => {
  let t: TestDatabase;
  let spool: Awaited<ReturnType<typeof makeTempDir>>;
  let rec: Recorder | undefined;
  beforeEach(async () => {
    t = await createTestDatabase(target.url);
    spool = await makeTempDir('joulehub-test-spool-');
  });
  afterEach(async () => {
    await rec?.stop();
    rec = undefined;
    await t.drop();
    await spool.remove();
  });

  it('writes everything added once flush() resolves, and reports what it wrote', async () => {
    const flushed: FlushSummary[] = [];
    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir, maxBatch: 1000, onFlushed: (s) => { flushed.push(s); } });
    for (let i = 0; i < 5000; i++) rec.add(i % 2 ? 'pv.power' : 'grid.power', T0 + i * 1000, i);
    await rec.flush();
    expect(await count(t.db)).toBe(5000);
    expect(flushed.reduce((n, s) => n + s.count, 0)).toBe(5000);
    expect(rangesUnion(flushed)).toEqual(new Map([
      ['grid.power', { from: T0, to: T0 + 4998_000 }],
      ['pv.power', { from: T0 + 1000, to: T0 + 4999_000 }],
    ]));
    expect(rec.status()).toMatchObject({ buffered: 0, accepted: 5000, written: 5000, databaseDown: false });
  });

  it('keeps the last of several readings for the same instant, in the order they were added', async () => {
    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir, maxBatch: 2 });
    rec.add('a.power', T0, 1);
    rec.add('a.power', T0, 2);
    rec.add('a.power', T0 + 1, 5);
    rec.add('a.power', T0, 3); // a later batch
    await rec.flush();
    rec.add('a.power', T0 + 1, null);
    await rec.flush();
    expect(await rows(t.db)).toEqual([{ entityId: 'a.power', t: T0, v: 3 }, { entityId: 'a.power', t: T0 + 1, v: null }]);
  });

  it('writes a batch as several statements in order: the last reading for an instant wins across them', async () => {
    const flushed: FlushSummary[] = [];
    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir, maxBatch: 1000, writeChunk: 3, onFlushed: (s) => { flushed.push(s); } });
    rec.add('a.power', T0, 1);
    rec.add('a.power', T0 + 1, 5);
    rec.add('b.power', T0, 8);
    rec.add('a.power', T0, 2); // second statement
    rec.add('b.power', T0, null);
    rec.add('a.power', T0 + 2, 6);
    rec.add('a.power', T0, 3); // third statement
    await rec.flush();
    expect(await rows(t.db)).toEqual([
      { entityId: 'a.power', t: T0, v: 3 }, { entityId: 'a.power', t: T0 + 1, v: 5 }, { entityId: 'a.power', t: T0 + 2, v: 6 },
      { entityId: 'b.power', t: T0, v: null },
    ]);
    // One batch, one summary, whatever the number of statements.
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toMatchObject({ count: 7, replayed: false });
    expect(flushed[0].ranges).toEqual(new Map([['a.power', { from: T0, to: T0 + 2 }], ['b.power', { from: T0, to: T0 }]]));
  });

  it('stores a large batch that repeats a stored reading: the refused fast COPY falls back to the upsert, nothing is set aside', async () => {
    // Live batches first try a binary COPY of new rows. When the server refuses it (a reading is
    // stored already, as after a replay) the rest of the batch must still be written. A TypeError
    // from the COPY stream once sent such a batch to the rejected file: 4,000 readings lost.
    const n = 120_000;
    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir, maxBatch: n, flushIntervalMs: 60_000 });
    rec.add('a.power', T0, -1);
    await rec.flush();
    for (let i = 0; i < n; i++) rec.add(i % 2 ? 'b.power' : 'a.power', T0 + Math.floor(i / 2) * 1000, i);
    await rec.flush();
    expect(await count(t.db)).toBe(n);
    expect((await rows(t.db, 'a.power'))[0]).toEqual({ entityId: 'a.power', t: T0, v: 0 });
    expect(rec.status().written).toBe(n + 1);
    expect(rec.status().lastError).toBeUndefined();
    expect(await readdir(spool.dir)).not.toContain('recorder-rejected.ndjson');
  });

  it('drops readings it cannot store and says how many', async () => {
    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir });
    rec.add('a.power', Number.NaN, 1);
    rec.add('a.power', T0, Number.POSITIVE_INFINITY);
    rec.add('', T0, 1);
    rec.add('a.power', T0, 7);
    await rec.flush();
    expect(await rows(t.db)).toEqual([{ entityId: 'a.power', t: T0, v: 7 }]);
    expect(rec.status().dropped).toBe(3);
  });

  it('writes what is left when stopped', async () => {
    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir, flushIntervalMs: 60_000 });
    for (let i = 0; i < 100; i++) rec.add('a.power', T0 + i, i);
    await rec.stop();
    expect(await count(t.db)).toBe(100);
    expect(await readdir(spool.dir)).toEqual([]);
  });

  it('bounds memory with the spool while the database hangs, and loses nothing', async () => {
    // Another session holds a lock on samples: writes hang (the database is up but stuck).
    const locker = createDb(t.url, { max: 1 });
    const release = await new Promise<() => void>((outer) => {
      void locker.transaction().execute(async (trx) => {
        await sql`lock table samples in access exclusive mode`.execute(trx);
        await new Promise<void>((resolve) => outer(resolve));
      });
    });
    try {
      rec = createRecorder({ db: t.db, log, spoolDir: spool.dir, maxBatch: 500, maxBuffered: 1000 });
      for (let i = 0; i < 20_000; i++) rec.add('a.power', T0 + i * 1000, i);
      await vi.waitFor(() => expect(rec!.status().buffered).toBeLessThanOrEqual(1000), { timeout: 10_000 });
      expect(rec.status().spooledBytes).toBeGreaterThan(0);
    } finally {
      release();
    }
    await vi.waitFor(async () => expect(await count(t.db)).toBe(20_000), { timeout: 20_000, interval: 100 });
    await rec.flush();
    expect((await rows(t.db, 'a.power')).every((r, i) => r.t === T0 + i * 1000 && r.v === i)).toBe(true);
    await vi.waitFor(() => expect(rec!.status().spooledBytes).toBe(0));
    await locker.destroy();
  });

  it('stops in bounded time while the database hangs, and the next recorder delivers the rest', async () => {
    const locker = createDb(t.url, { max: 1 });
    const release = await new Promise<() => void>((outer) => {
      void locker.transaction().execute(async (trx) => {
        await sql`lock table samples in access exclusive mode`.execute(trx);
        await new Promise<void>((resolve) => outer(resolve));
      });
    });
    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir });
    for (let i = 0; i < 1000; i++) rec.add('a.power', T0 + i * 1000, i);
    await new Promise((r) => setTimeout(r, 400)); // a write is now waiting on the lock
    await rec.stop({ timeoutMs: 300 });
    expect(await readdir(spool.dir)).toEqual(['recorder-spool.ndjson']);
    release();
    await locker.destroy();

    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir });
    await vi.waitFor(async () => expect(await count(t.db)).toBe(1000), { timeout: 20_000, interval: 100 });
  });

  it('replays a spool left by an earlier run before anything newer, and skips a torn last line', async () => {
    await mkdir(spool.dir, { recursive: true });
    const line = (e: string[], ts: number[], v: (number | null)[]) => `${JSON.stringify({ e, t: ts, v })}\n`;
    await writeFile(path.join(spool.dir, 'recorder-spool.ndjson'),
      line(['a.power', 'b.power'], [T0, T0], [1, 2]) + line(['a.power'], [T0 + 1], [3]) + '{"e":["a.pow');
    const flushed: FlushSummary[] = [];
    rec = createRecorder({ db: t.db, log, spoolDir: spool.dir, onFlushed: (s) => { flushed.push(s); } });
    rec.add('a.power', T0, 10); // newer than the spooled value for the same instant
    await rec.flush();
    expect(await rows(t.db)).toEqual([
      { entityId: 'a.power', t: T0, v: 10 }, { entityId: 'a.power', t: T0 + 1, v: 3 }, { entityId: 'b.power', t: T0, v: 2 },
    ]);
    expect(flushed.filter((s) => s.replayed).reduce((n, s) => n + s.count, 0)).toBe(3);
    expect(await readdir(spool.dir)).toEqual([]);
  });
});

describe.skipIf(embeddedUnavailable())('recorder across a real database outage', () => {
  let own: OwnServer;
  let db: Kysely<Database>;
  let spool: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    own = await startOwnServer(log);
    db = createDb(own.server.url, { log, connectionTimeoutMillis: 2_000 });
    await migrateToLatest(db);
    spool = await makeTempDir('joulehub-test-spool-');
  });
  afterEach(async () => {
    await db.destroy();
    await own.dispose();
    await spool.remove();
  });

  it('spools while the server is down and delivers every reading, in order, when it is back', async () => {
    const flushed: FlushSummary[] = [];
    const rec = createRecorder({ db, log, spoolDir: spool.dir, maxBatch: 500, writeChunk: 100, retryMinMs: 50, retryMaxMs: 200, onFlushed: (s) => { flushed.push(s); } });
    let i = 0;
    const addSome = (n: number) => { for (const end = i + n; i < end; i++) rec.add(`e${i % 5}.power`, T0 + i * 1000, i); };
    addSome(2000);
    rec.add('fix.power', T0, 1);
    await rec.flush();
    expect(await count(db)).toBe(2001);

    await own.server.stop();
    for (let k = 0; k < 5; k++) {
      addSome(1000);
      await rec.flush(); // durable in the spool while the database is down
    }
    rec.add('fix.power', T0, 2); // a correction made during the outage must win over the stored value
    await rec.flush();
    expect(rec.status().databaseDown).toBe(true);
    expect(rec.status().spooledBytes).toBeGreaterThan(0);

    await own.restart();
    addSome(1000);
    await vi.waitFor(async () => expect(await count(db)).toBe(8001), { timeout: 30_000, interval: 100 });
    await rec.flush();
    await rec.stop();

    const stored = await rows(db);
    expect(stored.find((r) => r.entityId === 'fix.power')?.v).toBe(2);
    const values = stored.filter((r) => r.entityId !== 'fix.power').map((r) => r.v).sort((a, b) => a! - b!);
    expect(values).toEqual(Array.from({ length: 8000 }, (_, k) => k));
    // The ledger hears about the replayed readings too.
    expect(flushed.some((s) => s.replayed)).toBe(true);
    expect(rangesUnion(flushed).get('e0.power')).toEqual({ from: T0, to: T0 + 7995_000 });
    expect(rec.status()).toMatchObject({ accepted: 8002, buffered: 0, spooledBytes: 0, databaseDown: false });
  });

  it('a recorder restarted over the same spool directory replays what the last one could not write', async () => {
    await own.server.stop();
    const first = createRecorder({ db, log, spoolDir: spool.dir, retryMinMs: 50 });
    for (let i = 0; i < 3000; i++) first.add('heat_pump.power', T0 + i * 60_000, i % 40);
    await first.flush();
    await first.stop();
    expect((await readdir(spool.dir)).length).toBe(1);

    await own.restart();
    const flushed: FlushSummary[] = [];
    const second = createRecorder({ db, log, spoolDir: spool.dir, onFlushed: (s) => { flushed.push(s); } });
    await vi.waitFor(async () => expect(await count(db)).toBe(3000), { timeout: 30_000, interval: 100 });
    await second.stop();
    expect(flushed.reduce((n, s) => n + s.count, 0)).toBe(3000);
    expect(flushed.every((s) => s.replayed)).toBe(true);
    expect(await readdir(spool.dir)).toEqual([]);
  });
});
