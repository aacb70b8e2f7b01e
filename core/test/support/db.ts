/**
 * Real-PostgreSQL test databases for every suite that touches storage.
 *
 *   describeDb('ledger', (target) => {
 *     let t: TestDatabase;
 *     beforeEach(async () => { t = await createTestDatabase(target.url); });
 *     afterEach(() => t.drop());
 *     it('…', async () => { await t.db.selectFrom('samples')… });
 *   });
 *
 * Targets: the run's embedded server (global-setup.ts) and, when JOULEHUB_TEST_DATABASE_URL is set,
 * that server too (CI: the local PostgreSQL 15 service).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { describe, inject, it } from 'vitest';
import { createDb, migrateToLatest } from '../../src/storage/db.js';
import type { Database } from '../../src/storage/schema.js';

export interface DbTarget { name: 'embedded' | 'service'; url: string }

export interface TestDatabase {
  db: Kysely<Database>;
  /** URL of this fresh database (for code that builds its own connection). */
  url: string;
  /** Closes the connections and drops the database. */
  drop(): Promise<void>;
}

export function dbTargets(): DbTarget[] {
  const targets: DbTarget[] = [];
  const embedded = inject('joulehubEmbeddedPg');
  if (embedded?.url) targets.push({ name: 'embedded', url: embedded.url });
  const service = process.env.JOULEHUB_TEST_DATABASE_URL;
  if (service) targets.push({ name: 'service', url: service });
  return targets;
}

/** Why there is no database to test on (undefined when there is one). */
export function dbSkipReason(): string | undefined {
  if (dbTargets().length > 0) return undefined;
  const embedded = inject('joulehubEmbeddedPg');
  return `no PostgreSQL to test on: the embedded server did not start (${embedded?.error ?? 'global setup did not run'}) and JOULEHUB_TEST_DATABASE_URL is not set`;
}

/** describe.each over every database target; skips with a printed reason when there is none. */
export function describeDb(name: string, fn: (target: DbTarget) => void): void {
  const reason = dbSkipReason();
  if (reason) {
    process.stderr.write(`[joulehub tests] skipping "${name}": ${reason}\n`);
    describe.skip(name, () => {
      it(`needs PostgreSQL: ${reason}`, () => undefined);
    });
    return;
  }
  describe.each(dbTargets())(`${name} [$name]`, fn);
}

/** Creates a uniquely named database on the server at `url`, migrated to latest. */
export async function createTestDatabase(url: string): Promise<TestDatabase> {
  const name = `jh_test_${Math.floor(Date.now() / 1000)}_${randomBytes(5).toString('hex')}`;
  await admin(url, (c) => c.query(`create database ${c.escapeIdentifier(name)}`));
  const dbUrl = withDatabase(url, name);
  const db = createDb(dbUrl, { max: 4 });
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    await admin(url, (c) => c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`));
    throw err;
  }
  let dropped = false;
  return {
    db,
    url: dbUrl,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.destroy();
      try {
        // Bounded: on PostgreSQL 15 one session stuck in COPY (any database, any run) makes every
        // DROP DATABASE on the server wait. A database left behind is removed by a later run's setup.
        await admin(url, async (c) => {
          await c.query("set statement_timeout = '20s'");
          await c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`);
        });
      } catch (err) {
        process.stderr.write(`[joulehub tests] could not drop test database ${name} (left for a later cleanup): ${(err as Error).message}\n`);
      }
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** Runs `fn` on a connection to the server's maintenance database (the URL's, else `postgres`). */
async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  let client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    // 3D000: the URL names a database that does not exist (yet); the server still has `postgres`.
    if ((err as { code?: string }).code !== '3D000') throw err;
    client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
    client.on('error', () => undefined);
    await client.connect();
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
