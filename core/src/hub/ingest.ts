/**
 * The ingest pipeline every reading goes through:
 *
 *   report(entity, value, at) → canonical units → switch values → plausibility guard
 *     ├─ refused → quarantine table (with the reason) + reading_quarantined; never the ledger
 *     └─ state store → state_changed → recorder (bulk, spooled) → after each flush: ledger
 *        recompute for the flushed ranges → readings_recorded
 *
 * report() is synchronous and cheap; durability comes from flush(). writeSamples() is the batch
 * path (API batches, imports) that resolves only once the readings and the ledger are stored.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { checkPlausibility } from '../energy/plausibility.js';
import type { Sample } from '../energy/types.js';
import { toCanonical, unitFactor } from '../energy/units.js';
import type { ReportValue } from '../sdk/types.js';
import { recomputeLedger } from '../storage/ledger.js';
import { createRecorder, type FlushSummary, type Recorder, type RecorderOptions } from '../storage/recorder.js';
import { insertSamples, latestSamples, type TimeRanges } from '../storage/samples.js';
import type { Database } from '../storage/schema.js';
import type { HubEventBus } from './bus.js';
import type { HubClock } from './clock.js';
import type { HubDeviceRegistry } from './device-registry.js';
import type { HubEntityRegistry } from './entity-registry.js';
import { HubError } from './errors.js';
import type { HubStateStore } from './state-store.js';
import type { Entity, QuarantinedReading } from './types.js';

/** Entities recomputed at once after a flush (each recompute is one transaction on the pool). */
const LEDGER_CONCURRENCY = 4;

/**
 * Samples per ledger window in the live loop. Each window's samples are parsed, cut into segments
 * and buckets synchronously; the ledger's default (20k, sized for rebuilds) held the event loop for
 * tens of milliseconds when the loop had a few seconds of readings to catch up on.
 */
const LIVE_WINDOW_SAMPLES = 2_000;

export interface IngestOptions {
  db: Kysely<Database>;
  log: Logger;
  clock: HubClock;
  bus: HubEventBus;
  devices: HubDeviceRegistry;
  entities: HubEntityRegistry;
  states: HubStateStore;
  spoolDir: string;
  /** Recorder tuning (flush interval, batch size) for benchmarks and tests. */
  recorder?: Partial<Pick<RecorderOptions, 'flushIntervalMs' | 'maxBatch' | 'maxBuffered'>>;
}

function mergeRanges(into: TimeRanges, from: TimeRanges): void {
  for (const [id, r] of from) {
    const cur = into.get(id);
    if (!cur) into.set(id, { from: r.from, to: r.to });
    else {
      if (r.from < cur.from) cur.from = r.from;
      if (r.to > cur.to) cur.to = r.to;
    }
  }
}

interface QuarantineRow { entity_id: string; time: Date; value: number | null; raw: string | null; reason: string }

const NO_UNIT = '\u0000';

type Normalised = { ok: true; v: number | null; text: string | null } | { ok: false; reason: string };

