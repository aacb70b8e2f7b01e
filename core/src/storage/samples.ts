/**
 * Raw samples: the INSERT … SELECT FROM unnest(…) upsert (one statement, one constant SQL text)
 * and reading them back. The binary COPY paths — live batches try copyNewSamples first, imports
 * use copySampleBatches — are in samples-copy.ts. All keep "last write wins" per (entity_id,
 * time), so writing the same readings again changes nothing.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Sample } from '../energy/types.js';
import type { Database } from './schema.js';

export interface SampleRow {
  entityId: string;
  /** Epoch milliseconds. */
  t: number;
  /** Canonical value; null = the entity became unavailable at t. */
  v: number | null;
}

/**
 * Readings of one entity as columns (no nulls): what an importer produces without an object per
 * row. `count` rows from the start of `t` and `v` are used.
 */
export interface SampleColumns {
  entityId: string;
  t: Float64Array;
  v: Float64Array;
  count: number;
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
    const quoted = new Map<string, string>();
    const iso = isoFormatter();
    for (let j = 0; j < chunk.length; j++) {
      const r = chunk[j];
      let q = quoted.get(r.entityId);
      if (q === undefined) quoted.set(r.entityId, (q = quoteArrayElement(r.entityId)));
      ids[j] = q;
      times[j] = iso(r.t);
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

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * Returns a formatter from epoch ms to the same text as Date#toISOString, about five times faster
 * (the date part is cached per day): on the write path it is most of the Node-side cost per row.
 */
export function isoFormatter(): (t: number) => string {
  let day = Number.NaN;
  let prefix = '';
  return (t) => {
    const ms = Math.floor(t);
    const d = Math.floor(ms / 86_400_000);
    if (d !== day) {
      day = d;
      prefix = new Date(d * 86_400_000).toISOString().slice(0, -13);
    }
    let r = ms - d * 86_400_000;
    const h = Math.floor(r / 3_600_000);
    r -= h * 3_600_000;
    const m = Math.floor(r / 60_000);
    r -= m * 60_000;
    const sec = Math.floor(r / 1000);
    return `${prefix}${PAD2[h]}:${PAD2[m]}:${PAD2[sec]}.${PAD3[r - sec * 1000]}Z`;
  };
}

/** Keeps the last row per (entity, time), in first-seen order. Returns the input itself when it has no duplicates. */
export function dedupeLastWins(rows: readonly SampleRow[]): readonly SampleRow[] {
  // Fast path, the usual case for live data: time strictly increases per entity, so nothing repeats.
  const last = new Map<string, number>();
  let increasing = true;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    assertRow(r, i);
    if (increasing) {
      const prev = last.get(r.entityId);
      if (prev !== undefined && r.t <= prev) increasing = false;
      else last.set(r.entityId, r.t);
    }
  }
  if (increasing) return rows;

  const index = new Map<string, number>();
  const out: SampleRow[] = [];
  for (const r of rows) {
    const key = `${r.t}\u0000${r.entityId}`;
    const seen = index.get(key);
    if (seen === undefined) {
      index.set(key, out.length);
      out.push(r);
    } else {
      out[seen] = r;
    }
  }
  return out.length === rows.length ? rows : out;
}

/**
 * A reading refused by this module's own checks (no entity id, a time that is not a finite number
 * or outside the years 1 to 9999, a value that is neither a number nor null). Writing it again would
 * fail again; any other error (the server, the connection, a library) may pass with time.
 */
export class InvalidSampleError extends TypeError {
  override name = 'InvalidSampleError';
}

/** Throws InvalidSampleError for a row no write path can store. */
export function assertRow(r: SampleRow, i: number): void {
  if (typeof r.entityId !== 'string' || r.entityId.length === 0 || !Number.isFinite(r.t) || !(r.v === null || typeof r.v === 'number')) {
    throw new InvalidSampleError(`invalid sample at index ${i}: ${JSON.stringify(r)}`);
  }
}

function quoteArrayElement(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
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
