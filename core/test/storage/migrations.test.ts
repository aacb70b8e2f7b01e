import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { migrateToLatest, timescaleAvailable, timescaleEnabled } from '../../src/storage/db.js';
import { migrations } from '../../src/storage/migrations/index.js';
import { createTestDatabase, describeDb } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

async function schemaSnapshot(t: TestDatabase): Promise<unknown[]> {
  const { rows } = await sql`
    select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = 'public'
    order by table_name, column_name`.execute(t.db);
  const idx = await sql`select indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`.execute(t.db);
  return [rows, idx.rows];
}

describeDb('migrations', (target) => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(target.url); });
  afterEach(async () => { await t.drop(); });

  it('creates every table of the schema (later migrations may add more)', async () => {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely_%'
      order by table_name`.execute(t.db);
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['devices', 'energy_15m', 'entities', 'kv', 'quarantine', 'samples', 'states']));
  });

  it('applies a second time without changing anything', async () => {
    const before = await schemaSnapshot(t);
    expect(await migrateToLatest(t.db)).toEqual([]);
    expect(await schemaSnapshot(t)).toEqual(before);
    const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(t.db);
    expect(rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
  });

  it('keeps plain tables where TimescaleDB is not loadable, and says so', async () => {
    const available = await timescaleAvailable(t.db);
    expect(await timescaleEnabled(t.db)).toBe(available);
    if (!available) {
      const { rows } = await sql`select 1 from pg_extension where extname = 'timescaledb'`.execute(t.db);
      expect(rows).toHaveLength(0);
    }
  });

  it('deletes a device\'s entities with it', async () => {
    await t.db.insertInto('devices').values({ id: 'fridge', name: 'Fridge' }).execute();
    await t.db.insertInto('entities').values({ id: 'fridge.power', device_id: 'fridge', key: 'power', kind: 'power' }).execute();
    await t.db.deleteFrom('devices').where('id', '=', 'fridge').execute();
    expect(await t.db.selectFrom('entities').selectAll().execute()).toEqual([]);
  });

  it('returns bigint counts as numbers and times as Dates', async () => {
    await t.db.insertInto('samples').values({ entity_id: 'a.power', time: new Date('2025-01-01T00:00:00Z'), value: 1 }).execute();
    const row = await t.db.selectFrom('samples').select((eb) => [eb.fn.countAll().as('n'), eb.fn.max('time').as('last')]).executeTakeFirstOrThrow();
    expect(row.n).toBe(1);
    expect(row.last).toEqual(new Date('2025-01-01T00:00:00Z'));
  });
});