export class Ingest {
  private readonly recorder: Recorder;
  /** Last accepted numeric reading per entity: the plausibility guard's `prev`. */
  private readonly lastAccepted = new Map<string, Sample>();
  /** Unit conversion factors by entity kind and unit (NO_UNIT: the canonical unit). */
  private readonly factors = new Map<string, Map<string, number>>();
  private quarantineQueue: QuarantineRow[] = [];
  private quarantineWrite: Promise<void> | undefined;
  /** Flushed ranges waiting for the ledger loop, merged per entity. */
  private pendingLedger: TimeRanges = new Map();
  private pendingCount = 0;
  private ledgerLoop: Promise<void> | undefined;
  /** Ledger ranges whose recompute failed; retried at the next flush(). */
  private readonly ledgerBacklog: TimeRanges = new Map();
  private batchWrites = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly opts: IngestOptions) {
    this.recorder = createRecorder({
      db: opts.db,
      log: opts.log,
      spoolDir: opts.spoolDir,
      ...opts.recorder,
      onFlushed: (summary) => this.afterFlush(summary),
    });
  }

  // --- live readings ---------------------------------------------------------------------------------

  report(entityId: string, value: ReportValue, at?: number | Date, opts?: { unit?: string }): void {
    const entity = this.opts.entities.get(entityId);
    if (!entity) {
      throw new HubError('ENTITY_NOT_FOUND', `no entity "${entityId}": register it before reporting`, { entityId });
    }
    if (this.stopped) {
      this.opts.log.debug({ entityId }, 'reading after stop dropped');
      return;
    }
    const t = at === undefined ? this.opts.clock.now() : at instanceof Date ? at.getTime() : at;
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      this.quarantineOne(entity, this.opts.clock.now(), null, value, opts?.unit, `invalid time ${String(at)}`);
      return;
    }
    // Numbers (the bulk of live readings) take a path that allocates nothing per reading: at tens
    // of thousands of readings a second, per-reading garbage is what the young-generation GC pauses on.
    let v: number | null;
    let text: string | null = null;
    if (typeof value === 'number' && entity.kind !== 'switch') {
      const factor = this.unitFactor(entity, opts?.unit);
      if (typeof factor === 'string') {
        this.quarantineOne(entity, t, null, value, opts?.unit, factor);
        return;
      }
      v = factor === 1 ? value : value * factor;
    } else {
      const n = this.normalise(entity, value, opts?.unit);
      if (!n.ok) {
        this.quarantineOne(entity, t, null, value, opts?.unit, n.reason);
        return;
      }
      v = n.v;
      text = n.text;
    }
    if (v !== null) {
      const prev = this.lastAccepted.get(entity.id);
      const reason = checkPlausibility(entity.kind, v, {
        prev: prev ?? this.prevOf(entity.id),
        at: t,
        maxPowerW: this.opts.devices.get(entity.deviceId)?.maxPowerW,
        raw: typeof value === 'number' ? value : undefined,
      });
      if (reason !== null) {
        this.quarantineOne(entity, t, v, value, opts?.unit, reason);
        return;
      }
      // Updated in place: this object is only ever read synchronously (as the guard's `prev`).
      if (!prev) this.lastAccepted.set(entity.id, { t, v });
      else if (t >= prev.t) {
        prev.t = t;
        prev.v = v;
      }
    }
    this.applyState(entity, v, text, t);
    this.recorder.add(entity.id, t, v);
  }

  /** Conversion factor to canonical units, cached per kind and unit; a string is the reason it is refused. */
  private unitFactor(entity: Entity, unit: string | undefined): number | string {
    const u = unit ?? entity.sourceUnit;
    let byUnit = this.factors.get(entity.kind);
    if (!byUnit) this.factors.set(entity.kind, (byUnit = new Map()));
    const key = u ?? NO_UNIT;
    const cached = byUnit.get(key);
    if (cached !== undefined) return cached;
    let factor: number;
    try {
      factor = unitFactor(entity.kind, u);
    } catch (err) {
      return (err as Error).message;
    }
    if (byUnit.size < 64) byUnit.set(key, factor); // bounded: units come from integrations' payloads
    return factor;
  }

  /**
   * Marks entities (un)available. Going unavailable records a null sample, so the ledger bridges no
   * power energy across the outage.
   */
  setAvailable(entityIds: string[], available: boolean, at?: number): void {
    const t = at ?? this.opts.clock.now();
    for (const id of entityIds) {
      const entity = this.opts.entities.get(id);
      if (!entity) continue;
      const change = this.opts.states.setAvailable(entity, available, t);
      if (!change.changed) continue;
      const kept = change.previous ?? { value: null, text: null };
      this.emitState(entity, { value: kept.value, text: kept.text, available }, change.previous, t);
      this.opts.bus.emit('availability_changed', { entityId: id, deviceId: entity.deviceId, available, at: t });
      if (!available && !this.stopped) this.recorder.add(id, t, null);
    }
  }

  private normalise(entity: Entity, value: ReportValue, unit: string | undefined): Normalised {
    if (value === null) return { ok: true, v: null, text: null };
    if (entity.kind === 'switch') {
      if (value === true || value === 'on') return { ok: true, v: 1, text: 'on' };
      if (value === false || value === 'off') return { ok: true, v: 0, text: 'off' };
      if (typeof value === 'number' && (value === 0 || value === 1)) return { ok: true, v: value, text: value ? 'on' : 'off' };
      return { ok: false, reason: `not a switch value: ${JSON.stringify(value)} (use on/off, true/false or 1/0)` };
    }
    if (typeof value !== 'number') return { ok: false, reason: `expected a number for ${entity.kind}, got ${JSON.stringify(value)}` };
    try {
      return { ok: true, v: toCanonical(entity.kind, value, unit ?? entity.sourceUnit), text: null };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  private prevOf(entityId: string): Sample | undefined {
    const mem = this.lastAccepted.get(entityId);
    if (mem) return mem;
    // After a restart: the persisted state is the last reading we accepted.
    const last = this.opts.states.lastReading(entityId);
    return last && last.v !== null ? { t: last.t, v: last.v } : undefined;
  }

  private applyState(entity: Entity, v: number | null, text: string | null, t: number): void {
    const change = this.opts.states.apply(entity, v, text, t);
    if (!change || !change.changed) return;
    this.emitState(entity, { value: v, text, available: true }, change.previous, t);
    if (change.availabilityChanged) {
      this.opts.bus.emit('availability_changed', { entityId: entity.id, deviceId: entity.deviceId, available: true, at: t });
    }
  }

  private emitState(
    entity: Entity,
    now: { value: number | null; text: string | null; available: boolean },
    before: { value: number | null; text: string | null } | null,
    t: number,
  ): void {
    // Switches speak on/off on the bus; measurements their canonical number.
    const sw = entity.kind === 'switch';
    this.opts.bus.emit('state_changed', {
      entityId: entity.id,
      deviceId: entity.deviceId,
      kind: entity.kind,
      value: sw ? now.text : now.value,
      previous: before ? (sw ? before.text : before.value) : null,
      at: t,
      available: now.available,
    });
  }

  // --- quarantine ------------------------------------------------------------------------------------

  private quarantineOne(entity: Entity, t: number, canonical: number | null, raw: ReportValue, unit: string | undefined, reason: string): void {
    const value = canonical !== null && Number.isFinite(canonical) ? canonical : null;
    this.quarantineQueue.push({
      entity_id: entity.id,
      time: new Date(t),
      value,
      raw: raw === null ? null : `${String(raw)}${unit ? ` ${unit}` : ''}`,
      reason,
    });
    this.opts.bus.emit('reading_quarantined', { entityId: entity.id, value, at: t, reason });
    this.opts.log.debug({ entityId: entity.id, at: t, raw, reason }, 'reading quarantined');
    this.quarantineWrite ??= this.writeQuarantine();
  }

  private async writeQuarantine(): Promise<void> {
    try {
      while (this.quarantineQueue.length > 0) {
        await Promise.resolve(); // gather what this tick reports into one insert
        const rows = this.quarantineQueue.splice(0, 5_000);
        try {
          await this.opts.db.insertInto('quarantine').values(rows).execute();
        } catch (err) {
          // Refused readings are evidence, not data: losing them during an outage is logged, not retried.
          this.opts.log.error({ err, count: rows.length }, 'could not store quarantined readings');
        }
      }
    } finally {
      this.quarantineWrite = undefined;
    }
  }

  async quarantine(filter: { entityId?: string; limit?: number } = {}): Promise<QuarantinedReading[]> {
    await this.quarantineWrite;
    let q = this.opts.db.selectFrom('quarantine').selectAll();
    if (filter.entityId !== undefined) q = q.where('entity_id', '=', filter.entityId);
    const rows = await q.orderBy('id', 'desc').limit(Math.max(1, Math.min(filter.limit ?? 100, 10_000))).execute();
    return rows.map((r) => ({
      entityId: r.entity_id,
      time: new Date(r.time as unknown as Date).toISOString(),
      value: r.value,
      raw: r.raw,
      reason: r.reason,
      receivedAt: new Date(r.received_at as unknown as Date).toISOString(),
    }));
  }

  // --- batches -------------------------------------------------------------------------------------------

  async writeSamples(entityId: string, samples: Sample[]): Promise<{ stored: number; quarantined: number }> {
    const entity = this.opts.entities.get(entityId);
    if (!entity) throw new HubError('ENTITY_NOT_FOUND', `no entity "${entityId}"`, { entityId });
    if (this.stopped) throw new HubError('HUB_STOPPED', 'the hub is stopping');
    const work = this.writeBatch(entity, samples);
    this.batchWrites.add(work);
    try {
      return await work;
    } finally {
      this.batchWrites.delete(work);
    }
  }

  private async writeBatch(entity: Entity, samples: Sample[]): Promise<{ stored: number; quarantined: number }> {
    const sorted = [...samples].sort((a, b) => a.t - b.t);
    if (sorted.length === 0) return { stored: 0, quarantined: 0 };
    const maxPowerW = this.opts.devices.get(entity.deviceId)?.maxPowerW;
    // Rate checks need the reading before the batch; counters compare against the last stored one.
    let prev: Sample | undefined = (await latestSamples(this.opts.db, entity.id, 1, sorted[0].t))
      .find((s) => s.v !== null);
    const accepted: { entityId: string; t: number; v: number | null }[] = [];
    const refused: QuarantineRow[] = [];
    for (const s of sorted) {
      const reason = s.v === null ? null : checkPlausibility(entity.kind, s.v, { prev, at: s.t, maxPowerW });
      if (reason !== null) {
        refused.push({ entity_id: entity.id, time: new Date(s.t), value: Number.isFinite(s.v) ? s.v : null, raw: String(s.v), reason });
        continue;
      }
      accepted.push({ entityId: entity.id, t: s.t, v: s.v });
      if (s.v !== null) prev = { t: s.t, v: s.v };
    }
    if (refused.length) {
      for (let i = 0; i < refused.length; i += 5_000) {
        await this.opts.db.insertInto('quarantine').values(refused.slice(i, i + 5_000)).execute();
      }
      for (const r of refused) {
        this.opts.bus.emit('reading_quarantined', { entityId: entity.id, value: r.value, at: r.time.getTime(), reason: r.reason });
      }
    }
    if (accepted.length) {
      await insertSamples(this.opts.db, accepted);
      const from = accepted[0].t;
      const to = accepted[accepted.length - 1].t;
      await recomputeLedger(this.opts.db, entity, { from, to });
      this.opts.bus.emit('readings_recorded', { entityIds: [entity.id], from, to, count: accepted.length });
      const last = accepted[accepted.length - 1];
      const prevAccepted = this.lastAccepted.get(entity.id);
      if (last.v !== null && (!prevAccepted || last.t >= prevAccepted.t)) this.lastAccepted.set(entity.id, { t: last.t, v: last.v });
      this.applyState(entity, last.v, entity.kind === 'switch' && last.v !== null ? (last.v ? 'on' : 'off') : null, last.t);
    }
    return { stored: accepted.length, quarantined: refused.length };
  }

  // --- durability ------------------------------------------------------------------------------------------

  /**
   * After each recorder batch: note the flushed ranges; the ledger loop brings them into the ledger
   * in the background, coalesced per entity, so a busy recorder is never held up by recomputes
   * (one recompute per entity per round, however many batches arrived meanwhile).
   */
  private afterFlush(summary: FlushSummary): void {
    mergeRanges(this.pendingLedger, summary.ranges);
    this.pendingCount += summary.count;
    this.ledgerLoop ??= this.runLedger();
  }

  private async runLedger(): Promise<void> {
    try {
      while (this.pendingLedger.size > 0) {
        const ranges = this.pendingLedger;
        const count = this.pendingCount;
        this.pendingLedger = new Map();
        this.pendingCount = 0;
        await this.recompute(ranges);
        if (count > 0) {
          let from = Infinity;
          let to = -Infinity;
          for (const r of ranges.values()) {
            if (r.from < from) from = r.from;
            if (r.to > to) to = r.to;
          }
          this.opts.bus.emit('readings_recorded', { entityIds: [...ranges.keys()], from, to, count });
        }
      }
    } finally {
      this.ledgerLoop = undefined;
    }
  }

  private async recompute(ranges: TimeRanges): Promise<void> {
    const work = [...ranges].filter(([id]) => this.opts.entities.get(id));
    let i = 0;
    const worker = async () => {
      while (i < work.length) {
        const [id, range] = work[i++];
        try {
          await recomputeLedger(this.opts.db, this.opts.entities.get(id)!, range, { windowSamples: LIVE_WINDOW_SAMPLES });
        } catch (err) {
          this.opts.log.warn({ err, entityId: id }, 'ledger recompute failed; retried at the next flush');
          mergeRanges(this.ledgerBacklog, new Map([[id, range]]));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LEDGER_CONCURRENCY, work.length) }, worker));
  }

  /** Waits for the ledger loop; first hands it whatever failed before. */
  private async settleLedger(): Promise<void> {
    if (this.ledgerBacklog.size > 0) {
      mergeRanges(this.pendingLedger, this.ledgerBacklog);
      this.ledgerBacklog.clear();
      this.ledgerLoop ??= this.runLedger();
    }
    while (this.ledgerLoop) await this.ledgerLoop;
  }

  /**
   * Resolves once every reading reported so far is in the database and the ledger, and states are
   * written. While the database is unreachable it resolves once they are safe in the spool instead.
   */
  async flush(): Promise<void> {
    // The recorder calls readings durable once they are in its disk spool (backlog or outage);
    // flush means "in the database", so wait for the spool to be replayed unless the database is down.
    for (;;) {
      await this.recorder.flush();
      const st = this.recorder.status();
      if ((st.spooledBytes === 0 && st.buffered === 0) || st.databaseDown || this.stopped) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.settleLedger();
    while (this.quarantineWrite) await this.quarantineWrite;
    await Promise.allSettled([...this.batchWrites]);
    await this.opts.states.persist().catch((err: unknown) => this.opts.log.warn({ err }, 'states not written'));
  }

  recorderStatus(): ReturnType<Recorder['status']> {
    return this.recorder.status();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled([...this.batchWrites]);
    await this.recorder.stop();
    while (this.ledgerLoop) await this.ledgerLoop;
    while (this.quarantineWrite) await this.quarantineWrite;
    await this.opts.states.persist().catch((err: unknown) => this.opts.log.warn({ err }, 'states not written at stop'));
  }
}
