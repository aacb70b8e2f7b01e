/**
 * Devices: an in-memory map loaded at start and written through to the `devices` table.
 * Ids are stable keys (`[a-z0-9][a-z0-9_-]*`) derived from a serial, MAC or config key.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { DeviceInfo, EventBus } from '../sdk/types.js';
import type { Database, DevicesTable } from '../storage/schema.js';
import { HubError } from './errors.js';
import type { Device, DeviceRegistry } from './types.js';

export const DEVICE_ID_RE = /^[a-z0-9][a-z0-9_-]*$/;

export function assertDeviceId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !DEVICE_ID_RE.test(id) || id.length > 128) {
    throw new HubError('INVALID_ID', `device id ${JSON.stringify(id)} must match [a-z0-9][a-z0-9_-]* (at most 128 characters)`, { id });
  }
}

type DevicePatch = Partial<Omit<DeviceInfo, 'id'>> & { ownerId?: string | null };

const COLUMNS: Record<Exclude<keyof DevicePatch, 'name'>, keyof DevicesTable> = {
  description: 'description',
  address: 'address',
  manufacturer: 'manufacturer',
  model: 'model',
  maxHourlyKwh: 'max_hourly_kwh',
  maxPowerW: 'max_power_w',
  ownerId: 'owner_id',
};

// Generated<Timestamp> columns select as Date, but Kysely's types do not unwrap the nesting.
const iso = (v: unknown): string => new Date(v as Date).toISOString();

function toDevice(row: Selectable<DevicesTable>): Device {
  const d: Device = {
    id: row.id,
    name: row.name,
    integration: row.integration,
    ownerId: row.owner_id,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
  if (row.description !== null) d.description = row.description;
  if (row.address !== null) d.address = row.address;
  if (row.manufacturer !== null) d.manufacturer = row.manufacturer;
  if (row.model !== null) d.model = row.model;
  if (row.max_hourly_kwh !== null) d.maxHourlyKwh = row.max_hourly_kwh;
  if (row.max_power_w !== null) d.maxPowerW = row.max_power_w;
  return d;
}

function checkNumbers(patch: DevicePatch): void {
  for (const key of ['maxHourlyKwh', 'maxPowerW'] as const) {
    const v = patch[key];
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new HubError('INVALID_ID', `${key} must be a positive number`, { [key]: v });
    }
  }
}

export interface DeviceRegistryOptions {
  db: Kysely<Database>;
  bus: EventBus;
  log: Logger;
  /** Told after a device is deleted, so entities and states drop it from memory too. */
  onDeleted?: (deviceId: string, entityIds: string[]) => void;
}

