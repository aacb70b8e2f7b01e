/**
 * Raw samples, written in bulk: INSERT … SELECT FROM unnest(…) for live batches (one statement,
 * one constant SQL text) and COPY through a staging table for imports. Both are upserts on
 * (entity_id, time), so writing the same readings again changes nothing and the last write wins.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Sample } from '../energy/types.js';
import { poolOf } from './db.js';
import type { Database } from './schema.js';

export interface SampleRow {
  entityId: string;
  /** Epoch milliseconds. */
  t: number;
  /** Canonical value; null = the entity became unavailable at t. */
  v: number | null;
}

/** Time range touched per entity, epoch ms, both ends inclusive (first and last reading). */
export type TimeRanges = Map<string, { from: number; to: number }>;

/** Rows per statement: keeps one statement's parameter text to a few MB. */
export const INSERT_CHUNK = 20_000;

/**
 * Upserts readings, last write wins. Duplicates within `rows` are reduced to the last one first
 * (ON CONFLICT cannot touch a row twice in one statement). Returns how many distinct readings were
 * written and how many rows actually changed (new or different value).
 */
export async function insertSamples(db: Kysely<Database>, rows: readonly SampleRow[]): Promise<{ count: number; changed: number }> {
  const unique = dedupeLastWins(rows);
  let changed = 0;
  for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
    const chunk = unique.length <= INSERT_CHUNK ? unique : unique.slice(i, i + INSERT_CHUNK);
    const ids = new Array<string>(chunk.length);
    const times = new Array<string>(chunk.length);
    const values = new Array<string>(chunk.length);
    for (let j = 0; j < chunk.length; j++) {
      const r = chunk[j];
      ids[j] = quoteArrayElement(r.entityId);
      times[j] = new Date(r.t).toISOString();
      values[j] = r.v === null ? 'NULL' : String(r.v);
    }
    // Array literals built here rather than by pg's generic serializer: this is the hot path.
    const result = await sql`
      insert into samples (entity_id, time, value)
      select * from unnest(${`{${ids.join(',')}}`}::text[], ${`{${times.join(',')}}`}::timestamptz[], ${`{${values.join(',')}}`}::float8[])
      on conflict (entity_id, time) do update set value = excluded.value
      where samples.value is distinct from excluded.value`.execute(db);
    changed += Number(result.numAffectedRows ?? 0n);
  }
  return { count: unique.length, changed };
}

/** Keeps the last row per (entity, time), in first-seen order. Returns the input itself when it has no duplicates. */
export function dedupeLastWins(rows: readonly SampleRow[]): readonly SampleRow[] {
  const index = new Map<string, number>();
  let out: SampleRow[] | undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    assertRow(r, i);
    const key = `${r.t}\u0000${r.entityId}`;
    const seen = index.get(key);
    if (seen === undefined) {
      index.set(key, out ? out.length : i);
      out?.push(r);
    } else {
      out ??= rows.slice(0, i);
      out[seen] = r;
    }
  }
  return out ?? rows;
}

function assertRow(r: SampleRow, i: number): void {
  if (typeof r.entityId !== 'string' || r.entityId.length === 0 || !Number.isFinite(r.t) || !(r.v === null || typeof r.v === 'number')) {
    throw new TypeError(`invalid sample at index ${i}: ${JSON.stringify(r)}`);
  }
}

