/**
 * Frozen: never edit a migration that has shipped; add a new one. Imports nothing from the app.
 * Valid on PostgreSQL 15 and newer.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('address', 'text')
    .addColumn('manufacturer', 'text')
    .addColumn('model', 'text')
    .addColumn('integration', 'text')
    .addColumn('owner_id', 'text')
    .addColumn('max_hourly_kwh', 'float8')
    .addColumn('max_power_w', 'float8')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('devices_owner_idx').on('devices').column('owner_id').execute();
  await db.schema.createIndex('devices_integration_idx').on('devices').column('integration').execute();

  await db.schema
    .createTable('entities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('role', 'text')
    .addColumn('source_unit', 'text')
    .addColumn('reports_on_change', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('max_gap_s', 'float8')
    .addColumn('flow', 'text', (c) => c.notNull().defaultTo('in'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('entities_device_key_unique', ['device_id', 'key'])
    .addCheckConstraint('entities_flow_check', sql`flow in ('in', 'out')`)
    .execute();

  // Raw readings. No foreign key to entities: a reading must never be refused (and a recorder batch
  // stalled) because of registration order; deleting a device deletes its samples explicitly.
  await db.schema
    .createTable('samples')
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('time', 'timestamptz', (c) => c.notNull())
    .addColumn('value', 'float8')
    .addPrimaryKeyConstraint('samples_pkey', ['entity_id', 'time'])
    .execute();

  await db.schema
    .createTable('quarantine')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('time', 'timestamptz', (c) => c.notNull())
    .addColumn('value', 'float8')
    .addColumn('raw', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('quarantine_entity_time_idx').on('quarantine').columns(['entity_id', 'time']).execute();
  await db.schema.createIndex('quarantine_received_idx').on('quarantine').column('received_at').execute();

  await db.schema
    .createTable('energy_15m')
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('bucket', 'timestamptz', (c) => c.notNull())
    .addColumn('kwh', 'float8', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('energy_15m_pkey', ['entity_id', 'bucket'])
    .execute();
  // Cross-entity totals (fleet, top consumers) scan by time, not by entity.
  await db.schema.createIndex('energy_15m_bucket_idx').on('energy_15m').column('bucket').execute();

  await db.schema
    .createTable('states')
    .addColumn('entity_id', 'text', (c) => c.primaryKey())
    .addColumn('value', 'float8')
    .addColumn('text', 'text')
    .addColumn('available', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('last_changed', 'timestamptz', (c) => c.notNull())
    .addColumn('last_reported', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('kv')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('kv_pkey', ['scope', 'key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['kv', 'states', 'energy_15m', 'quarantine', 'samples', 'entities', 'devices']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
