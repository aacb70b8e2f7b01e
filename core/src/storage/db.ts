/**
 * Kysely over a `pg` pool, and the migration runner. Query functions elsewhere take the db first;
 * nothing here keeps a global connection.
 */
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';

export interface CreateDbOptions {
  log?: Logger;
  /** Pool size (default 10). */
  max?: number;
  /** Milliseconds to wait for a connection before a query fails (default 10 s). */
  connectionTimeoutMillis?: number;
}

const OID_INT8 = 20;
const OID_NUMERIC = 1700;

/**
 * Per-pool type parsers (pg's global `types.setTypeParser` would change every pool in the process):
 * int8 and numeric come back as JS numbers (counts, sums, identities), timestamptz as Date (pg's default).
 */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === OID_INT8 || oid === OID_NUMERIC) return (value: string) => Number(value);
    return (pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** Pools behind the Kysely instances built here, for the few operations Kysely cannot express (COPY). */
const pools = new WeakMap<Kysely<Database>, pg.Pool>();

export function createDb(url: string, opts: CreateDbOptions = {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 10_000,
    application_name: 'joulehub',
    types: typeParsers,
  });
  // An idle client whose server went away (restart, outage) emits 'error' on the pool; without a
  // listener that would crash the process. The next query simply opens a new connection.
  pool.on('error', (err) => opts.log?.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database connection lost'));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}

/** The `pg` pool behind a db built by createDb (undefined for one built elsewhere). */
export function poolOf(db: Kysely<Database>): pg.Pool | undefined {
  return pools.get(db);
}

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly all: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.all;
  }
}

/** Applies every pending migration; throws (naming the migration) if one fails. Returns the names applied. */
export async function migrateToLatest(db: Kysely<Database>, log?: Logger): Promise<string[]> {
  // Migrations are typed Kysely<any>: they describe tables as they were, not as schema.ts says they are now.
  const migrator = new Migrator({ db: db as unknown as Kysely<unknown>, provider: new StaticMigrationProvider(migrations) });
  const { error, results } = await migrator.migrateToLatest();
  const applied: string[] = [];
  for (const r of results ?? []) {
    if (r.status === 'Success') {
      applied.push(r.migrationName);
      log?.info({ migration: r.migrationName }, 'database migration applied');
    } else if (r.status === 'Error') {
      log?.error({ migration: r.migrationName }, 'database migration failed');
    }
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(failed ? `migration ${failed} failed: ${message}` : `migrations failed: ${message}`, { cause: error });
  }
  return applied;
}

/** True when the TimescaleDB extension is installed in this database (the time-series tables are then hypertables). */
export async function timescaleEnabled(db: Kysely<Database>): Promise<boolean> {
  const { rows } = await sql<{ on: boolean }>`select exists (select 1 from pg_extension where extname = 'timescaledb') as on`.execute(db);
  return rows[0]?.on === true;
}

/**
 * True when migration 0002 uses TimescaleDB here, by its rule: the extension is installed in this
 * database, or available and preloaded (or `timescaledb.allow_install_without_preload` is on).
 */
export async function timescaleAvailable(db: Kysely<Database>): Promise<boolean> {
  const { rows } = await sql<{ on: boolean }>`
    select exists (select 1 from pg_extension where extname = 'timescaledb')
        or (exists (select 1 from pg_available_extensions where name = 'timescaledb')
            and (exists (select 1 from pg_settings where name = 'shared_preload_libraries' and setting ilike '%timescaledb%')
                 or current_setting('timescaledb.allow_install_without_preload', true) = 'on')) as on`.execute(db);
  return rows[0]?.on === true;
}