function quoteArrayElement(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

// --- COPY -------------------------------------------------------------------------------------

export interface CopyResult {
  /** Readings read from the input (duplicates included). */
  count: number;
  /** First and last reading time per entity. */
  ranges: TimeRanges;
}

export interface CopyOptions {
  /** Rows per COPY-and-merge step (default 500k); each step is its own transaction. */
  chunkRows?: number;
  onProgress?: (rowsSoFar: number) => void;
}

/** Lines joined per write() to the COPY stream: large writes, not one per row. */
const LINES_PER_WRITE = 2_000;

/**
 * Bulk import through COPY: rows are copied into a temporary staging table in large chunks and
 * merged into samples with the same upsert as insertSamples (last row per (entity, time) wins),
 * so importing the same data twice changes nothing.
 */
export async function copySamples(
  target: Kysely<Database> | pg.Pool,
  rows: AsyncIterable<SampleRow> | Iterable<SampleRow>,
  onProgressOrOptions?: ((rowsSoFar: number) => void) | CopyOptions,
): Promise<CopyResult> {
  const options: CopyOptions = typeof onProgressOrOptions === 'function' ? { onProgress: onProgressOrOptions } : (onProgressOrOptions ?? {});
  const chunkRows = options.chunkRows ?? 500_000;
  const pool = isPool(target) ? target : poolOf(target);
  if (!pool) throw new Error('copySamples needs a db made by createDb (or a pg.Pool): COPY needs the raw connection');

  const client = await pool.connect();
  const ranges: TimeRanges = new Map();
  let count = 0;
  let released = false;
  try {
    // Rows vanish at each commit, so every chunk starts from an empty staging table.
    await client.query(`create temporary table if not exists samples_staging
      (seq bigint not null, entity_id text not null, time timestamptz not null, value float8) on commit delete rows`);

    let lines: string[] = [];
    let inChunk = 0;
    let sorted = true; // strictly increasing time per entity within the chunk: no duplicates, no sort needed
    let lastInChunk = new Map<string, number>();
    let copy: NodeJS.WritableStream | undefined;
    let copyDone: Promise<void> | undefined;

    const openChunk = async () => {
      await client.query('begin');
      const stream = client.query(copyFrom('copy samples_staging (seq, entity_id, time, value) from stdin'));
      copy = stream;
      copyDone = new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
      });
      copyDone.catch(() => undefined);
    };
    const writeLines = async () => {
      if (lines.length === 0) return;
      const text = lines.join('');
      lines = [];
      if (!copy!.write(text)) await new Promise<void>((resolve, reject) => {
        const onDrain = () => { copy!.removeListener('error', onError); resolve(); };
        const onError = (err: Error) => { copy!.removeListener('drain', onDrain); reject(err); };
        copy!.once('drain', onDrain);
        copy!.once('error', onError);
      });
    };
    const closeChunk = async () => {
      await writeLines();
      copy!.end();
      await copyDone;
      await client.query(sorted
        ? `insert into samples (entity_id, time, value) select entity_id, time, value from samples_staging
           on conflict (entity_id, time) do update set value = excluded.value where samples.value is distinct from excluded.value`
        : `insert into samples (entity_id, time, value)
           select distinct on (entity_id, time) entity_id, time, value from samples_staging order by entity_id, time, seq desc
           on conflict (entity_id, time) do update set value = excluded.value where samples.value is distinct from excluded.value`);
      await client.query('commit');
      copy = undefined;
      inChunk = 0;
      sorted = true;
      lastInChunk = new Map();
      options.onProgress?.(count);
    };

    for await (const r of rows as AsyncIterable<SampleRow>) {
      assertRow(r, count);
      if (!copy) await openChunk();
      const prev = lastInChunk.get(r.entityId);
      if (prev !== undefined && r.t <= prev) sorted = false;
      lastInChunk.set(r.entityId, r.t);
      const range = ranges.get(r.entityId);
      if (!range) ranges.set(r.entityId, { from: r.t, to: r.t });
      else {
        if (r.t < range.from) range.from = r.t;
        if (r.t > range.to) range.to = r.t;
      }
      lines.push(`${count}\t${escapeCopy(r.entityId)}\t${new Date(r.t).toISOString()}\t${r.v === null ? '\\N' : String(r.v)}\n`);
      count += 1;
      inChunk += 1;
      if (lines.length >= LINES_PER_WRITE) await writeLines();
      if (inChunk >= chunkRows) await closeChunk();
    }
    if (copy) await closeChunk();
    return { count, ranges };
  } catch (err) {
    // The connection may be mid-COPY: don't return it to the pool.
    released = true;
    client.release(err instanceof Error ? err : true);
    throw err;
  } finally {
    if (!released) client.release();
  }
}

function isPool(x: unknown): x is pg.Pool {
  return typeof (x as pg.Pool).connect === 'function' && typeof (x as pg.Pool).totalCount === 'number';
}

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
function escapeCopy(s: string): string {
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

// --- reading -------------------------------------------------------------------------------------

/** Readings of one entity in the half-open range [from, to), oldest first. */
export async function loadSamples(db: Kysely<Database>, entityId: string, from: number | Date, to: number | Date): Promise<Sample[]> {
  const rows = await db
    .selectFrom('samples')
    .select(['time', 'value'])
    .where('entity_id', '=', entityId)
    .where('time', '>=', new Date(from))
    .where('time', '<', new Date(to))
    .orderBy('time')
    .execute();
  return rows.map((r) => ({ t: r.time.getTime(), v: r.value }));
}

/** The latest `n` readings of one entity (optionally only those before `before`), oldest first. */
export async function latestSamples(db: Kysely<Database>, entityId: string, n: number, before?: number | Date): Promise<Sample[]> {
  let q = db.selectFrom('samples').select(['time', 'value']).where('entity_id', '=', entityId);
  if (before !== undefined) q = q.where('time', '<', new Date(before));
  const rows = await q.orderBy('time', 'desc').limit(n).execute();
  return rows.reverse().map((r) => ({ t: r.time.getTime(), v: r.value }));
}
