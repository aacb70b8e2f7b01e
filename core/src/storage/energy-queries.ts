/**
 * Energy queries over the ledger: per device or entity, the fleet, the top consumers.
 *
 * Stored rows hold the closed segments; the open tail after each entity's latest sample is added
 * here, as of the hub clock. Hours, days and months are cut in the request's time zone by
 * energy/periods.ts; the hourly table serves them when every period boundary falls on a whole UTC
 * hour (checked per query), the 15-minute table otherwise (e.g. +05:45).
 */
import { sql, type Kysely } from 'kysely';
import {
  bucketCeil, InvalidTimeZoneError, isValidTimeZone, nextPeriodStart, periodBounds, periodSpan, periodStart, rollup,
  tailSegment, toBuckets, type PeriodInterval,
} from '../energy/index.js';
import type { Sample } from '../energy/types.js';
import { HubError } from '../hub/errors.js';
import type {
  DeviceRegistry, EnergyQuery, EnergyRow, EnergyService, Entity, EntityRegistry, FleetRow, TopRow,
} from '../hub/types.js';
import type { Clock, EntityKind } from '../sdk/types.js';
import { ledgerOptions } from './ledger.js';
import type { Database } from './schema.js';

const HOUR_MS = 3_600_000;
/** Results are kWh to six decimals (1 mWh): enough for any meter, and free of float noise. */
const DECIMALS = 1e6;

export interface EnergyServiceDeps {
  db: Kysely<Database>;
  entities: EntityRegistry;
  devices: DeviceRegistry;
  clock: Clock;
}

const ENERGY_KINDS: readonly EntityKind[] = ['energy_total', 'energy_interval', 'power'];

/**
 * The one entity a device's energy comes from: its meter (energy_total), else its interval energy,
 * else its integrated power — consumption (flow 'in') first; a device that only produces or exports
 * (flow 'out', e.g. a PV inverter) is measured by its 'out' series. Ties go to the lowest id.
 */
export function primaryEnergyEntity(entities: readonly Entity[]): Entity | undefined {
  for (const flow of ['in', 'out'] as const) {
    for (const kind of ENERGY_KINDS) {
      const found = entities.filter((e) => e.kind === kind && (e.flow ?? 'in') === flow).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      if (found.length > 0) return found[0];
    }
  }
  return undefined;
}

