/**
 * The energy ledger in PostgreSQL: `energy_15m` holds the closed segments of every energy entity
 * (energy between stored consecutive samples) spread over UTC 15-minute buckets, and `energy_1h`
 * their UTC hourly sums. Both are derived from `samples` only, so recomputing is idempotent; the
 * open tail after the latest sample depends on the current time and is added at query time.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { bucketCeil, bucketStart, closedSegments, sourceForKind, toBuckets } from '../energy/index.js';
import { BUCKET_MS, type LedgerOptions, type Sample } from '../energy/types.js';
import type { EntityKind } from '../sdk/types.js';
import type { Database } from './schema.js';

const HOUR_MS = 3_600_000;

/** Samples of context fetched on each side of a window: enough for every rule's look-behind and look-ahead. */
const CONTEXT = 4;

/** Samples per recompute window; a larger range (a full rebuild, an import) is done window by window. */
const WINDOW_SAMPLES = 20_000;

/** What the ledger needs to know about an entity (a registry Entity fits). */
export interface LedgerEntity {
  id: string;
  kind: EntityKind;
  reportsOnChange?: boolean;
  maxGapSeconds?: number | null;
}

export interface RecomputeOptions {
  /** Samples per window (default 20,000): bounds memory for full rebuilds and imports. */
  windowSamples?: number;
  /**
   * The samples the caller has just written over the range (an import's stream), so the windows
   * inside it need not be read back. Used only when, under the ledger lock, the stored samples
   * between the first and the last of them are exactly these (count and a digest of every time
   * and value); otherwise, e.g. a live reading landed in the range meanwhile, they are read.
   */
  known?: KnownSamples;
}

/** Samples of one entity in strictly increasing time, whole milliseconds, no nulls. */
export interface KnownSamples {
  t: Float64Array;
  v: Float64Array;
  count: number;
}

export interface RecomputeResult {
  /** The bucket range that was rewritten, [from, to) epoch ms (empty when from === to). */
  from: number;
  to: number;
  /** Rows written to energy_15m. */
  rows: number;
}

export function ledgerOptions(entity: LedgerEntity): LedgerOptions {
  return {
    kind: entity.kind,
    reportsOnChange: entity.reportsOnChange ?? false,
    maxGapMs: entity.maxGapSeconds != null && entity.maxGapSeconds > 0 ? entity.maxGapSeconds * 1000 : undefined,
  };
}

type Db = Kysely<Database> | Transaction<Database>;

interface Row { t: number; value: number | null }

const toSample = (r: Row): Sample => ({ t: r.t, v: r.value });

/** Epoch ms as float8: parsing a number is several times cheaper for the driver than a timestamptz. */
const EPOCH_MS = sql`(extract(epoch from time) * 1000)::float8`;

/**
 * Serialises ledger writes per entity (a second recompute waits, then sees the first one's samples).
 * Also turns bitmap scans off for the transaction: right after a bulk write the planner's statistics
 * still say an entity has a handful of samples, and it then reads a window (`order by time limit n`)
 * as a bitmap scan of everything up to the range's end plus a sort — every window re-read the whole
 * rest of an import (a 1M-row import spent 10 s of server CPU there). The index scan in time order
 * reads exactly the window, whatever the statistics say.
 */
