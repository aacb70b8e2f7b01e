/**
 * Frozen. Where TimescaleDB can be used, turn the time-series tables into hypertables with
 * compression. Elsewhere this is a no-op: every query gives identical results on plain tables.
 * Imports nothing from the app. Checked on TimescaleDB 2.23 (core/test/timescale).
 *
 * TimescaleDB can be used when the extension is already installed in this database (the
 * timescale/timescaledb Docker image installs it in POSTGRES_DB), or when it is available and the
 * server preloads it (or allows installing it without: `timescaledb.allow_install_without_preload`,
 * the loader's own rule). Without preloading, CREATE EXTENSION ends the session with FATAL, so it
 * is never just tried. The preload setting is read through pg_settings, which hides it from roles
 * that may not see it, rather than current_setting(), which raises an error for them.
 *
 * No continuous aggregates. energy_1h (0003) is the hourly rollup: the ledger writes it in the same
 * transaction as the energy_15m rows it sums, so it is never stale, and it is the same on plain
 * PostgreSQL. A continuous aggregate of time_bucket('1 hour') over energy_15m gives the same numbers
 * (the compatibility suite checks that) but only after a refresh, needs a second query path, and
 * cannot be created in a transaction, while Kysely's Migrator runs all pending migrations in one
 * unless `disableTransactions` is set for all of them. Days (and months) are cut in the query's
 * time zone, which a UTC-day aggregate does not serve.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ available: boolean }>`
    select exists (select 1 from pg_extension where extname = 'timescaledb')
        or (exists (select 1 from pg_available_extensions where name = 'timescaledb')
            and (exists (select 1 from pg_settings where name = 'shared_preload_libraries' and setting ilike '%timescaledb%')
                 or current_setting('timescaledb.allow_install_without_preload', true) = 'on')) as available`.execute(db);
  if (rows[0]?.available !== true) return;

  await sql`create extension if not exists timescaledb`.execute(db);
  // The pre-2.13 call form still works on current releases, so one statement fits every version.
  // No default time index: every query on these tables names the entity, so the primary keys
  // (entity_id, time) serve them, and the indexes stay those of plain PostgreSQL.
  await sql`select create_hypertable('samples', 'time', chunk_time_interval => interval '7 days', migrate_data => true, if_not_exists => true, create_default_indexes => false)`.execute(db);
  await sql`select create_hypertable('energy_15m', 'bucket', chunk_time_interval => interval '30 days', migrate_data => true, if_not_exists => true, create_default_indexes => false)`.execute(db);

  // Compression is Timescale-licensed code: the Apache-only builds (timescaledb.license = 'apache')
  // refuse it, and there the tables stay uncompressed hypertables.
  const { rows: [license] } = await sql<{ license: string | null }>`select current_setting('timescaledb.license', true) as license`.execute(db);
  if (license?.license !== 'timescale') return;
  await sql`alter table samples set (timescaledb.compress, timescaledb.compress_segmentby = 'entity_id', timescaledb.compress_orderby = 'time')`.execute(db);
  await sql`alter table energy_15m set (timescaledb.compress, timescaledb.compress_segmentby = 'entity_id', timescaledb.compress_orderby = 'bucket')`.execute(db);
  // Late readings older than this still land (upserts into compressed chunks are supported since 2.11).
  await sql`select add_compression_policy('samples', interval '30 days', if_not_exists => true)`.execute(db);
  await sql`select add_compression_policy('energy_15m', interval '90 days', if_not_exists => true)`.execute(db);
}

export async function down(): Promise<void> {
  // Converting hypertables back is not supported by TimescaleDB; the data stays valid as it is.
}
