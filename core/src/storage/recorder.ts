/**
 * The recorder: readings go into memory synchronously, a loop writes them in bulk batches, and
 * whatever the database cannot take (it is down, or cannot keep up) goes to an fsync'd
 * append-only spool file and is replayed, in order, when it can. Nothing accepted is lost.
 *
 * Order is what makes "last write wins" hold across an outage: readings are durable in the order
 * they were added. Spooled readings are always older than those in memory, so memory is written to
 * the database only once the spool is empty, and when a write fails the batch and everything after
 * it go to the spool.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { poolOf } from './db.js';
import { insertSamples, InvalidSampleError } from './samples.js';
import { copyNewSamples } from './samples-copy.js';
import type { SampleRow, TimeRanges } from './samples.js';
import type { Database } from './schema.js';
import { encode, Spool } from './spool.js';
import type { Batch } from './spool.js';

export interface FlushSummary {
  /** First and last reading time per entity in what was just written (epoch ms, inclusive). */
  ranges: TimeRanges;
  count: number;
  /** True when the rows came from the spool (written earlier while the database was unreachable). */
  replayed: boolean;
}

export interface RecorderOptions {
  db: Kysely<Database>;
  log: Logger;
  /** Directory of the spool file (created if missing). One recorder per directory. */
  spoolDir: string;
  flushIntervalMs?: number;
  /** Rows per batch (the unit of queueing, spooling and onFlushed). */
  maxBatch?: number;
  /** Rows per INSERT statement within a batch (default 2,000): bounds each synchronous build. */
  writeChunk?: number;
  /**
   * Rows kept in memory before the surplus goes to the spool (default 1,000,000: about 30–50 MB).
   * A burst the database takes a few seconds to absorb then stays in memory: the spool's round trip
   * (encode, write, fsync, read, parse) costs CPU exactly when the database already wants it all,
   * and measured at 600,000 readings it halved the sustained rate and lengthened event-loop stalls.
   */
  maxBuffered?: number;
  /** First and longest wait between attempts to reach the database again (default 250 ms, 5 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Called after each batch reached the database, replayed ones included (the ledger recomputes
   * these ranges). Awaited: flush() covers it, and a slow consumer slows the recorder, not memory.
   */
  onFlushed?(summary: FlushSummary): void | Promise<void>;
}

export interface RecorderStatus {
  /** Readings in memory, not yet durable. */
  buffered: number;
  /** Bytes in the spool still to be replayed. */
  spooledBytes: number;
  /** The database was unreachable at the last attempt. */
  databaseDown: boolean;
  accepted: number;
  /** Readings written to the database (replays included). */
  written: number;
  /** Readings refused by add() (invalid, or after stop). */
  dropped: number;
  lastError?: string;
}

export interface Recorder {
  /** Accepts one reading; cheap and synchronous. Invalid readings are dropped with a warning. */
  add(entityId: string, t: number, v: number | null): void;
  /** Resolves when everything added before the call is durable: in the database (and through onFlushed), or in the spool while the database is unreachable. */
  flush(): Promise<void>;
  /**
   * Writes or spools what is left and stops the loop. If the database hangs, after `timeoutMs`
   * (default 15 s) the rest goes to the spool. A pending spool is replayed by the next recorder.
   */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  status(): RecorderStatus;
}


const SPOOL_FILE = 'recorder-spool.ndjson';
const COPY_PAUSE_MS = 10_000;
const REJECTED_FILE = 'recorder-rejected.ndjson';
// Year 1 to 9999: what an ISO string and PostgreSQL's timestamptz both represent.
const MIN_T = -62135596800000;
const MAX_T = 253402300799999;

