/**
 * Raw samples through binary COPY: copyNewSamples (live batches of readings not stored yet, one
 * COPY straight into samples; false when one was stored, the caller then upserts) and
 * copySamples / copySampleBatches (imports: direct into samples, or through a staging table and
 * an upsert where a chunk overlaps stored readings). Binary spares the server parsing a timestamp
 * and a float per row and this process formatting them.
 */
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { poolOf } from './db.js';
import { assertRow, InvalidSampleError, type SampleColumns, type SampleRow, type TimeRanges } from './samples.js';
import type { Database } from './schema.js';


export interface CopyResult {
  /** Readings read from the input (duplicates included). */
  count: number;
  /** First and last reading time per entity. */
  ranges: TimeRanges;
}

export interface CopyOptions {
  /**
   * Rows per transaction (default 200k). Infinity imports everything in one transaction: nothing is
   * stored if the input fails part way (memory stays bounded: large chunks stream through staging).
   */
  chunkRows?: number;
  onProgress?: (rowsSoFar: number) => void;
  /** Rows held back to decide whether a chunk can be copied straight into samples (default 200k). */
  directMaxRows?: number;
  /**
   * Commit chunks without waiting for their WAL to reach the disk (`synchronous_commit = off` for
   * those transactions only), and make them all durable with one synchronous commit at the end,
   * before this resolves: the pipeline then never waits on the disk between chunks. A crash midway
   * may lose chunks already counted by onProgress (but never what this reported as done), so it
   * suits a caller that is safely run again, like the importer.
   */
  deferDurability?: boolean;
}

/** Rows grouped per batch when copySamples is given single rows. */
const LINES_PER_WRITE = 2_000;

const UPSERT = 'on conflict (entity_id, time) do update set value = excluded.value where samples.value is distinct from excluded.value';
const FROM_STAGING = 'insert into samples (entity_id, time, value) select entity_id, time, value from samples_staging';
const FROM_STAGING_LAST_WINS = `insert into samples (entity_id, time, value)
  select distinct on (entity_id, time) entity_id, time, value from samples_staging order by entity_id, time, seq desc`;

/**
 * Bulk import through COPY, idempotent: importing the same data twice changes nothing, and the
 * last row per (entity, time) wins, as with insertSamples. Each chunk of rows is one transaction:
 * - in time order per entity and overlapping nothing stored (a first import): plain COPY into
 *   samples, or (chunks too large to hold back) COPY into a temporary staging table and a plain insert;
 * - otherwise: COPY into staging and an upsert (duplicates in the chunk reduced to the last).
 */
export async function copySamples(
  target: Kysely<Database> | pg.Pool,
  rows: AsyncIterable<SampleRow> | Iterable<SampleRow>,
  onProgressOrOptions?: ((rowsSoFar: number) => void) | CopyOptions,
): Promise<CopyResult> {
  return copySampleBatches(target, inBatches(rows), onProgressOrOptions);
}

