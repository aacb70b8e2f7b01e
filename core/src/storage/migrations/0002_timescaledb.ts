/**
 * Frozen. Where the server can load TimescaleDB (installed and in shared_preload_libraries), turn
 * the time-series tables into hypertables with compression. Elsewhere this is a no-op: every query
 * gives identical results on plain tables. Imports nothing from the app.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ available: boolean }>`
    select exists (select 1 from pg_available_extensions where name = 'timescaledb')
       and current_setting('shared_preload_libraries') ilike '%timescaledb%' as available`.execute(db);
  if (rows[0]?.available !== true) return;

  await sql`create extension if not exists timescaledb`.execute(db);
  // The pre-2.13 call form still works on current releases, so one statement fits every version.
  await sql`select create_hypertable('samples', 'time', chunk_time_interval => interval '7 days', migrate_data => true, if_not_exists => true)`.execute(db);
  await sql`select create_hypertable('energy_15m', 'bucket', chunk_time_interval => interval '30 days', migrate_data => true, if_not_exists => true)`.execute(db);
  await sql`alter table samples set (timescaledb.compress, timescaledb.compress_segmentby = 'entity_id', timescaledb.compress_orderby = 'time')`.execute(db);
  await sql`alter table energy_15m set (timescaledb.compress, timescaledb.compress_segmentby = 'entity_id', timescaledb.compress_orderby = 'bucket')`.execute(db);
  // Late readings older than this still land (upserts into compressed chunks are supported since 2.11).
  await sql`select add_compression_policy('samples', interval '30 days', if_not_exists => true)`.execute(db);
  await sql`select add_compression_policy('energy_15m', interval '90 days', if_not_exists => true)`.execute(db);
}

export async function down(): Promise<void> {
  // Converting hypertables back is not supported by TimescaleDB; the data stays valid as it is.
}