export function createRecorder(opts: RecorderOptions): Recorder {
  const { db, spoolDir } = opts;
  const log = opts.log.child({ component: 'recorder' });
  const flushIntervalMs = opts.flushIntervalMs ?? 250;
  const maxBatch = opts.maxBatch ?? 10_000;
  const writeChunk = Math.max(1, Math.floor(opts.writeChunk ?? 2_000));
  const maxBuffered = Math.max(opts.maxBuffered ?? 1_000_000, maxBatch);
  const retryMin = opts.retryMinMs ?? 250;
  const retryMax = opts.retryMaxMs ?? 5_000;
  const spool = new Spool(path.join(spoolDir, SPOOL_FILE), log);

  let open = newBatch();
  /** After a batch that could not be copied as new (re-sent readings), the upsert is used for a while. */
  let copyAfter = 0;
  const queue: Batch[] = [];
  let buffered = 0;
  let accepted = 0;
  let durable = 0;
  let written = 0;
  let dropped = 0;
  let lastError: string | undefined;
  let databaseDown = false;
  let retryDelay = retryMin;
  let retryAt = 0;
  let stopping = false;
  let stopped = false;
  let waiters: { target: number; resolve: () => void }[] = [];

  const ready = spool.init().catch((err) => {
    lastError = `spool unusable: ${(err as Error).message}`;
    log.error({ err, spoolDir }, 'cannot open the recorder spool; readings are kept in memory until the database takes them');
  });

  function newBatch(): Batch {
    return { ids: [], ts: [], vs: [], endSeq: 0 };
  }

  function seal(): void {
    if (open.ids.length === 0) return;
    open.endSeq = accepted;
    queue.push(open);
    open = newBatch();
  }

  function markDurable(seq: number): void {
    if (seq <= durable) return;
    durable = seq;
    if (waiters.length === 0) return;
    const still: typeof waiters = [];
    for (const w of waiters) (w.target <= durable ? w.resolve() : still.push(w));
    waiters = still;
  }

  // --- the loop ------------------------------------------------------------------------------

  let running: Promise<void> | undefined;
  let again = false;
  /** The batch being written directly (not a replay), and whether a spill already put it in the spool. */
  let inflight: { batch: Batch; spilled: boolean } | undefined;
  /** Spool appends, replays' clear and spills run one at a time, in order. */
  let spoolLock: Promise<unknown> = Promise.resolve();
  let spillPending = false;

  function kick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      await ready;
      do {
        again = false;
        try {
          while (await step()) { /* keep going while there is progress */ }
        } catch (err) {
          lastError = (err as Error).message;
          log.error({ err }, 'recorder step failed');
        }
      } while (again);
    })().finally(() => { running = undefined; });
    return running;
  }

  const timer = setInterval(() => void kick(), flushIntervalMs);
  timer.unref();

  /** One unit of work; true when it made progress and another step may follow at once. */
  async function step(): Promise<boolean> {
    seal();
    if (spool.pending) {
      // Replay first: the spool is older than memory. While waiting to retry, memory goes to disk too.
      if (stopping || Date.now() < retryAt) {
        await spill();
        return false;
      }
      if (!(await replaySome())) {
        await spill();
        return false;
      }
      if (!spool.pending) {
        const cleared = await withSpool(async () => {
          if (spool.pending) return false;
          await spool.clear();
          return true;
        });
        if (cleared) log.info('the spool is replayed; writing to the database directly again');
      }
      return true;
    }
    const batch = queue.shift();
    if (!batch) return false;
    inflight = { batch, spilled: false };
    const outcome = await write(batch, false);
    const { spilled } = inflight;
    inflight = undefined;
    if (outcome === 'down') {
      // Already in the spool if a spill ran meanwhile; otherwise it goes there first, before newer rows.
      if (!spilled) {
        queue.unshift(batch);
        await spill();
      }
      return false;
    }
    if (!spilled) buffered -= batch.ids.length;
    markDurable(batch.endSeq);
    return true;
  }

  function withSpool<T>(fn: () => Promise<T>): Promise<T> {
    const next = spoolLock.then(fn);
    spoolLock = next.catch(() => undefined);
    return next;
  }

  /**
   * Moves everything in memory to the spool, in order. May run while a direct write is in flight
   * (memory over the limit while the database hangs): that batch then goes to the spool first, so
   * the spool stays in order; replaying it after the write succeeded rewrites the same values.
   */
  function spill(): Promise<void> {
    return withSpool(async () => {
      seal();
      // Claimed before the await, so the loop knows not to account for it again.
      const lead = inflight && !inflight.spilled ? inflight : undefined;
      if (lead) lead.spilled = true;
      if (queue.length === 0 && !lead) return;
      const batches = lead ? [lead.batch, ...queue.splice(0)] : queue.splice(0);
      try {
        await spool.append(batches);
      } catch (err) {
        // Disk full or unwritable: keep the readings in memory rather than lose them (a batch that
        // reached the database meanwhile is simply written again).
        if (lead) lead.spilled = false;
        queue.unshift(...batches);
        lastError = `spool write failed: ${(err as Error).message}`;
        log.error({ err }, 'cannot write the recorder spool; keeping readings in memory');
        return;
      }
      for (const b of batches) buffered -= b.ids.length;
      markDurable(batches[batches.length - 1].endSeq);
    });
  }

  /** Called from add(): memory over the limit means the database is down or cannot keep up. */
  function spillOverflow(): void {
    if (spillPending) return;
    spillPending = true;
    if (!databaseDown) log.warn({ buffered }, 'database write backlog over the limit; spooling to disk');
    void spill().finally(() => {
      spillPending = false;
      void kick();
    });
  }

  /**
   * Writes one batch; 'down' when the database is unreachable (the batch stays where it was).
   * A batch is written as statements of `writeChunk` rows, one after the other: building a
   * statement's array literals is synchronous, and one for a whole 10k-row batch held the event
   * loop for tens of milliseconds (and left that much young garbage at once). If a later statement
   * fails, the whole batch is written again later; the upsert makes that harmless.
   */
  async function write(batch: Batch, replayed: boolean): Promise<'ok' | 'rejected' | 'down'> {
    const n = batch.ids.length;
    const ranges: TimeRanges = new Map();
    for (let i = 0; i < n; i++) {
      const entityId = batch.ids[i];
      const t = batch.ts[i];
      const r = ranges.get(entityId);
      if (!r) ranges.set(entityId, { from: t, to: t });
      else {
        if (t < r.from) r.from = t;
        if (t > r.to) r.to = t;
      }
    }
    try {
      await insertBatch(batch);
    } catch (err) {
      if (isDataError(err)) {
        await reject(batch, err);
        return 'rejected';
      }
      noteDown(err);
      return 'down';
    }
    if (databaseDown) log.info('database reachable again');
    databaseDown = false;
    retryDelay = retryMin;
    written += n;
    try {
      await opts.onFlushed?.({ ranges, count: n, replayed });
    } catch (err) {
      log.error({ err }, 'onFlushed failed (the readings are stored)');
    }
    return 'ok';
  }

  /**
   * Sends a batch as statements of `writeChunk` rows on one connection, in order (so the last
   * reading for an instant wins across them). Each statement is built in a loop turn of its own and
   * queued behind the one the server is running: the server never waits for Node between them
   * (awaiting each one in turn cost a third of the throughput on a busy loop).
   */
  async function insertBatch(batch: Batch): Promise<void> {
    // Live readings are nearly always new: one binary COPY, unless a recent batch held stored ones.
    const pool = poolOf(db);
    if (pool && Date.now() >= copyAfter) {
      if (await copyNewSamples(pool, batch.ids, batch.ts, batch.vs)) return;
      copyAfter = Date.now() + COPY_PAUSE_MS;
    }
    const n = batch.ids.length;
    const rowsFrom = (start: number): SampleRow[] => {
      const end = Math.min(n, start + writeChunk);
      const rows: SampleRow[] = new Array(end - start);
      for (let i = start; i < end; i++) rows[i - start] = { entityId: batch.ids[i], t: batch.ts[i], v: batch.vs[i] };
      return rows;
    };
    if (n <= writeChunk) {
      await insertSamples(db, rowsFrom(0));
      return;
    }
    await db.connection().execute(async (conn) => {
      const sent: Promise<unknown>[] = [];
      let failed = false;
      for (let start = 0; start < n && !failed; start += writeChunk) {
        if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const p = insertSamples(conn, rowsFrom(start));
        p.catch(() => { failed = true; }); // handled here at once; reported below
        sent.push(p);
      }
      // Every statement settles before the connection goes back to the pool.
      const results = await Promise.allSettled(sent);
      const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) throw bad.reason;
    });
  }

  function noteDown(err: unknown): void {
    lastError = (err as Error).message;
    if (!databaseDown) log.warn({ err: { message: lastError, code: (err as { code?: string }).code } }, 'database unreachable; spooling readings to disk until it is back');
    databaseDown = true;
    retryAt = Date.now() + retryDelay;
    retryDelay = Math.min(retryDelay * 2, retryMax);
  }

  async function replaySome(): Promise<boolean> {
    const entries = await spool.readNext();
    // Spool lines are small (2,000 readings); consecutive ones are written together, up to
    // maxBatch readings, as one batch whose statements are queued back to back.
    for (let i = 0; i < entries.length;) {
      let j = i + 1;
      let count = entries[i].batch.ids.length;
      while (j < entries.length && count + entries[j].batch.ids.length <= maxBatch) count += entries[j++].batch.ids.length;
      const batch = j - i === 1 ? entries[i].batch : joinBatches(entries.slice(i, j).map((e) => e.batch));
      const outcome = await write(batch, true);
      if (outcome === 'down') return false;
      spool.consumed(entries[j - 1].end);
      i = j;
    }
    return true;
  }

  /** A batch the database refuses as data (cannot happen for readings add() accepted) is kept aside, not retried forever. */
  async function reject(batch: Batch, err: unknown): Promise<void> {
    lastError = (err as Error).message;
    const file = path.join(spoolDir, REJECTED_FILE);
    log.error({ err, file, rows: batch.ids.length }, 'database refused a batch of readings; kept aside in the rejected file');
    await fs.appendFile(file, `${JSON.stringify({ error: lastError, ...encode(batch) })}\n`).catch(() => undefined);
  }

  // --- public API -------------------------------------------------------------------------------

  let warnedDrops = 0;
  function drop(reason: string, entityId: unknown, t: unknown, v: unknown): void {
    dropped += 1;
    // The first few, then every 1000th: a misbehaving source must not flood the log.
    if (warnedDrops < 5 || dropped % 1000 === 0) {
      warnedDrops += 1;
      log.warn({ entityId, t, v, dropped }, `reading dropped: ${reason}`);
    }
  }

  void kick(); // replays a spool left by an earlier run

  return {
    add(entityId, t, v) {
      if (stopped || stopping) return drop('the recorder is stopped', entityId, t, v);
      if (typeof entityId !== 'string' || entityId.length === 0) return drop('no entity id', entityId, t, v);
      if (typeof t !== 'number' || !(t >= MIN_T && t <= MAX_T)) return drop('invalid time', entityId, t, v);
      if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) return drop('value is not a finite number or null', entityId, t, v);
      open.ids.push(entityId);
      open.ts.push(t);
      open.vs.push(v);
      accepted += 1;
      buffered += 1;
      if (open.ids.length >= maxBatch) {
        seal();
        if (buffered > maxBuffered) spillOverflow();
        else void kick();
      }
    },

    flush() {
      const target = accepted;
      if (durable >= target) return Promise.resolve();
      const p = new Promise<void>((resolve) => waiters.push({ target, resolve }));
      void kick();
      return p;
    },

    async stop(stopOpts) {
      if (stopped) return;
      stopping = true; // for good: a step still in flight after a timeout must not write again
      clearInterval(timer);
      // Finish the step in flight, then one last pass: write what memory holds, or spool it.
      const drained = (async () => {
        await kick();
        await kick();
      })();
      let timer2: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((resolve) => { timer2 = setTimeout(() => resolve(true), stopOpts?.timeoutMs ?? 15_000); }),
      ]);
      clearTimeout(timer2);
      if (timedOut) {
        log.warn('the database did not answer in time; spooling the rest for the next start');
        await spill();
      }
      await spoolLock;
      await spool.close();
      stopped = true;
      const left = waiters;
      waiters = [];
      for (const w of left) w.resolve();
    },

    status() {
      return {
        buffered,
        spooledBytes: spool.pendingBytes,
        databaseDown,
        accepted,
        written,
        dropped,
        lastError,
      };
    },
  };
}

function joinBatches(batches: Batch[]): Batch {
  const out: Batch = { ids: [], ts: [], vs: [], endSeq: 0 };
  for (const b of batches) {
    for (let i = 0; i < b.ids.length; i++) {
      out.ids.push(b.ids[i]);
      out.ts.push(b.ts[i]);
      out.vs.push(b.vs[i]);
    }
  }
  return out;
}

function isDataError(err: unknown): boolean {
  // Only our own row checks and the server's data errors mean "never storable". A TypeError from a
  // library is not one: a pg-copy-streams TypeError once sent a batch of good readings here.
  if (err instanceof InvalidSampleError) return true;
  const code = (err as { code?: unknown }).code;
  // 22: data exception, 23: integrity constraint violation. Everything else may pass with time.
  return typeof code === 'string' && /^2[23]/.test(code);
}
