import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { InvalidTimeZoneError, rollup, type Sample } from '../../src/energy/index.js';
import { createEventBus } from '../../src/hub/bus.js';
import { ManualClock } from '../../src/hub/clock.js';
import { HubDeviceRegistry } from '../../src/hub/device-registry.js';
import { HubEntityRegistry } from '../../src/hub/entity-registry.js';
import { silentLogger } from '../../src/hub/logger.js';
import type { EnergyInterval, EnergyService, Entity } from '../../src/hub/types.js';
import type { EntityInfo } from '../../src/sdk/types.js';
import { createEnergyService, formatBucket, primaryEnergyEntity } from '../../src/storage/energy-queries.js';
import { recomputeLedger } from '../../src/storage/ledger.js';
import { insertSamples } from '../../src/storage/samples.js';
import { createTestDatabase, describeDb, type TestDatabase } from '../support/db.js';

const MIN = 60_000;
const H = 3_600_000;
const utc = (iso: string): number => Date.parse(iso);
const local = (iso: string, tz: string): number => DateTime.fromISO(iso, { zone: tz }).toMillis();

describeDb('energy queries', (target) => {
  let t: TestDatabase;
  let devices: HubDeviceRegistry;
  let entities: HubEntityRegistry;
  let clock: ManualClock;
  let energy: EnergyService;

  beforeAll(async () => {
    t = await createTestDatabase(target.url);
    const log = silentLogger();
    const bus = createEventBus({ log });
    devices = await HubDeviceRegistry.load({ db: t.db, bus, log });
    entities = await HubEntityRegistry.load({ db: t.db, bus, log, devices });
    clock = new ManualClock(utc('2030-01-01T00:00:00Z'));
    energy = createEnergyService({ db: t.db, entities, devices, clock });
  });
  afterAll(async () => { await t?.drop(); });

  const device = async (id: string, ...infos: EntityInfo[]): Promise<Entity[]> => {
    await devices.upsert({ id, name: id }, null);
    const out: Entity[] = [];
    for (const info of infos) out.push(await entities.register(id, info));
    return out;
  };
  /** Writes samples and brings the ledger up to date, as the hub does after a flush. */
  const record = async (entity: Entity, samples: Sample[]): Promise<void> => {
    await insertSamples(t.db, samples.map((s) => ({ entityId: entity.id, t: s.t, v: s.v })));
    const times = samples.map((s) => s.t);
    await recomputeLedger(t.db, entity, { from: Math.min(...times), to: Math.max(...times) });
  };
  /** A reading every `step` ms over [from, to] of constant `w` watts. */
  const steady = (from: number, to: number, step: number, w: number): Sample[] => {
    const out: Sample[] = [];
    for (let x = from; x <= to; x += step) out.push({ t: x, v: w });
    return out;
  };
  const query = (id: string, start: number, end: number, interval: EnergyInterval, tz = 'UTC') =>
    energy.energy({ deviceId: id, start: new Date(start), end: new Date(end), interval, tz });

  it('issue example: hourly interval kWh 12, 26, 18 → 3, 6.5 and 4.5 per quarter-hour', async () => {
    const [e] = await device('ex-interval', { key: 'energy', kind: 'energy_interval' });
    await record(e, [{ t: utc('2025-01-01T00:00:00Z'), v: 12 }, { t: utc('2025-01-01T01:00:00Z'), v: 26 }, { t: utc('2025-01-01T02:00:00Z'), v: 18 }]);
    await clock.set(utc('2025-01-01T02:10:00Z'));
    const rows = await query('ex-interval', utc('2025-01-01T00:00:00Z'), utc('2025-01-02T00:00:00Z'), '15m');
    expect(rows).toEqual([
      ...['00:00', '00:15', '00:30', '00:45'].map((m) => ({ datetime: `2025-01-01T${m}:00Z`, value: 3 })),
      ...['01:00', '01:15', '01:30', '01:45'].map((m) => ({ datetime: `2025-01-01T${m}:00Z`, value: 6.5 })),
      ...['02:00', '02:15', '02:30', '02:45'].map((m) => ({ datetime: `2025-01-01T${m}:00Z`, value: 4.5 })),
    ]);
    expect(await query('ex-interval', utc('2025-01-01T00:00:00Z'), utc('2025-01-02T00:00:00Z'), 'hour'))
      .toEqual([{ datetime: '2025-01-01T00:00:00Z', value: 12 }, { datetime: '2025-01-01T01:00:00Z', value: 26 }, { datetime: '2025-01-01T02:00:00Z', value: 18 }]);
  });

  it('issue example: 5-minute kW 22, 24, 23, 18, 22, 23, 8 → 5.75, 5.25, 0.666667', async () => {
    const [e] = await device('ex-power', { key: 'power', kind: 'power', unit: 'kW' });
    await record(e, [22, 24, 23, 18, 22, 23, 8].map((kw, i) => ({ t: utc('2025-01-01T00:00:00Z') + i * 5 * MIN, v: kw * 1000 })));
    const day = [utc('2025-01-01T00:00:00Z'), utc('2025-01-02T00:00:00Z')] as const;
    await clock.set(utc('2025-01-01T00:35:00Z'));
    expect(await query('ex-power', ...day, '15m')).toEqual([
      { datetime: '2025-01-01T00:00:00Z', value: 5.75 },
      { datetime: '2025-01-01T00:15:00Z', value: 5.25 },
      { datetime: '2025-01-01T00:30:00Z', value: 0.666667 },
    ]);
    // Before the latest reading's spacing is over, its tail ends at now.
    await clock.set(utc('2025-01-01T00:32:00Z'));
    expect((await query('ex-power', ...day, '15m'))[2]).toEqual({ datetime: '2025-01-01T00:30:00Z', value: 0.266667 });
  });

  it('issue example: a cumulative meter 100, 101, 0.2, 1.2 (reset) gives 2.2 kWh', async () => {
    const [e] = await device('ex-counter', { key: 'energy', kind: 'energy_total' });
    await record(e, [100, 101, 0.2, 1.2].map((v, i) => ({ t: utc('2025-01-01T00:00:00Z') + i * 15 * MIN, v })));
    await clock.set(utc('2025-01-02T00:00:00Z'));
    expect(await query('ex-counter', utc('2025-01-01T00:00:00Z'), utc('2025-01-02T00:00:00Z'), 'day'))
      .toEqual([{ datetime: '2025-01-01T00:00:00Z', value: 2.2 }]);
  });

  it('Europe/Berlin DST days have 92/100 quarter-hours and 23/25 hours', async () => {
    const tz = 'Europe/Berlin';
    const [e] = await device('berlin', { key: 'power', kind: 'power' });
    // 4 kW all the time: 1 kWh per quarter-hour.
    await record(e, steady(utc('2025-03-28T00:00:00Z'), utc('2025-04-01T00:00:00Z'), 5 * MIN, 4000));
    await record(e, steady(utc('2025-10-24T00:00:00Z'), utc('2025-10-28T00:00:00Z'), 5 * MIN, 4000));
    await clock.set(utc('2025-11-01T00:00:00Z'));
    for (const [date, quarters] of [['2025-03-30', 92], ['2025-10-26', 100]] as const) {
      const start = local(date, tz);
      const end = local(date, tz) + quarters * 15 * MIN;
      expect(end).toBe(DateTime.fromISO(date, { zone: tz }).plus({ days: 1 }).toMillis());
      const q = await query('berlin', start, end, '15m', tz);
      expect(q).toHaveLength(quarters);
      expect(q.every((r) => r.value === 1)).toBe(true);
      const h = await query('berlin', start, end, 'hour', tz);
      expect(h).toHaveLength(quarters / 4);
      expect(h.every((r) => r.value === 4)).toBe(true);
      expect(await query('berlin', start, end, 'day', tz)).toEqual([{ datetime: formatBucket(start), value: quarters }]);
    }
    expect((await query('berlin', local('2025-03-30', tz), local('2025-03-31', tz), 'day', tz))[0].datetime).toBe('2025-03-29T23:00:00Z');
  });

  it('Asia/Kathmandu (+05:45) day and hour totals are exact', async () => {
    const tz = 'Asia/Kathmandu';
    const [e] = await device('kathmandu', { key: 'power', kind: 'power' });
    await record(e, steady(utc('2025-01-01T00:00:00Z'), utc('2025-01-06T00:00:00Z'), MIN, 4000));
    await clock.set(utc('2025-02-01T00:00:00Z'));
    const days = await query('kathmandu', local('2025-01-02', tz), local('2025-01-05', tz), 'day', tz);
    expect(days).toEqual([
      { datetime: '2025-01-01T18:15:00Z', value: 96 },
      { datetime: '2025-01-02T18:15:00Z', value: 96 },
      { datetime: '2025-01-03T18:15:00Z', value: 96 },
    ]);
    const hours = await query('kathmandu', local('2025-01-02', tz), local('2025-01-03', tz), 'hour', tz);
    expect(hours).toHaveLength(24);
    expect(hours[0]).toEqual({ datetime: '2025-01-01T18:15:00Z', value: 4 });
    expect(hours.every((r) => r.value === 4)).toBe(true);
    // The month holds the whole stretch: five days, plus the last reading held for the minute before it.
    const month = await query('kathmandu', local('2025-01-01', tz), local('2025-02-01', tz), 'month', tz);
    expect(month).toEqual([{ datetime: '2024-12-31T18:15:00Z', value: 480.066667 }]);
  });

  it('gives the same periods from hourly sums as from rolling up the quarter-hours', async () => {
    const [e] = await device('mixed', { key: 'power', kind: 'power' });
    const samples: Sample[] = [];
    let x = utc('2025-02-20T00:00:00Z');
    for (let i = 0; x < utc('2025-04-10T00:00:00Z'); i++) {
      samples.push({ t: x, v: i % 17 === 0 ? null : 500 + ((i * 7919) % 3000) });
      x += (3 + (i % 11)) * MIN;
    }
    await record(e, samples);
    await clock.set(utc('2025-05-01T00:00:00Z'));
    const start = utc('2025-02-01T00:00:00Z');
    // Australia/Lord_Howe is +11 at both ends but +10:30 in between (from 6 April): whole UTC hours
    // at the range ends, half hours inside.
    const end = utc('2025-10-15T00:00:00Z');
    for (const tz of ['Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Adelaide', 'Australia/Lord_Howe', 'UTC']) {
      const quarters = await query('mixed', start - 24 * H, end + 24 * H, '15m', tz);
      const buckets = new Map(quarters.map((r) => [Date.parse(r.datetime), r.value]));
      for (const interval of ['hour', 'day', 'month'] as const) {
        const got = await query('mixed', start, end, interval, tz);
        const expected = rollup(buckets, interval, tz).filter((p) => p.start >= start && p.start < end);
        expect(got.map((r) => r.datetime), `${tz} ${interval}`).toEqual(expected.map((p) => formatBucket(p.start)));
        // The quarter-hours come rounded to 1e-6 kWh each, so their sums may differ in the last digits.
        got.forEach((r, i) => expect(Math.abs(r.value - expected[i].kwh)).toBeLessThan(1e-3));
      }
    }
  });

  it('counts only periods that start in [start, end) and omits buckets without data', async () => {
    const [e] = await device('range', { key: 'energy', kind: 'energy_interval' });
    await record(e, [{ t: utc('2025-06-01T10:00:00Z'), v: 1 }, { t: utc('2025-06-01T11:00:00Z'), v: null }, { t: utc('2025-06-02T10:00:00Z'), v: 2 }, { t: utc('2025-06-02T11:00:00Z'), v: null }]);
    // A day starting before `start` is left out; the day containing `end - 1` is counted whole.
    expect(await query('range', utc('2025-06-01T12:00:00Z'), utc('2025-06-02T10:30:00Z'), 'day'))
      .toEqual([{ datetime: '2025-06-02T00:00:00Z', value: 2 }]);
    expect((await query('range', utc('2025-06-01T10:07:00Z'), utc('2025-06-01T11:00:00Z'), '15m')).map((r) => r.datetime))
      .toEqual(['2025-06-01T10:15:00Z', '2025-06-01T10:30:00Z', '2025-06-01T10:45:00Z']);
    expect(await query('range', utc('2025-06-03T00:00:00Z'), utc('2025-06-04T00:00:00Z'), 'hour')).toEqual([]);
  });

  it('answers an all-time query with the periods that have data', async () => {
    const [e] = await device('all-time', { key: 'energy', kind: 'energy_interval' });
    await record(e, [{ t: utc('2025-06-01T10:00:00Z'), v: 1 }, { t: utc('2025-06-01T11:00:00Z'), v: null }, { t: utc('2025-07-02T10:00:00Z'), v: 2 }, { t: utc('2025-07-02T11:00:00Z'), v: null }]);
    await clock.set(utc('2026-01-01T00:00:00Z'));
    const span = [utc('1970-01-01T00:00:00Z'), utc('2100-01-01T00:00:00Z')] as const;
    expect(await query('all-time', ...span, 'day', 'Europe/Berlin')).toEqual([
      { datetime: '2025-05-31T22:00:00Z', value: 1 },
      { datetime: '2025-07-01T22:00:00Z', value: 2 },
    ]);
    expect(await query('all-time', ...span, 'hour', 'Asia/Kathmandu')).toEqual([
      { datetime: '2025-06-01T09:15:00Z', value: 0.25 },
      { datetime: '2025-06-01T10:15:00Z', value: 0.75 },
      { datetime: '2025-07-02T09:15:00Z', value: 0.5 },
      { datetime: '2025-07-02T10:15:00Z', value: 1.5 },
    ]);
  });

  it('holds report-on-change power until now', async () => {
    const [e] = await device('on-change', { key: 'power', kind: 'power', reportsOnChange: true });
    await record(e, [{ t: utc('2025-07-01T00:00:00Z'), v: 2000 }]);
    const day = [utc('2025-07-01T00:00:00Z'), utc('2025-07-02T00:00:00Z')] as const;
    await clock.set(utc('2025-07-01T03:00:00Z'));
    expect(await query('on-change', ...day, 'day')).toEqual([{ datetime: '2025-07-01T00:00:00Z', value: 6 }]);
    await clock.set(utc('2025-07-01T05:30:00Z'));
    expect(await query('on-change', ...day, 'day')).toEqual([{ datetime: '2025-07-01T00:00:00Z', value: 11 }]);
  });

  it("takes a device's energy from one entity: meter, else interval energy, else power", async () => {
    const [power, meterIn, meterOut] = await device('grid',
      { key: 'power', kind: 'power' },
      { key: 'import', kind: 'energy_total' },
      { key: 'export', kind: 'energy_total', flow: 'out' });
    const t0 = utc('2025-08-01T00:00:00Z');
    await record(power, [{ t: t0, v: 1000 }, { t: t0 + H, v: 0 }]); // 1 kWh
    await record(meterIn, [{ t: t0, v: 10 }, { t: t0 + H, v: 12 }]); // 2 kWh
    await record(meterOut, [{ t: t0, v: 50 }, { t: t0 + H, v: 55 }]); // 5 kWh
    await clock.set(t0 + 2 * H);
    expect(await query('grid', t0, t0 + 24 * H, 'day')).toEqual([{ datetime: '2025-08-01T00:00:00Z', value: 2 }]);
    // Naming an entity gives that series.
    expect(await energy.energy({ entityId: meterOut.id, start: new Date(t0), end: new Date(t0 + 24 * H), interval: 'day', tz: 'UTC' }))
      .toEqual([{ datetime: '2025-08-01T00:00:00Z', value: 5 }]);

    const e = (id: string, kind: Entity['kind'], flow: 'in' | 'out' = 'in'): Entity =>
      ({ id, deviceId: 'd', key: id, kind, name: null, role: null, sourceUnit: null, reportsOnChange: false, maxGapSeconds: null, flow });
    expect(primaryEnergyEntity([e('d.p', 'power'), e('d.i', 'energy_interval'), e('d.v', 'voltage')])?.id).toBe('d.i');
    expect(primaryEnergyEntity([e('d.p', 'power'), e('d.v', 'voltage')])?.id).toBe('d.p');
    expect(primaryEnergyEntity([e('d.pv', 'energy_total', 'out'), e('d.p', 'power')])?.id).toBe('d.p');
    expect(primaryEnergyEntity([e('d.pv', 'energy_total', 'out')])?.id).toBe('d.pv');
    expect(primaryEnergyEntity([e('d.v', 'voltage'), e('d.s', 'switch')])).toBeUndefined();
  });

  it('refuses unknown devices, entities and time zones; a device without energy has none', async () => {
    const range = { start: new Date(utc('2025-01-01T00:00:00Z')), end: new Date(utc('2025-01-02T00:00:00Z')), interval: 'day' as const, tz: 'UTC' };
    await expect(energy.energy({ ...range, deviceId: 'nope' })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
    await expect(energy.energy({ ...range, entityId: 'nope.power' })).rejects.toMatchObject({ code: 'ENTITY_NOT_FOUND' });
    await expect(energy.energy({ ...range, deviceId: 'ex-power', tz: 'Moon/Base' })).rejects.toBeInstanceOf(InvalidTimeZoneError);
    await device('thermometer', { key: 'voltage', kind: 'voltage' });
    expect(await energy.energy({ ...range, deviceId: 'thermometer' })).toEqual([]);
  });

  describe('fleet and top', () => {
    const t0 = utc('2025-09-01T00:00:00Z');
    beforeAll(async () => {
      const [a] = await device('fleet-a', { key: 'power', kind: 'power' });
      const [b] = await device('fleet-b', { key: 'energy', kind: 'energy_interval' });
      const [c] = await device('fleet-c', { key: 'energy', kind: 'energy_total' });
      await device('fleet-d', { key: 'voltage', kind: 'voltage' });
      await record(a, [{ t: t0, v: 1000 }, { t: t0 + 2 * H, v: null }]); // 1 kWh in each of hours 0 and 1
      await record(b, [{ t: t0 + H, v: 3 }, { t: t0 + 2 * H, v: null }]); // 3 kWh in hour 1
      await record(c, [{ t: t0, v: 7 }, { t: t0 + 30 * MIN, v: 9 }]); // 2 kWh in hour 0
    });
    const ids = ['fleet-a', 'fleet-b', 'fleet-c', 'fleet-d'];

    it('sums per period and averages over the devices with energy in it', async () => {
      await clock.set(t0 + 24 * H);
      const rows = await energy.fleet({ start: new Date(t0), end: new Date(t0 + 24 * H), interval: 'hour', tz: 'UTC', deviceIds: ids });
      expect(rows).toEqual([
        { datetime: '2025-09-01T00:00:00Z', sum: 3, avg: 1.5, devices: 2 },
        { datetime: '2025-09-01T01:00:00Z', sum: 4, avg: 2, devices: 2 },
      ]);
      expect(await energy.fleet({ start: new Date(t0), end: new Date(t0 + 24 * H), interval: 'day', tz: 'UTC', deviceIds: ['fleet-b'] }))
        .toEqual([{ datetime: '2025-09-01T00:00:00Z', sum: 3, avg: 3, devices: 1 }]);
    });

    it('lists the top consumers, largest first, ties by device id', async () => {
      await clock.set(t0 + 24 * H);
      const range = { start: new Date(t0), end: new Date(t0 + 24 * H) };
      expect(await energy.top({ ...range, count: 3, deviceIds: ids })).toEqual([
        { device: 'fleet-b', kwh: 3 },
        { device: 'fleet-a', kwh: 2 },
        { device: 'fleet-c', kwh: 2 },
      ]);
      expect(await energy.top({ ...range, count: 1, deviceIds: ids })).toEqual([{ device: 'fleet-b', kwh: 3 }]);
      // Part hours at both ends: 00:15–01:30 holds 0.75 + 0.5 of a, one quarter (1 kWh) of c, two of b.
      expect(await energy.top({ start: new Date(t0 + 15 * MIN), end: new Date(t0 + 90 * MIN), count: 5, deviceIds: ids })).toEqual([
        { device: 'fleet-b', kwh: 1.5 },
        { device: 'fleet-a', kwh: 1.25 },
        { device: 'fleet-c', kwh: 1 },
      ]);
    });
  });
});
