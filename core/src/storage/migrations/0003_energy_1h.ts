/**
 * Frozen. UTC hourly sums of energy_15m, maintained by the ledger next to it: day, month and year
 * queries read a quarter of the rows. Valid for local periods whose boundaries fall on whole UTC
 * hours (the queries check that, and use energy_15m otherwise). Imports nothing from the app.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('energy_1h')
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('bucket', 'timestamptz', (c) => c.notNull())
    .addColumn('kwh', 'float8', (c) => c.notNull())
    .addPrimaryKeyConstraint('energy_1h_pkey', ['entity_id', 'bucket'])
    .execute();
  await db.schema.createIndex('energy_1h_bucket_idx').on('energy_1h').column('bucket').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('energy_1h').ifExists().execute();
}