/** Rows grouped into arrays, so the copy loop awaits once per batch rather than once per row. */
async function* inBatches(rows: AsyncIterable<SampleRow> | Iterable<SampleRow>): AsyncGenerator<SampleRow[]> {
  let batch: SampleRow[] = [];
  for await (const r of rows) {
    batch.push(r);
    if (batch.length >= LINES_PER_WRITE) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** A chunk held in memory until it is complete: its COPY text and what is known about its rows. */
interface HeldChunk { pieces: Buffer[]; ranges: TimeRanges; sorted: boolean; count: number }

/**
 * copySamples for input that comes in batches (an importer's parsed blocks): the same rules and
 * result. While one held chunk is being copied and committed, the next one is read and formatted,
 * so the database and the producer work at the same time.
 */
export async function copySampleBatches(
  target: Kysely<Database> | pg.Pool,
  batches: AsyncIterable<readonly SampleRow[] | SampleColumns> | Iterable<readonly SampleRow[] | SampleColumns>,
  onProgressOrOptions?: ((rowsSoFar: number) => void) | CopyOptions,
): Promise<CopyResult> {
  const options: CopyOptions = typeof onProgressOrOptions === 'function' ? { onProgress: onProgressOrOptions } : (onProgressOrOptions ?? {});
  const chunkRows = options.chunkRows ?? 200_000;
  const directMaxRows = options.directMaxRows ?? 200_000;
  const pool = isPool(target) ? target : poolOf(target);
  if (!pool) throw new Error('copySamples needs a db made by createDb (or a pg.Pool): COPY needs the raw connection');

  const client = await pool.connect();
  const ranges: TimeRanges = new Map();
  let count = 0;
  let broken = false;
  // The commit of the previous held chunk, running while the next one is read.
  let pending: Promise<void> = Promise.resolve();
  try {
    // seq keeps the input order for "last row wins"; rows vanish at each commit.
    await client.query(`create temporary table if not exists samples_staging
      (seq bigint generated always as identity, entity_id text not null, time timestamptz not null, value float8)
      on commit delete rows`);

    // Rows are encoded straight into large buffers (COPY's binary format), so a held chunk is a few
    // dozen buffers rather than 200k small strings that outlive the young generation.
    const rowsOut = new BinaryRows();
    let pieces: Buffer[] = rowsOut.pieces;
    const seal = () => rowsOut.seal();
    let inChunk = 0;
    let staging: CopyWriter | undefined; // open while a large chunk streams into staging
    let chunkRanges: TimeRanges = new Map();
    let sorted = true; // strictly increasing time per entity: no duplicates within the chunk

    /** Runs `attempt`; if a live write landed in the range meanwhile (23505), upserts instead. */
    const insertOrMerge = async (attempt: () => Promise<void>, held: Buffer[] | undefined) => {
      await client.query('savepoint plain');
      try {
        await attempt();
        await client.query('release savepoint plain');
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err;
        await client.query('rollback to savepoint plain');
      }
      if (held) await copyLines(client, COPY_STAGING, held);
      await client.query(`${FROM_STAGING} ${UPSERT}`);
    };

    /** Copies and commits a chunk held in memory. */
    const begin = options.deferDurability ? 'begin; set local synchronous_commit = off' : 'begin';
    const commitHeld = async (chunk: HeldChunk) => {
      await client.query(begin);
      const fresh = chunk.sorted && !(await overlapsStored(client, chunk.ranges));
      if (fresh) {
        await insertOrMerge(() => copyLines(client, COPY_SAMPLES, chunk.pieces), chunk.pieces);
      } else {
        await copyLines(client, COPY_STAGING, chunk.pieces);
        await client.query(`${chunk.sorted ? FROM_STAGING : FROM_STAGING_LAST_WINS} ${UPSERT}`);
      }
      await client.query('commit');
      options.onProgress?.(chunk.count);
    };

    /** Ends the chunk that is streaming through staging and commits it. */
    const commitStaging = async (writer: CopyWriter) => {
      // The COPY must end before any other statement on this connection.
      seal();
      await writer.write(pieces);
      await writer.end();
      const fresh = sorted && !(await overlapsStored(client, chunkRanges));
      if (fresh) await insertOrMerge(() => client.query(FROM_STAGING).then(() => undefined), undefined);
      else await client.query(`${sorted ? FROM_STAGING : FROM_STAGING_LAST_WINS} ${UPSERT}`);
      await client.query('commit');
      options.onProgress?.(count);
    };

    const finishChunk = async () => {
      if (staging) {
        await commitStaging(staging);
      } else {
        seal();
        const held: HeldChunk = { pieces, ranges: chunkRanges, sorted, count };
        await pending;
        pending = commitHeld(held);
        pending.catch(() => undefined); // awaited before the next statement, or below
      }
      pieces = rowsOut.restart();
      inChunk = 0;
      staging = undefined;
      chunkRanges = new Map();
      sorted = true;
    };

    let lastId: string | undefined;
    let lastChunk: { from: number; to: number } | undefined;
    let lastAll: { from: number; to: number } | undefined;
    let lastPrefix = rowsOut.prefix('');
    for await (const batch of batches) {
      const columns = isColumns(batch) ? batch : undefined;
      const rows = columns ? undefined : (batch as readonly SampleRow[]);
      const n = columns ? columns.count : rows!.length;
      for (let i = 0; i < n; i++) {
        let entityId: string;
        let t: number;
        let v: number | null;
        if (columns) {
          entityId = columns.entityId;
          t = columns.t[i];
          v = columns.v[i];
          if (!Number.isFinite(t) || typeof entityId !== 'string' || entityId.length === 0) {
            throw new InvalidSampleError(`invalid sample at index ${count}: ${JSON.stringify({ entityId, t, v })}`);
          }
        } else {
          const r = rows![i];
          assertRow(r, count);
          entityId = r.entityId;
          t = r.t;
          v = r.v;
        }
        if (entityId !== lastId || lastChunk === undefined || lastAll === undefined) {
          lastId = entityId;
          lastPrefix = rowsOut.prefix(entityId);
          lastChunk = chunkRanges.get(entityId);
          // A first row of its entity in this chunk: no earlier one to be out of order with.
          if (!lastChunk) chunkRanges.set(entityId, (lastChunk = { from: t, to: Number.NEGATIVE_INFINITY }));
          lastAll = ranges.get(entityId);
          if (!lastAll) ranges.set(entityId, (lastAll = { from: t, to: t }));
        }
        const c = lastChunk;
        if (t <= c.to) sorted = false;
        if (t < c.from) c.from = t;
        if (t > c.to) c.to = t;
        if (t < lastAll.from) lastAll.from = t;
        if (t > lastAll.to) lastAll.to = t;
        rowsOut.row(lastPrefix, t, v);
        count += 1;
        inChunk += 1;
        if (inChunk >= chunkRows) {
          await finishChunk();
          lastChunk = undefined; // the next chunk's ranges start afresh
        } else if (staging) {
          if (pieces.length > 0) {
            await staging.write(pieces);
            pieces = rowsOut.restart();
          }
        } else if (inChunk >= directMaxRows) {
          // Too large to hold back: stream the rest of this chunk through staging.
          await pending;
          await client.query(begin);
          staging = new CopyWriter(client, COPY_STAGING);
          seal();
          await staging.write(pieces);
          pieces = rowsOut.restart();
        }
      }
    }
    if (inChunk > 0) await finishChunk();
    await pending;
    // One synchronous commit that writes WAL (an xid is assigned) waits until the log is on disk up
    // to its own record, which covers every chunk committed before it.
    if (options.deferDurability && count > 0) await client.query('begin; select txid_current(); commit');
    return { count, ranges };
  } catch (err) {
    broken = true;
    // Let a chunk already on its way finish (committed or not) before the connection is dropped.
    await pending.catch(() => undefined);
    throw err;
  } finally {
    // After a failure the connection may be mid-COPY or mid-transaction: don't return it to the pool.
    client.release(broken ? true : undefined);
  }
}

async function overlapsStored(client: pg.PoolClient, chunk: TimeRanges): Promise<boolean> {
  const ids: string[] = [];
  const froms: Date[] = [];
  const tos: Date[] = [];
  for (const [id, r] of chunk) {
    ids.push(id);
    froms.push(new Date(r.from));
    tos.push(new Date(r.to));
  }
  const { rowCount } = await client.query(
    `select 1 from unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) as r(e, f, t)
     where exists (select 1 from samples s where s.entity_id = r.e and s.time >= r.f and s.time <= r.t) limit 1`,
    [ids, froms, tos]);
  return (rowCount ?? 0) > 0;
}

const COPY_SAMPLES = 'copy samples (entity_id, time, value) from stdin with (format binary)';
const COPY_STAGING = 'copy samples_staging (entity_id, time, value) from stdin with (format binary)';

/** PGCOPY signature, flags 0, no header extension. */
const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** Field count -1: end of data. */
const BINARY_TRAILER = Buffer.from([0xff, 0xff]);
/** timestamptz travels as microseconds since 2000-01-01 UTC. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
const PIECE_BYTES = 1 << 17;
const MIN_COPY_T = -62_135_596_800_000;
const MAX_COPY_T = 253_402_300_799_999;

/**
 * Rows of (entity_id text, time timestamptz, value float8) in COPY's binary format, written into
 * large buffers. Binary spares the server parsing a timestamp and a float per row (most of COPY's
 * per-row CPU after the insert itself) and this process formatting them. Times are whole
 * milliseconds (floored, as the ISO text of the other write paths).
 */
class BinaryRows {
  pieces: Buffer[] = [];
  private buf = Buffer.allocUnsafe(PIECE_BYTES);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private off = 0;
  private readonly prefixes = new Map<string, Buffer>();

  /** Field count and the entity id field, the same for every row of one entity. */
  prefix(entityId: string): Buffer {
    let p = this.prefixes.get(entityId);
    if (p) return p;
    const id = Buffer.from(entityId, 'utf8');
    p = Buffer.allocUnsafe(6 + id.length);
    p.writeInt16BE(3, 0);
    p.writeInt32BE(id.length, 2);
    id.copy(p, 6);
    if (this.prefixes.size < 10_000) this.prefixes.set(entityId, p);
    return p;
  }

  row(prefix: Buffer, t: number, v: number | null): void {
    // Years 1 to 9999, what the ISO text of the other write paths can say (binary would take more).
    if (!(t >= MIN_COPY_T && t <= MAX_COPY_T)) throw new InvalidSampleError(`sample time ${t} is outside the years 1 to 9999`);
    const need = prefix.length + 24;
    if (this.off + need > this.buf.length) this.grow(need);
    const b = this.buf;
    let o = this.off;
    for (let i = 0; i < prefix.length; i++) b[o + i] = prefix[i];
    o += prefix.length;
    const us = (Math.floor(t) - PG_EPOCH_MS) * 1000;
    const hi = Math.floor(us / TWO_32);
    const view = this.view;
    view.setInt32(o, 8);
    view.setInt32(o + 4, hi);
    view.setUint32(o + 8, us - hi * TWO_32);
    o += 12;
    if (v === null) {
      view.setInt32(o, -1);
      o += 4;
    } else {
      view.setInt32(o, 8);
      view.setFloat64(o + 4, v + 0); // -0 is stored as 0, as its text form would be
      o += 12;
    }
    this.off = o;
  }

  /** Closes the current buffer into `pieces`. */
  seal(): void {
    if (this.off === 0) return;
    this.pieces.push(this.buf.subarray(0, this.off));
    this.buf = Buffer.allocUnsafe(PIECE_BYTES);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.off = 0;
  }

  /** Starts a new list of pieces (the old one was handed on) and returns it. */
  restart(): Buffer[] {
    this.pieces = [];
    return this.pieces;
  }

  private grow(need: number): void {
    this.seal();
    if (need > this.buf.length) {
      this.buf = Buffer.allocUnsafe(need);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
  }
}

/**
 * One binary COPY FROM STDIN, written in large pieces with backpressure. Once the server has refused
 * the COPY (a duplicate key, say) nothing more is written: pg-copy-streams drops its connection on
 * an error without destroying the stream, and a later write then throws a TypeError of its own
 * instead of the server's error. Every method rejects with the server's error from then on.
 */
class CopyWriter {
  private readonly stream: ReturnType<typeof copyFrom>;
  private readonly done: Promise<void>;
  private failure: Error | undefined;

  constructor(client: pg.PoolClient, statement: string) {
    this.stream = client.query(copyFrom(statement));
    this.done = new Promise<void>((resolve, reject) => {
      this.stream.on('finish', resolve);
      this.stream.on('error', (err: Error) => {
        this.failure ??= err;
        reject(err);
      });
    });
    this.done.catch(() => undefined);
    this.stream.write(BINARY_HEADER);
  }

  /** Writes pieces of encoded rows, in order. */
  async write(pieces: Buffer[]): Promise<void> {
    for (const text of pieces) {
      if (this.failure) throw this.failure;
      if (!this.stream.write(text)) {
        // Resolve on drain, or on the stream's end if the server refused the COPY meanwhile.
        await Promise.race([new Promise<void>((r) => this.stream.once('drain', () => r())), this.done]);
      }
    }
    if (this.failure) throw this.failure;
  }

  async end(): Promise<void> {
    if (this.failure) throw this.failure;
    this.stream.end(BINARY_TRAILER);
    await this.done;
  }
}

async function copyLines(client: pg.PoolClient, statement: string, pieces: Buffer[]): Promise<void> {
  const w = new CopyWriter(client, statement);
  await w.write(pieces);
  await w.end();
}

/** Rows encoded per loop turn by copyNewSamples: the event loop is never held for long. */
const NEW_ROWS_PER_TURN = 2_000;

/**
 * Stores readings that are new — none stored yet for its entity and time, and none repeated in the
 * input — with one binary COPY straight into samples (autocommit): the server takes a fifth of the
 * CPU of the unnest upsert, its bulk insert path doing the work. Returns false, having stored
 * nothing, when the input repeats an (entity, time) or holds an invalid row, or when a reading was
 * stored already (the COPY failed on the unique key and was rolled back): the caller then writes
 * the rows with insertSamples, which merges. Other errors (connection) are thrown.
 */
export async function copyNewSamples(
  pool: pg.Pool, ids: readonly string[], ts: readonly number[], vs: readonly (number | null)[],
): Promise<boolean> {
  const n = ids.length;
  const last = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const t = ts[i];
    const v = vs[i];
    if (typeof id !== 'string' || id.length === 0 || !(t >= MIN_COPY_T && t <= MAX_COPY_T) || !(v === null || typeof v === 'number')) return false;
    const prev = last.get(id);
    if (prev !== undefined && t <= prev) return false; // not strictly increasing: may repeat, let the upsert sort it out
    last.set(id, t);
  }
  const client = await pool.connect();
  let broken = false;
  try {
    const writer = new CopyWriter(client, COPY_SAMPLES);
    const out = new BinaryRows();
    let prefixId: string | undefined;
    let prefix = out.prefix('');
    for (let i = 0; i < n; i++) {
      if (ids[i] !== prefixId) {
        prefixId = ids[i];
        prefix = out.prefix(prefixId);
      }
      out.row(prefix, ts[i], vs[i]);
      if ((i + 1) % NEW_ROWS_PER_TURN === 0 && i + 1 < n) {
        out.seal();
        await writer.write(out.pieces);
        out.restart();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    out.seal();
    await writer.write(out.pieces);
    await writer.end();
    return true;
  } catch (err) {
    // The server may refuse the COPY while rows are still being sent: the connection is not reused.
    broken = true;
    if ((err as { code?: string }).code === '23505') return false;
    throw err;
  } finally {
    client.release(broken ? true : undefined);
  }
}

function isColumns(x: readonly SampleRow[] | SampleColumns): x is SampleColumns {
  return !Array.isArray(x);
}

function isPool(x: unknown): x is pg.Pool {
  return typeof (x as pg.Pool).connect === 'function' && typeof (x as pg.Pool).totalCount === 'number';
}