/** `2018-08-24T00:00:00Z`: UTC, no milliseconds. */
export function formatBucket(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function round(kwh: number): number {
  const r = Math.round(kwh * DECIMALS) / DECIMALS;
  return r === 0 ? 0 : r;
}

function checkZone(tz: string): void {
  if (!isValidTimeZone(tz)) throw new InvalidTimeZoneError('INVALID_TIMEZONE', `unknown time zone "${tz}"`, { tz });
}

const hasEnergy = (e: Entity): boolean => ENERGY_KINDS.includes(e.kind);

/** Per entity, kWh per period start (epoch ms). */
type PeriodSums = Map<string, Map<number, number>>;

function addTo(sums: PeriodSums, entityId: string, period: number, kwh: number): void {
  let m = sums.get(entityId);
  if (!m) sums.set(entityId, (m = new Map()));
  m.set(period, (m.get(period) ?? 0) + kwh);
}

/** Nominal period lengths, to judge whether a range holds many periods. */
const NOMINAL_MS: Record<PeriodInterval, number> = { '15m': 900_000, hour: HOUR_MS, day: 86_400_000, month: 30 * 86_400_000 };
/** Above this many periods the range is first narrowed to the stored data ("all time" queries). */
const MANY_PERIODS = 1_500;

/** Stored energy of `ids` grouped by local period, for buckets in [from, to) (period boundaries). */
async function storedPeriodSums(db: Kysely<Database>, ids: string[], from: number, to: number, interval: PeriodInterval, tz: string): Promise<PeriodSums> {
  const sums: PeriodSums = new Map();
  if (ids.length === 0 || !(to > from)) return sums;
  if (interval === '15m') {
    const rows = await db.selectFrom('energy_15m').select(['entity_id', 'bucket', 'kwh'])
      .where('entity_id', 'in', ids).where('bucket', '>=', new Date(from)).where('bucket', '<', new Date(to)).execute();
    for (const r of rows) addTo(sums, r.entity_id, r.bucket.getTime(), r.kwh);
    return sums;
  }
  if ((to - from) / NOMINAL_MS[interval] > MANY_PERIODS) {
    const { rows: [extent] } = await sql<{ lo: Date | null; hi: Date | null }>`
      select min(x.lo) as lo, max(x.hi) as hi
      from unnest(${ids}::text[]) as e(id)
      cross join lateral (select min(bucket) as lo, max(bucket) as hi from energy_15m where entity_id = e.id) x`.execute(db);
    if (!extent?.lo || !extent.hi) return sums;
    from = Math.max(from, periodStart(extent.lo.getTime(), interval, tz));
    to = Math.min(to, nextPeriodStart(extent.hi.getTime(), interval, tz));
    if (!(to > from)) return sums;
  }
  // Periods are cut here, in one place (energy/periods.ts), and matched to rows by binary search
  // (width_bucket): no time-zone arithmetic per row. Hourly sums serve when every boundary is a
  // whole UTC hour; otherwise (+05:45, +10:30 …) the quarter-hours do.
  const { bounds, labels } = periodBounds(from, to, interval, tz);
  if (bounds.length === 0) return sums;
  const table = bounds.every((b) => b % HOUR_MS === 0) ? sql.table('energy_1h') : sql.table('energy_15m');
  const { rows } = await sql<{ entity_id: string; i: number; kwh: number }>`
    select entity_id, width_bucket(bucket, ${bounds.map((b) => new Date(b).toISOString())}::timestamptz[]) as i, sum(kwh) as kwh
    from ${table}
    where entity_id = any(${ids}::text[]) and bucket >= ${new Date(bounds[0])} and bucket < ${new Date(bounds.at(-1)!)}
    group by entity_id, i`.execute(db);
  for (const r of rows) addTo(sums, r.entity_id, labels[r.i - 1], r.kwh);
  return sums;
}

/** The latest two samples of each entity (what a tail needs), in one round trip. */
async function latestSamplesOf(db: Kysely<Database>, ids: string[]): Promise<Map<string, Sample[]>> {
  const out = new Map<string, Sample[]>();
  if (ids.length === 0) return out;
  const { rows } = await sql<{ id: string; time: Date; value: number | null }>`
    select e.id, s.time, s.value
    from unnest(${ids}::text[]) as e(id)
    cross join lateral (
      select time, value from samples where entity_id = e.id order by time desc limit 2
    ) s`.execute(db);
  for (const r of rows) {
    let list = out.get(r.id);
    if (!list) out.set(r.id, (list = []));
    list.push({ t: r.time.getTime(), v: r.value });
  }
  for (const list of out.values()) list.sort((a, b) => a.t - b.t);
  return out;
}

/** Adds each entity's open tail (as of `now`), restricted to buckets in [from, to), to `sums`. */
async function addTails(
  db: Kysely<Database>, entities: readonly Entity[], sums: PeriodSums, from: number, to: number,
  interval: PeriodInterval, tz: string, now: number,
): Promise<void> {
  const withTail = entities.filter((e) => e.kind === 'power' || e.kind === 'energy_interval');
  const latest = await latestSamplesOf(db, withTail.map((e) => e.id));
  for (const e of withTail) {
    const tail = tailSegment(latest.get(e.id) ?? [], ledgerOptions(e), now);
    if (tail === null || tail.end <= from || tail.start >= to) continue;
    const buckets = toBuckets([tail]);
    for (const b of buckets.keys()) if (b < from || b >= to) buckets.delete(b);
    for (const p of rollup(buckets, interval, tz)) addTo(sums, e.id, p.start, p.kwh);
  }
}

/** Stored energy plus tails of `entities`, per period starting in [start, end). */
async function periodEnergy(
  deps: EnergyServiceDeps, entities: readonly Entity[], start: number, end: number, interval: PeriodInterval, tz: string,
): Promise<PeriodSums> {
  checkZone(tz);
  if (!Number.isFinite(start) || !Number.isFinite(end) || entities.length === 0) return new Map();
  const { from, to } = periodSpan(start, end, interval, tz);
  if (!(to > from)) return new Map();
  const sums = await storedPeriodSums(deps.db, entities.map((e) => e.id), from, to, interval, tz);
  await addTails(deps.db, entities, sums, from, to, interval, tz, deps.clock.now());
  // Only where an offset changes by less than an hour can a label fall outside the range.
  for (const m of sums.values()) for (const p of m.keys()) if (p < start || p >= end) m.delete(p);
  return sums;
}

export function createEnergyService(deps: EnergyServiceDeps): EnergyService {
  const { entities, devices } = deps;

  /** The entity a query is about: the named entity, else the device's primary one. */
  function resolve(q: Pick<EnergyQuery, 'deviceId' | 'entityId'>): Entity | undefined {
    if (q.entityId !== undefined) {
      const entity = entities.get(q.entityId);
      if (!entity) throw new HubError('ENTITY_NOT_FOUND', `entity "${q.entityId}" does not exist`, { entityId: q.entityId });
      return hasEnergy(entity) ? entity : undefined;
    }
    if (q.deviceId === undefined) throw new HubError('INVALID_ENTITY', 'an energy query names a device or an entity');
    if (!devices.get(q.deviceId)) throw new HubError('DEVICE_NOT_FOUND', `device "${q.deviceId}" does not exist`, { deviceId: q.deviceId });
    return primaryEnergyEntity(entities.list({ deviceId: q.deviceId }));
  }

  /** Each requested (or every) device with its primary energy entity; devices without one are left out. */
  function primaries(deviceIds?: readonly string[]): Map<string, Entity> {
    const ids = deviceIds ?? devices.list().map((d) => d.id);
    const out = new Map<string, Entity>();
    for (const id of new Set(ids)) {
      const entity = primaryEnergyEntity(entities.list({ deviceId: id }));
      if (entity) out.set(id, entity);
    }
    return out;
  }

  return {
    async energy(q) {
      const entity = resolve(q);
      checkZone(q.tz);
      if (!entity) return [];
      const sums = await periodEnergy(deps, [entity], q.start.getTime(), q.end.getTime(), q.interval, q.tz);
      const periods = sums.get(entity.id) ?? new Map<number, number>();
      return [...periods].sort((a, b) => a[0] - b[0])
        .map(([p, kwh]): EnergyRow => ({ datetime: formatBucket(p), value: round(kwh) }));
    },

    async fleet(q) {
      const byDevice = primaries(q.deviceIds);
      const list = [...byDevice.values()];
      const sums = await periodEnergy(deps, list, q.start.getTime(), q.end.getTime(), q.interval, q.tz);
      const periods = new Map<number, { sum: number; devices: number }>();
      for (const entity of list) {
        for (const [p, kwh] of sums.get(entity.id) ?? []) {
          const row = periods.get(p) ?? { sum: 0, devices: 0 };
          row.sum += kwh;
          row.devices += 1;
          periods.set(p, row);
        }
      }
      return [...periods].sort((a, b) => a[0] - b[0]).map(([p, r]): FleetRow => ({
        datetime: formatBucket(p), sum: round(r.sum), avg: round(r.sum / r.devices), devices: r.devices,
      }));
    },

    async top(q) {
      const byDevice = primaries(q.deviceIds);
      const start = q.start.getTime();
      const end = q.end.getTime();
      if (byDevice.size === 0 || !Number.isFinite(start) || !Number.isFinite(end) || q.count < 1) return [];
      const from = bucketCeil(start);
      const to = bucketCeil(end);
      if (!(to > from)) return [];
      const list = [...byDevice.values()];
      const ids = list.map((e) => e.id);
      // Whole UTC hours from the hourly table, the quarter-hours at either edge from energy_15m.
      const hFrom = Math.min(to, Math.ceil(from / HOUR_MS) * HOUR_MS);
      const hTo = Math.max(hFrom, Math.floor(to / HOUR_MS) * HOUR_MS);
      const { rows } = await sql<{ entity_id: string; kwh: number }>`
        select entity_id, sum(kwh) as kwh from (
          select entity_id, kwh from energy_1h
            where entity_id = any(${ids}::text[]) and bucket >= ${new Date(hFrom)} and bucket < ${new Date(hTo)}
          union all
          select entity_id, kwh from energy_15m
            where entity_id = any(${ids}::text[])
              and ((bucket >= ${new Date(from)} and bucket < ${new Date(hFrom)}) or (bucket >= ${new Date(hTo)} and bucket < ${new Date(to)}))
        ) x group by entity_id`.execute(deps.db);
      const sums: PeriodSums = new Map();
      for (const r of rows) addTo(sums, r.entity_id, 0, r.kwh);
      // One period covering everything: the tails only need restricting to [from, to).
      await addTails(deps.db, list, sums, from, to, '15m', 'UTC', deps.clock.now());
      const totals: TopRow[] = [];
      for (const [device, entity] of byDevice) {
        const m = sums.get(entity.id);
        if (!m || m.size === 0) continue;
        let kwh = 0;
        for (const v of m.values()) kwh += v;
        totals.push({ device, kwh: round(kwh) });
      }
      totals.sort((a, b) => b.kwh - a.kwh || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
      return totals.slice(0, q.count);
    },
  };
}