async function lockEntity(trx: Transaction<Database>, entityId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('joulehub.ledger'), hashtext(${entityId})),
    set_config('enable_bitmapscan', 'off', true)`.execute(trx);
}

/**
 * Up to CONTEXT samples before `before` (time < before) and after `after` (time > after, or >= when
 * `afterInclusive`), sorted. Counters skip nulls: their rules look at readings only.
 */
async function context(db: Db, entityId: string, numericOnly: boolean, before: number, after: number, afterInclusive: boolean): Promise<{ prev: Sample[]; next: Sample[] }> {
  const valueFilter = numericOnly ? sql`and value is not null` : sql``;
  const afterOp = afterInclusive ? sql`>=` : sql`>`;
  const { rows } = await sql<Row & { side: number }>`
    (select ${EPOCH_MS} as t, value, -1 as side from samples
      where entity_id = ${entityId} and time < ${new Date(before)} ${valueFilter}
      order by time desc limit ${CONTEXT})
    union all
    (select ${EPOCH_MS} as t, value, 1 as side from samples
      where entity_id = ${entityId} and time ${afterOp} ${new Date(after)} ${valueFilter}
      order by time asc limit ${CONTEXT})`.execute(db);
  const prev = rows.filter((r) => r.side < 0).map(toSample).sort((a, b) => a.t - b.t);
  const next = rows.filter((r) => r.side > 0).map(toSample).sort((a, b) => a.t - b.t);
  return { prev, next };
}

/**
 * The time span whose segments can change when samples in [from, to] change: for held readings
 * (power, interval) from the last sample before `from` (its segment ends at the first changed one)
 * to the second sample after `to` (the first one's hold may depend on the spacing before it); for
 * counters three readings each side (a reading's status depends on its neighbours, and a status
 * flip moves the start of the next accepted reading's segment).
 */
function affectedSpan(kind: EntityKind, prev: Sample[], next: Sample[], from: number, to: number): { start: number; end: number } {
  if (kind === 'energy_total') {
    return { start: prev.at(-3)?.t ?? prev[0]?.t ?? from, end: next[2]?.t ?? next.at(-1)?.t ?? to };
  }
  return { start: prev.at(-1)?.t ?? from, end: next[1]?.t ?? next.at(-1)?.t ?? to };
}

/**
 * Samples of one entity with from <= time < to, oldest first, at most `limit` (all when undefined).
 * Fetched as one text of "t v" pairs rather than one row per sample: for windows of thousands of
 * samples, the driver's per-row work was most of the cost. Values print in PostgreSQL's shortest
 * exact float8 form, so Number() gives the same doubles the driver would.
 */
async function readStored(db: Db, entityId: string, from: number, to: number, limit?: number): Promise<Sample[]> {
  const limitClause = limit === undefined ? sql`` : sql`limit ${limit}`;
  const { rows } = await sql<{ pairs: string | null }>`
    select string_agg(${EPOCH_MS}::text || ' ' || coalesce(value::text, ''), ',' order by time) as pairs
    from (select time, value from samples
      where entity_id = ${entityId} and time >= ${new Date(from)} and time < ${new Date(to)}
      order by time ${limitClause}) w`.execute(db);
  const text = rows[0]?.pairs;
  if (!text) return [];
  const parts = text.split(',');
  const out = new Array<Sample>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const space = p.indexOf(' ');
    const v = p.slice(space + 1);
    out[i] = { t: Number(p.slice(0, space)), v: v === '' ? null : Number(v) };
  }
  return out;
}

/**
 * Samples with from <= time < to, oldest first, at most `limit`; and, when it can answer from
 * memory, a window's context (what `context` would read: CONTEXT samples before `from`, and from
 * `to` on).
 */
interface Reader {
  (from: number, to: number, limit?: number): Promise<Sample[]>;
  context?(from: number, to: number): { prev: Sample[]; next: Sample[] } | undefined;
}

function dbReader(db: Db, entityId: string): Reader {
  return (from, to, limit) => readStored(db, entityId, from, to, limit);
}

/**
 * The next window starting at bucket `from`: about `size` samples, ending on a bucket boundary
 * (at least one bucket, at most `to`), and its samples. One read of size + 1 rows: the window ends
 * at the bucket of the first sample beyond `size`.
 */
async function nextWindow(read: Reader, from: number, to: number, size: number): Promise<{ end: number; samples: Sample[] }> {
  const rows = await read(from, to, size + 1);
  if (rows.length <= size) return { end: to, samples: rows };
  const end = Math.min(to, Math.max(from + BUCKET_MS, bucketStart(rows[size].t)));
  // More than `size` samples in the window's one bucket: the read did not reach its end.
  if (rows[size].t < end) return { end, samples: await read(from, end) };
  let n = size;
  while (n > 0 && rows[n - 1].t >= end) n -= 1;
  rows.length = n;
  return { end, samples: rows };
}

/**
 * The energy_15m rows for buckets [from, to) from the samples that determine them: the window's
 * own and CONTEXT on each side (from memory when the reader knows them, else from the database).
 */
async function windowBuckets(db: Db, entity: LedgerEntity, opts: LedgerOptions, read: Reader, from: number, to: number, inside: Sample[]): Promise<{ times: string[]; kwh: number[] }> {
  const numericOnly = opts.kind === 'energy_total';
  const { prev, next } = read.context?.(from, to) ?? await context(db, entity.id, numericOnly, from, to, true);
  const samples = prev.concat(inside, next);
  const buckets = toBuckets(closedSegments(samples, opts));
  const times: string[] = [];
  const kwh: number[] = [];
  for (const [b, e] of buckets) {
    if (b < from || b >= to) continue;
    times.push(new Date(b).toISOString());
    kwh.push(e);
  }
  return { times, kwh };
}

/** Replaces energy_15m for buckets [from, to) with `rows`. */
async function writeWindow(db: Db, entityId: string, source: string, from: number, to: number, rows: { times: string[]; kwh: number[] }): Promise<void> {
  await db.deleteFrom('energy_15m')
    .where('entity_id', '=', entityId)
    .where('bucket', '>=', new Date(from))
    .where('bucket', '<', new Date(to))
    .execute();
  if (rows.times.length > 0) {
    await sql`
      insert into energy_15m (entity_id, bucket, kwh, source)
      select ${entityId}, b, k, ${source}
      from unnest(${rows.times}::timestamptz[], ${rows.kwh}::float8[]) as u(b, k)`.execute(db);
  }
}

/** Rewrites energy_1h for the UTC hours overlapping buckets [from, to) from energy_15m. */
async function rewriteHours(db: Db, entityId: string, from: number, to: number): Promise<void> {
  const hFrom = new Date(Math.floor(from / HOUR_MS) * HOUR_MS);
  const hTo = new Date(Math.ceil(to / HOUR_MS) * HOUR_MS);
  await db.deleteFrom('energy_1h')
    .where('entity_id', '=', entityId)
    .where('bucket', '>=', hFrom)
    .where('bucket', '<', hTo)
    .execute();
  await sql`
    insert into energy_1h (entity_id, bucket, kwh)
    select entity_id, date_trunc('hour', bucket, 'UTC'), sum(kwh)
    from energy_15m
    where entity_id = ${entityId} and bucket >= ${hFrom} and bucket < ${hTo}
    group by entity_id, date_trunc('hour', bucket, 'UTC')`.execute(db);
}

/** Window writes queued on the transaction's connection while the next windows are computed. */
const WRITES_AHEAD = 4;

interface PlannedWindow { start: number; end: number; buckets: { times: string[]; kwh: number[] } }

/**
 * Computes the windows of buckets [from, to) one after the other, handing each to `each` (which
 * may start its write and return without waiting for it).
 */
async function planRange(
  trx: Transaction<Database>, entity: LedgerEntity, from: number, to: number, options: RecomputeOptions, read: Reader,
  each: (w: PlannedWindow) => Promise<void>,
): Promise<void> {
  const opts = ledgerOptions(entity);
  const size = Math.max(1, Math.floor(options.windowSamples ?? WINDOW_SAMPLES));
  for (let start = from; start < to;) {
    const { end, samples } = await nextWindow(read, start, to, size);
    await each({ start, end, buckets: await windowBuckets(trx, entity, opts, read, start, end, samples) });
    start = end;
  }
}

/**
 * Writes planned windows in order. Each window's rows are sent while the next window is computed:
 * the statements run in order on the transaction's one connection, and this process never waits
 * for the server between windows (at most WRITES_AHEAD are queued).
 */
class WindowWriter {
  rows = 0;
  private readonly writes: Promise<void>[] = [];
  private failure: { err: unknown } | undefined;

  constructor(private readonly trx: Transaction<Database>, private readonly entity: LedgerEntity) {}

  async add(w: PlannedWindow): Promise<void> {
    if (this.failure) throw this.failure.err;
    this.rows += w.buckets.times.length;
    const p = writeWindow(this.trx, this.entity.id, sourceForKind(this.entity.kind)!, w.start, w.end, w.buckets);
    p.catch((err: unknown) => { this.failure ??= { err }; });
    this.writes.push(p);
    if (this.writes.length > WRITES_AHEAD) await this.writes.shift()!.catch(() => undefined);
  }

  async finish(from: number, to: number): Promise<RecomputeResult> {
    await Promise.allSettled(this.writes);
    if (this.failure) throw this.failure.err;
    if (to > from) await rewriteHours(this.trx, this.entity.id, from, to);
    return { from, to, rows: this.rows };
  }
}

async function rewriteRange(
  trx: Transaction<Database>, entity: LedgerEntity, from: number, to: number, options: RecomputeOptions, read: Reader = dbReader(trx, entity.id),
): Promise<RecomputeResult> {
  const writer = new WindowWriter(trx, entity);
  await planRange(trx, entity, from, to, options, read, (w) => writer.add(w));
  return writer.finish(from, to);
}

/**
 * Brings the ledger up to date after samples in [range.from, range.to] (epoch ms, inclusive) were
 * written, corrected or deleted. Rewrites exactly the buckets those samples can affect, from the
 * samples around them, in one transaction. Idempotent: the result depends on the samples only.
 * Call it after the samples are committed. An unbounded range (±Infinity) rebuilds everything.
 */
export async function recomputeLedger(
  db: Kysely<Database>, entity: LedgerEntity, range: { from: number; to: number }, options: RecomputeOptions = {},
): Promise<RecomputeResult> {
  const source = sourceForKind(entity.kind);
  if (source === null) return { from: range.from, to: range.from, rows: 0 };
  if (!Number.isFinite(range.from) || !Number.isFinite(range.to)) return recomputeAll(db, entity, options);
  const lo = Math.min(range.from, range.to);
  const hi = Math.max(range.from, range.to);
  return db.transaction().execute(async (trx) => {
    await lockEntity(trx, entity.id);
    const { prev, next } = await context(trx, entity.id, entity.kind === 'energy_total', lo, hi, false);
    const span = affectedSpan(entity.kind, prev, next, lo, hi);
    const from = bucketStart(span.start);
    const to = Math.max(from, bucketCeil(span.end));
    const known = options.known;
    if (known && known.count > 0) {
      // The server checks the stored samples while this process computes the windows from the
      // known ones; they are written only if the check passes (otherwise read back and recomputed).
      const matches = matchesStored(trx, entity.id, known);
      matches.catch(() => undefined);
      const planned: PlannedWindow[] = [];
      await planRange(trx, entity, from, to, options, knownReader(trx, entity.id, known), async (w) => { planned.push(w); });
      if (await matches) {
        const writer = new WindowWriter(trx, entity);
        for (const w of planned) await writer.add(w);
        return writer.finish(from, to);
      }
    }
    return rewriteRange(trx, entity, from, to, options);
  });
}

/** timestamptz on the wire: microseconds since 2000-01-01 UTC. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;

/**
 * True when the stored samples of `entityId` from the first to the last known time are exactly the
 * known ones: the same count and the same md5 over every (time, value) in their binary send form,
 * computed by the server and here. Run under the ledger lock, after the samples were committed.
 */
async function matchesStored(db: Db, entityId: string, known: KnownSamples): Promise<boolean> {
  const n = known.count;
  const { rows } = await sql<{ n: number; digest: string | null }>`
    select count(*)::int as n, md5(string_agg(timestamptz_send(time) || float8send(value), ''::bytea order by time)) as digest
    from samples where entity_id = ${entityId} and time >= ${new Date(known.t[0])} and time <= ${new Date(known.t[n - 1])}`.execute(db);
  if (rows[0]?.n !== n || !rows[0].digest) return false;
  const hash = createHash('md5');
  const ROWS = 65_536;
  const buf = Buffer.allocUnsafe(ROWS * 16);
  for (let i = 0; i < n; i += ROWS) {
    const end = Math.min(n, i + ROWS);
    let o = 0;
    for (let j = i; j < end; j++) {
      const us = (known.t[j] - PG_EPOCH_MS) * 1000;
      const hi = Math.floor(us / TWO_32);
      buf.writeInt32BE(hi, o);
      buf.writeUInt32BE(us - hi * TWO_32, o + 4);
      buf.writeDoubleBE(known.v[j] + 0, o + 8);
      o += 16;
    }
    hash.update(buf.subarray(0, o));
  }
  return hash.digest('hex') === rows[0].digest;
}

/** First index with known.t[i] >= t. */
function lowerBound(known: KnownSamples, t: number): number {
  let lo = 0;
  let hi = known.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (known.t[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Reads the known samples from memory and only what lies outside their span from the database. */
function knownReader(db: Db, entityId: string, known: KnownSamples): Reader {
  const first = known.t[0];
  const last = known.t[known.count - 1];
  const reader: Reader = async (from, to, limit) => {
    const want = limit ?? Number.POSITIVE_INFINITY;
    let out: Sample[] = [];
    if (from < first) out = await readStored(db, entityId, from, Math.min(to, first), limit);
    if (out.length < want && to > first && from <= last) {
      for (let i = lowerBound(known, from); i < known.count && known.t[i] < to && out.length < want; i++) {
        out.push({ t: known.t[i], v: known.v[i] });
      }
    }
    if (out.length < want && to > last) {
      // Stored samples strictly after the last known one (the read from `last` includes it).
      const after = await readStored(db, entityId, Math.max(from, last), to, limit === undefined ? undefined : want - out.length + 1);
      for (const s of after) {
        if (out.length >= want) break;
        if (s.t > last) out.push(s);
      }
    }
    return out;
  };
  // Within the known span the stored samples are exactly the known ones (no nulls), so a window's
  // context there needs no query; near the span's ends it is read as usual.
  reader.context = (from, to) => {
    const i = lowerBound(known, from);
    const j = lowerBound(known, to);
    if (i < CONTEXT || j + CONTEXT > known.count) return undefined;
    const prev: Sample[] = [];
    const next: Sample[] = [];
    for (let k = i - CONTEXT; k < i; k++) prev.push({ t: known.t[k], v: known.v[k] });
    for (let k = j; k < j + CONTEXT; k++) next.push({ t: known.t[k], v: known.v[k] });
    return { prev, next };
  };
  return reader;
}

/** Rebuilds an entity's ledger from all its samples (and clears it for kinds without energy). */
export async function recomputeAll(db: Kysely<Database>, entity: LedgerEntity, options: RecomputeOptions = {}): Promise<RecomputeResult> {
  return db.transaction().execute(async (trx) => {
    await lockEntity(trx, entity.id);
    await trx.deleteFrom('energy_15m').where('entity_id', '=', entity.id).execute();
    await trx.deleteFrom('energy_1h').where('entity_id', '=', entity.id).execute();
    if (sourceForKind(entity.kind) === null) return { from: 0, to: 0, rows: 0 };
    const { rows } = await sql<{ lo: Date | null; hi: Date | null }>`
      select min(time) as lo, max(time) as hi from samples where entity_id = ${entity.id}`.execute(trx);
    const lo = rows[0]?.lo;
    const hi = rows[0]?.hi;
    if (!lo || !hi) return { from: 0, to: 0, rows: 0 };
    return rewriteRange(trx, entity, bucketStart(lo.getTime()), bucketCeil(hi.getTime() + 1), options);
  });
}

/** Deletes an entity's ledger rows (the entity or its device was removed). */
export async function deleteLedger(db: Kysely<Database>, entityId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('energy_15m').where('entity_id', '=', entityId).execute();
    await trx.deleteFrom('energy_1h').where('entity_id', '=', entityId).execute();
  });
}
