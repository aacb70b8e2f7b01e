/**
 * Entities: one measured or controlled quantity of a device, id `<device_id>.<key>`. In-memory map
 * loaded at start, written through to the `entities` table. The kind is fixed once registered:
 * changing it would reinterpret every stored sample.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Logger } from 'pino';
import { unitFactor } from '../energy/units.js';
import { ENTITY_KINDS, type EntityInfo, type EntityKind, type EntityRole, type EventBus } from '../sdk/types.js';
import type { Database, EntitiesTable } from '../storage/schema.js';
import { HubError } from './errors.js';
import type { DeviceRegistry, Entity, EntityRegistry } from './types.js';

export const ENTITY_KEY_RE = /^[a-z0-9][a-z0-9_-]*$/;
export const ENTITY_ROLES: readonly EntityRole[] = ['grid', 'pv', 'battery', 'load', 'ev', 'heat_pump', 'other'];

export function entityId(deviceId: string, key: string): string {
  return `${deviceId}.${key}`;
}

function toEntity(row: Selectable<EntitiesTable>): Entity {
  return {
    id: row.id,
    deviceId: row.device_id,
    key: row.key,
    kind: row.kind as EntityKind,
    name: row.name,
    role: row.role,
    sourceUnit: row.source_unit,
    reportsOnChange: row.reports_on_change,
    maxGapSeconds: row.max_gap_s,
    flow: row.flow === 'out' ? 'out' : 'in',
  };
}

function validate(deviceId: string, info: EntityInfo): void {
  const bad = (message: string) => new HubError('INVALID_ENTITY', `entity ${deviceId}.${String(info.key)}: ${message}`, { deviceId, key: info.key });
  if (typeof info.key !== 'string' || !ENTITY_KEY_RE.test(info.key)) throw bad('key must match [a-z0-9][a-z0-9_-]*');
  if (!ENTITY_KINDS.includes(info.kind)) throw bad(`kind must be one of ${ENTITY_KINDS.join(', ')}`);
  if (info.role !== undefined && !ENTITY_ROLES.includes(info.role)) throw bad(`role must be one of ${ENTITY_ROLES.join(', ')}`);
  if (info.flow !== undefined && info.flow !== 'in' && info.flow !== 'out') throw bad("flow must be 'in' or 'out'");
  if (info.maxGapSeconds !== undefined && !(info.maxGapSeconds > 0)) throw bad('maxGapSeconds must be > 0');
  if (info.unit !== undefined) unitFactor(info.kind, info.unit); // throws UnitError naming the allowed units
}

export interface EntityRegistryOptions {
  db: Kysely<Database>;
  bus: EventBus;
  log: Logger;
  devices: DeviceRegistry;
}

export class HubEntityRegistry implements EntityRegistry {
  private readonly entities = new Map<string, Entity>();
  private constructor(private readonly opts: EntityRegistryOptions) {}

  static async load(opts: EntityRegistryOptions): Promise<HubEntityRegistry> {
    const reg = new HubEntityRegistry(opts);
    const rows = await opts.db.selectFrom('entities').selectAll().orderBy('id').execute();
    for (const row of rows) reg.entities.set(row.id, toEntity(row));
    return reg;
  }

  list(filter?: { deviceId?: string }): Entity[] {
    const all = [...this.entities.values()];
    return filter?.deviceId === undefined ? all : all.filter((e) => e.deviceId === filter.deviceId);
  }

  get(id: string): Entity | undefined {
    return this.entities.get(id);
  }

  /**
   * Reads entities written by another process (`joulehub import` while the hub runs) into memory:
   * the one named, or every row when no id is given (after the device registry's refresh).
   */
  async refresh(id?: string): Promise<string[]> {
    let q = this.opts.db.selectFrom('entities').selectAll();
    if (id !== undefined) q = q.where('id', '=', id);
    const changed: string[] = [];
    for (const row of await q.execute()) {
      const entity = toEntity(row);
      const old = this.entities.get(entity.id);
      if (old && JSON.stringify(old) === JSON.stringify(entity)) continue;
      this.entities.set(entity.id, entity);
      changed.push(entity.id);
      if (!old) this.opts.bus.emit('entity_registered', { entityId: entity.id, deviceId: entity.deviceId, kind: entity.kind });
    }
    return changed;
  }

  async register(deviceId: string, info: EntityInfo): Promise<Entity> {
    if (!this.opts.devices.get(deviceId)) {
      throw new HubError('DEVICE_NOT_FOUND', `cannot register ${deviceId}.${info.key}: no device "${deviceId}" (upsert the device first)`, { deviceId });
    }
    validate(deviceId, info);
    const id = entityId(deviceId, info.key);
    const existing = this.entities.get(id);
    if (existing && existing.kind !== info.kind) {
      throw new HubError('ENTITY_KIND_CONFLICT',
        `entity ${id} is registered as ${existing.kind}, not ${info.kind}; delete the device to change what it measures`,
        { entityId: id, kind: existing.kind, requested: info.kind });
    }
    const values = {
      name: info.name ?? null,
      role: info.role ?? null,
      source_unit: info.unit ?? null,
      reports_on_change: info.reportsOnChange ?? false,
      max_gap_s: info.maxGapSeconds ?? null,
      flow: info.flow ?? 'in',
    };
    if (existing && same(existing, values)) return existing;
    const row = await this.opts.db
      .insertInto('entities')
      .values({ id, device_id: deviceId, key: info.key, kind: info.kind, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
    const entity = toEntity(row);
    this.entities.set(id, entity);
    this.opts.bus.emit('entity_registered', { entityId: id, deviceId, kind: entity.kind });
    return entity;
  }

  /** Drops a deleted device's entities from memory (the rows are gone already). */
  forgetDevice(deviceId: string): void {
    for (const [id, e] of this.entities) if (e.deviceId === deviceId) this.entities.delete(id);
  }
}

function same(e: Entity, v: { name: string | null; role: string | null; source_unit: string | null; reports_on_change: boolean; max_gap_s: number | null; flow: string }): boolean {
  return e.name === v.name && e.role === v.role && e.sourceUnit === v.source_unit
    && e.reportsOnChange === v.reports_on_change && e.maxGapSeconds === v.max_gap_s && e.flow === v.flow;
}
