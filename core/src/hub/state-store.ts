/**
 * Latest state per entity: canonical value, switch text, availability, when it last changed and when
 * it was last reported. Held in memory for the hot path, written to the `states` table in batches
 * (only rows touched since the last write) so it survives a restart.
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { EntityKind } from '../sdk/types.js';
import type { Database } from '../storage/schema.js';
import type { Entity, EntityState, StateStore } from './types.js';

interface Slot {
  entityId: string;
  deviceId: string;
  kind: EntityKind;
  value: number | null;
  text: string | null;
  available: boolean;
  lastChanged: number;
  lastReported: number;
}

export interface StateChange {
  previous: { value: number | null; text: string | null; available: boolean } | null;
  /** Value, text or availability differ from before (or this is the first state). The new state is get(id). */
  changed: boolean;
  availabilityChanged: boolean;
}

function toState(s: Slot): EntityState {
  return {
    entityId: s.entityId,
    deviceId: s.deviceId,
    kind: s.kind,
    value: s.value,
    text: s.text,
    available: s.available,
    lastChanged: new Date(s.lastChanged).toISOString(),
    lastReported: new Date(s.lastReported).toISOString(),
  };
}

export class HubStateStore implements StateStore {
  private readonly slots = new Map<string, Slot>();
  private dirty = new Set<string>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly db: Kysely<Database>, private readonly log: Logger) {}

  /** Loads persisted states of the entities that still exist. */
  static async load(db: Kysely<Database>, log: Logger, entities: (id: string) => Entity | undefined): Promise<HubStateStore> {
    const store = new HubStateStore(db, log);
    const rows = await db.selectFrom('states').selectAll().execute();
    for (const row of rows) {
      const entity = entities(row.entity_id);
      if (!entity) continue;
      store.slots.set(row.entity_id, {
        entityId: row.entity_id,
        deviceId: entity.deviceId,
        kind: entity.kind,
        value: row.value,
        text: row.text,
        available: row.available,
        lastChanged: new Date(row.last_changed).getTime(),
        lastReported: new Date(row.last_reported).getTime(),
      });
    }
    return store;
  }

  /** The latest reading time of an entity, epoch ms (for plausibility and ordering on the hot path). */
  lastReading(entityId: string): { t: number; v: number | null; available: boolean } | undefined {
    const s = this.slots.get(entityId);
    return s ? { t: s.lastReported, v: s.value, available: s.available } : undefined;
  }

  get(entityId: string): EntityState | undefined {
    const s = this.slots.get(entityId);
    return s ? toState(s) : undefined;
  }

  all(): EntityState[] {
    return [...this.slots.values()].map(toState);
  }

  /**
   * Applies a reading taken at `at`. A reading older than the latest one reported is history, not
   * state (late data and backfills go to the recorder only): returns null then. A reading makes the
   * entity available again.
   */
  apply(entity: Entity, value: number | null, text: string | null, at: number): StateChange | null {
    const slot = this.slots.get(entity.id);
    if (slot && at < slot.lastReported) return null;
    if (!slot) {
      const fresh: Slot = { entityId: entity.id, deviceId: entity.deviceId, kind: entity.kind, value, text, available: true, lastChanged: at, lastReported: at };
      this.slots.set(entity.id, fresh);
      this.dirty.add(entity.id);
      return { previous: null, changed: true, availabilityChanged: false };
    }
    const previous = { value: slot.value, text: slot.text, available: slot.available };
    const changed = slot.value !== value || slot.text !== text || !slot.available;
    slot.value = value;
    slot.text = text;
    slot.available = true;
    slot.lastReported = at;
    if (changed) slot.lastChanged = at;
    this.dirty.add(entity.id);
    return { previous, changed, availabilityChanged: !previous.available };
  }

  /** Marks an entity (un)available at `at`; the value is kept for display. */
  setAvailable(entity: Entity, available: boolean, at: number): StateChange {
    let slot = this.slots.get(entity.id);
    if (!slot) {
      slot = { entityId: entity.id, deviceId: entity.deviceId, kind: entity.kind, value: null, text: null, available, lastChanged: at, lastReported: at };
      this.slots.set(entity.id, slot);
      this.dirty.add(entity.id);
      return { previous: null, changed: true, availabilityChanged: !available };
    }
    const previous = { value: slot.value, text: slot.text, available: slot.available };
    const changed = slot.available !== available;
    if (changed) {
      slot.available = available;
      slot.lastChanged = Math.max(at, slot.lastChanged);
      this.dirty.add(entity.id);
    }
    return { previous, changed, availabilityChanged: changed };
  }

  forget(entityIds: string[]): void {
    for (const id of entityIds) {
      this.slots.delete(id);
      this.dirty.delete(id);
    }
  }

  /** Writes every state touched since the last write, in one statement. */
  persist(): Promise<void> {
    const run = this.writing.then(() => this.writeDirty());
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async writeDirty(): Promise<void> {
    if (this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty = new Set();
    const rows = ids.map((id) => this.slots.get(id)).filter((s): s is Slot => s !== undefined);
    if (rows.length === 0) return;
    try {
      await sql`
        insert into states (entity_id, value, text, available, last_changed, last_reported)
        select * from unnest(
          ${rows.map((r) => r.entityId)}::text[],
          ${rows.map((r) => r.value)}::float8[],
          ${rows.map((r) => r.text)}::text[],
          ${rows.map((r) => r.available)}::boolean[],
          ${rows.map((r) => new Date(r.lastChanged).toISOString())}::timestamptz[],
          ${rows.map((r) => new Date(r.lastReported).toISOString())}::timestamptz[])
        on conflict (entity_id) do update set
          value = excluded.value, text = excluded.text, available = excluded.available,
          last_changed = excluded.last_changed, last_reported = excluded.last_reported`.execute(this.db);
    } catch (err) {
      // Keep them dirty: the next write retries with whatever is newest by then.
      for (const r of rows) this.dirty.add(r.entityId);
      this.log.warn({ err, count: rows.length }, 'writing states failed; will retry');
      throw err;
    }
  }
}