export class HubDeviceRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, Device>();
  private constructor(private readonly opts: DeviceRegistryOptions) {}

  static async load(opts: DeviceRegistryOptions): Promise<HubDeviceRegistry> {
    const reg = new HubDeviceRegistry(opts);
    const rows = await opts.db.selectFrom('devices').selectAll().orderBy('id').execute();
    for (const row of rows) reg.devices.set(row.id, toDevice(row));
    return reg;
  }

  list(): Device[] {
    return [...this.devices.values()];
  }

  /**
   * Reads devices written by another process (`joulehub import` while the hub runs) into memory:
   * the one named, or every row when no id is given. Returns the ids that were new or changed.
   */
  async refresh(id?: string): Promise<string[]> {
    let q = this.opts.db.selectFrom('devices').selectAll();
    if (id !== undefined) q = q.where('id', '=', id);
    const changed: string[] = [];
    for (const row of await q.execute()) {
      const device = toDevice(row);
      const old = this.devices.get(device.id);
      if (old && JSON.stringify(old) === JSON.stringify(device)) continue;
      this.devices.set(device.id, device);
      changed.push(device.id);
      if (!old) this.opts.bus.emit('device_registered', { deviceId: device.id });
    }
    return changed;
  }

  get(id: string): Device | undefined {
    return this.devices.get(id);
  }

  /** Devices owned by an integration instance. */
  ownedBy(integration: string): Device[] {
    return this.list().filter((d) => d.integration === integration);
  }

  async upsert(info: DeviceInfo & { ownerId?: string | null }, integration: string | null): Promise<Device> {
    assertDeviceId(info.id);
    checkNumbers(info);
    const existing = this.devices.get(info.id);
    const name = typeof info.name === 'string' && info.name.trim() ? info.name : existing?.name ?? info.id;
    const values: Record<string, unknown> = { name };
    for (const [field, column] of Object.entries(COLUMNS)) {
      const v = (info as unknown as Record<string, unknown>)[field];
      if (v !== undefined) values[column] = v;
    }
    // An API-created device adopted by nobody keeps its owner integration; null never clears one.
    const owner = integration ?? existing?.integration ?? null;
    if (existing && sameAs(existing, values, owner)) return existing;
    const row = await this.opts.db
      .insertInto('devices')
      .values({ id: info.id, integration: owner, ...values } as never)
      .onConflict((oc) => oc.column('id').doUpdateSet({ ...values, integration: owner, updated_at: new Date() } as never))
      .returningAll()
      .executeTakeFirstOrThrow();
    const device = toDevice(row);
    this.devices.set(device.id, device);
    this.opts.bus.emit('device_registered', { deviceId: device.id });
    return device;
  }

  async update(id: string, patch: DevicePatch): Promise<Device | undefined> {
    const existing = this.devices.get(id);
    if (!existing) return undefined;
    checkNumbers(patch);
    const values: Record<string, unknown> = {};
    if (patch.name !== undefined) {
      if (typeof patch.name !== 'string' || !patch.name.trim()) throw new HubError('INVALID_ID', 'name must not be empty');
      values.name = patch.name;
    }
    for (const [field, column] of Object.entries(COLUMNS)) {
      if (field in patch) values[column] = (patch as Record<string, unknown>)[field] ?? null;
    }
    if (Object.keys(values).length === 0) return existing;
    const row = await this.opts.db
      .updateTable('devices')
      .set({ ...values, updated_at: new Date() } as never)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      this.devices.delete(id);
      return undefined;
    }
    const device = toDevice(row);
    this.devices.set(id, device);
    this.opts.bus.emit('device_registered', { deviceId: id });
    return device;
  }

  async delete(id: string): Promise<boolean> {
    const { entityIds, deleted } = await this.opts.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('entities').select('id').where('device_id', '=', id).execute();
      const ids = rows.map((r) => r.id);
      if (ids.length) {
        // samples, quarantine and the ledger carry no foreign key (readings are never refused for
        // registration order), so they are removed explicitly.
        await trx.deleteFrom('energy_15m').where('entity_id', 'in', ids).execute();
        await trx.deleteFrom('energy_1h').where('entity_id', 'in', ids).execute();
        await trx.deleteFrom('samples').where('entity_id', 'in', ids).execute();
        await trx.deleteFrom('quarantine').where('entity_id', 'in', ids).execute();
        await trx.deleteFrom('states').where('entity_id', 'in', ids).execute();
        await trx.deleteFrom('entities').where('device_id', '=', id).execute();
      }
      const res = await trx.deleteFrom('devices').where('id', '=', id).executeTakeFirst();
      return { entityIds: ids, deleted: Number(res.numDeletedRows) > 0 };
    });
    const existed = this.devices.delete(id) || deleted;
    if (!existed) return false;
    this.opts.onDeleted?.(id, entityIds);
    this.opts.log.info({ deviceId: id, entities: entityIds.length }, 'device deleted');
    return true;
  }
}

function sameAs(existing: Device, values: Record<string, unknown>, integration: string | null): boolean {
  if (existing.integration !== integration || existing.name !== values.name) return false;
  for (const [field, column] of Object.entries(COLUMNS)) {
    if (!(column in values)) continue;
    const current = (existing as unknown as Record<string, unknown>)[field] ?? null;
    if (current !== (values[column] ?? null)) return false;
  }
  return true;
}
