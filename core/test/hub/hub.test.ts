import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ManualClock } from '../../src/hub/clock.js';
import { createHub, type JoulehubHub } from '../../src/hub/hub.js';
import type { HubEvents } from '../../src/sdk/types.js';
import { createTestDatabase, describeDb, type TestDatabase } from '../support/db.js';
import { baseConfig, captureLog, tempDir } from './support.js';

const T0 = Date.parse('2025-06-01T10:00:00Z');
const MIN = 60_000;

describeDb('hub ingest', (target) => {
  let t: TestDatabase;
  let data: ReturnType<typeof tempDir>;
  let clock: ManualClock;
  const hubs: JoulehubHub[] = [];

  const newHub = async () => {
    const hub = await createHub(baseConfig(data.dir), { clock, log: captureLog().log, databaseUrl: t.url });
    hubs.push(hub);
    await hub.start();
    return hub;
  };

  beforeEach(async () => {
    t = await createTestDatabase(target.url);
    data = tempDir();
    clock = new ManualClock(T0);
  });

  afterEach(async () => {
    for (const hub of hubs.splice(0)) await hub.stop();
    await t.drop();
    data.remove();
  });

  async function fridge(hub: JoulehubHub) {
    await hub.devices.upsert({ id: 'fridge', name: 'Fridge', maxPowerW: 2000 }, null);
    await hub.entities.register('fridge', { key: 'power', kind: 'power', unit: 'kW', role: 'load' });
    await hub.entities.register('fridge', { key: 'plug', kind: 'switch' });
  }

  const samples = (entityId: string) => t.db.selectFrom('samples').select(['time', 'value'])
    .where('entity_id', '=', entityId).orderBy('time').execute()
    .then((rows) => rows.map((r) => [r.time.toISOString(), r.value]));

  it('report → canonical state and state_changed → samples and ledger after flush', async () => {
    const hub = await newHub();
    await fridge(hub);
    const changes: HubEvents['state_changed'][] = [];
    const recorded: HubEvents['readings_recorded'][] = [];
    hub.bus.on('test', 'state_changed', (e) => changes.push(e));
    hub.bus.on('test', 'readings_recorded', (e) => recorded.push(e));

    hub.report('fridge.power', 0.12); // kW → 120 W, at the hub clock's now
    hub.report('fridge.power', 0.12, T0 + MIN); // same value: reported, not changed
    hub.report('fridge.power', 0.06, new Date(T0 + 15 * MIN));
    hub.report('fridge.plug', 'on', T0);
    hub.report('fridge.plug', false, T0 + MIN);

    expect(hub.states.get('fridge.power')).toMatchObject({
      value: 60, text: null, available: true,
      lastChanged: new Date(T0 + 15 * MIN).toISOString(), lastReported: new Date(T0 + 15 * MIN).toISOString(),
    });
    expect(hub.states.get('fridge.plug')).toMatchObject({ value: 0, text: 'off' });
    expect(changes.filter((c) => c.entityId === 'fridge.power').map((c) => [c.value, c.previous])).toEqual([[120, null], [60, 120]]);
    expect(changes.filter((c) => c.entityId === 'fridge.plug').map((c) => [c.value, c.previous])).toEqual([['on', null], ['off', 'on']]);

    await hub.flush();
    expect(await samples('fridge.power')).toEqual([
      ['2025-06-01T10:00:00.000Z', 120], ['2025-06-01T10:01:00.000Z', 120], ['2025-06-01T10:15:00.000Z', 60],
    ]);
    expect(await samples('fridge.plug')).toEqual([['2025-06-01T10:00:00.000Z', 1], ['2025-06-01T10:01:00.000Z', 0]]);
    // 120 W held for the quarter hour 10:00–10:15 = 0.03 kWh.
    const ledger = await t.db.selectFrom('energy_15m').select(['bucket', 'kwh']).where('entity_id', '=', 'fridge.power').orderBy('bucket').execute();
    expect(ledger[0].bucket.toISOString()).toBe('2025-06-01T10:00:00.000Z');
    expect(ledger[0].kwh).toBeCloseTo(0.03, 12);
    expect(recorded.flatMap((r) => r.entityIds).sort()).toEqual(['fridge.plug', 'fridge.power']);
  });

  it('quarantines sentinels and implausible power with a reason; they never reach samples or the ledger', async () => {
    const hub = await newHub();
    await fridge(hub);
    const quarantined: HubEvents['reading_quarantined'][] = [];
    hub.bus.on('test', 'reading_quarantined', (e) => quarantined.push(e));

    hub.report('fridge.power', 0.1, T0);
    hub.report('fridge.power', 65535, T0 + MIN, { unit: 'W' });
    hub.report('fridge.power', 2.5, T0 + 2 * MIN); // 2.5 kW above the fridge's 2 kW
    hub.report('fridge.plug', 'maybe' as never, T0);
    hub.report('fridge.power', 0.1, T0 + 3 * MIN);

    expect(quarantined.map((q) => q.reason)).toEqual([
      'sentinel value 65535',
      'power 2.5 kW is above the device maximum of 2 kW',
      'not a switch value: "maybe" (use on/off, true/false or 1/0)',
    ]);
    expect(hub.states.get('fridge.power')?.value).toBe(100);
    await hub.flush();
    expect(await samples('fridge.power')).toEqual([['2025-06-01T10:00:00.000Z', 100], ['2025-06-01T10:03:00.000Z', 100]]);
    const listed = await hub.quarantine({ entityId: 'fridge.power' });
    expect(listed.map((q) => [q.time, q.raw, q.reason])).toEqual([
      ['2025-06-01T10:02:00.000Z', '2.5', 'power 2.5 kW is above the device maximum of 2 kW'],
      ['2025-06-01T10:01:00.000Z', '65535 W', 'sentinel value 65535'],
    ]);
    const { rows } = await sql<{ kwh: number }>`select coalesce(sum(kwh), 0) as kwh from energy_15m where entity_id = 'fridge.power'`.execute(t.db);
    expect(rows[0].kwh).toBeCloseTo(0.1 * 3 / 60, 12); // 100 W for 3 minutes, nothing from the refused readings
  });

  it('converts a per-reading unit and quarantines one that cannot express the kind, reading after reading', async () => {
    const hub = await newHub();
    await fridge(hub);
    for (let i = 0; i < 3; i++) {
      hub.report('fridge.power', 0.1 * (i + 1), T0 + i * MIN); // the entity's unit: kW
      hub.report('fridge.power', 50 + i, T0 + i * MIN + 1000, { unit: 'W' });
      hub.report('fridge.power', 1, T0 + i * MIN + 2000, { unit: 'kWh' });
    }
    await hub.flush();
    expect((await samples('fridge.power')).map(([, v]) => v)).toEqual([100, 50, 200, 51, 300, 52].map((x) => expect.closeTo(x, 9)));
    const refused = await hub.quarantine({ entityId: 'fridge.power' });
    expect(refused.map((q) => [q.raw, q.reason])).toEqual(Array(3).fill(['1 kWh', 'unit "kWh" cannot express power (use W, kW, MW)']));
  });

  it('throws for an entity that was never registered', async () => {
    const hub = await newHub();
    expect(() => hub.report('ghost.power', 1)).toThrow(expect.objectContaining({ code: 'ENTITY_NOT_FOUND' }));
  });

  it('records a null sample when an entity becomes unavailable, so no energy is bridged across it', async () => {
    const hub = await createHub(baseConfig(data.dir, {
      integrations: [{ id: 'meter', name: 'crashy', package: './meter', config: { device: 'crashy', power: 500, every: 60, crashAfter: 2 } }],
    }), { clock, log: captureLog().log, databaseUrl: t.url });
    hubs.push(hub);
    const availability: string[] = [];
    hub.bus.on('test', 'availability_changed', (e) => availability.push(`${e.entityId}:${e.available}@${(e.at - T0) / 1000}`));
    await hub.start();
    // Polls at 1 and 2 min; the third poll throws: the instance fails and its entities go unavailable.
    await clock.advance(3 * MIN);
    expect(hub.states.get('crashy.power')).toMatchObject({ value: 500, available: false });
    // Retried 1 s later; its next poll (one interval after the restart) makes the entity available again.
    await clock.advance(MIN + 1000);
    await hub.flush();
    expect(availability).toEqual(['crashy.power:false@180', 'crashy.relay:false@180', 'crashy.power:true@241']);
    expect(await samples('crashy.power')).toEqual([
      ['2025-06-01T10:01:00.000Z', 500], ['2025-06-01T10:02:00.000Z', 500], ['2025-06-01T10:03:00.000Z', null], ['2025-06-01T10:04:01.000Z', 500],
    ]);
    const { rows } = await sql<{ kwh: number }>`select sum(kwh) as kwh from energy_15m where entity_id = 'crashy.power'`.execute(t.db);
    // 500 W from 10:01 to 10:03; nothing from 10:03 to 10:04:01; the latest reading is still open.
    expect(rows[0].kwh).toBeCloseTo(0.5 * 2 / 60, 12);
  });

  it('stores a batch with writeSamples: guard, bulk write, ledger, state', async () => {
    const hub = await newHub();
    await hub.devices.upsert({ id: 'meter', name: 'Meter' }, null);
    await hub.entities.register('meter', { key: 'energy', kind: 'energy_interval' });
    const result = await hub.writeSamples('meter.energy', [
      { t: T0 + 60 * MIN, v: 26 },
      { t: T0, v: 12 },
      { t: T0 + 90 * MIN, v: 2147483647 },
      { t: T0 + 120 * MIN, v: 18 },
    ]);
    expect(result).toEqual({ stored: 3, quarantined: 1 });
    const ledger = await t.db.selectFrom('energy_15m').select(['bucket', 'kwh']).where('entity_id', '=', 'meter.energy').orderBy('bucket').execute();
    expect(ledger.slice(0, 8).map((r) => r.kwh)).toEqual([3, 3, 3, 3, 6.5, 6.5, 6.5, 6.5]);
    expect(hub.states.get('meter.energy')).toMatchObject({ value: 18, lastReported: new Date(T0 + 120 * MIN).toISOString() });
  });

  it('a hub restarted on the same database keeps devices, entities and states', async () => {
    const first = await newHub();
    await fridge(first);
    first.report('fridge.power', 0.2, T0);
    first.report('fridge.plug', 'on', T0);
    await first.flush();
    const before = { devices: first.devices.list(), entities: first.entities.list(), states: first.states.all() };
    await first.stop();
    await first.stop(); // idempotent

    const second = await newHub();
    expect(second.devices.list()).toEqual(before.devices);
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(second.entities.list().sort(byId)).toEqual(before.entities.sort(byId));
    expect(second.states.all().sort((a, b) => a.entityId.localeCompare(b.entityId))).toEqual(
      before.states.sort((a, b) => a.entityId.localeCompare(b.entityId)),
    );
    expect(second.states.get('fridge.power')).toMatchObject({ value: 200, available: true });
    // Plausibility after a restart still knows the device limit.
    second.report('fridge.power', 3, T0 + MIN);
    expect((await second.quarantine()).map((q) => q.reason)).toEqual(['power 3 kW is above the device maximum of 2 kW']);
  });

  it('--demo starts the csv-replay household as instance "demo"', async () => {
    const hub = await createHub(baseConfig(data.dir, { demo: true }), { clock, log: captureLog().log, databaseUrl: t.url });
    hubs.push(hub);
    await hub.start();
    expect(hub.integrations()).toEqual([expect.objectContaining({ instanceId: 'demo', integrationId: 'csv-replay', status: 'running' })]);
    await clock.advance(2 * MIN);
    expect(hub.devices.ownedBy('demo').length).toBeGreaterThanOrEqual(6);
    expect(hub.states.all().some((s) => s.kind === 'power' && s.value !== null)).toBe(true);
  });

  it('deleting a device removes its entities, states, samples and ledger rows', async () => {
    const hub = await newHub();
    await fridge(hub);
    hub.report('fridge.power', 0.2, T0);
    hub.report('fridge.power', 0.2, T0 + 15 * MIN);
    await hub.flush();
    expect(await hub.devices.delete('fridge')).toBe(true);
    expect(hub.entities.list({ deviceId: 'fridge' })).toEqual([]);
    expect(hub.states.get('fridge.power')).toBeUndefined();
    expect(await samples('fridge.power')).toEqual([]);
    const left = await t.db.selectFrom('energy_15m').select('entity_id').where('entity_id', 'like', 'fridge.%').execute();
    expect(left).toEqual([]);
    expect(await hub.devices.delete('fridge')).toBe(false);
  });

  it('refuses bad ids and a kind change of an existing entity', async () => {
    const hub = await newHub();
    await expect(hub.devices.upsert({ id: 'Living Room', name: 'x' }, null)).rejects.toMatchObject({ code: 'INVALID_ID', statusCode: 400 });
    await fridge(hub);
    await expect(hub.entities.register('fridge', { key: 'power', kind: 'energy_total' })).rejects.toMatchObject({ code: 'ENTITY_KIND_CONFLICT' });
    await expect(hub.entities.register('fridge', { key: 'volts', kind: 'voltage', unit: 'kWh' })).rejects.toThrow(/cannot express voltage/);
    await expect(hub.entities.register('nope', { key: 'power', kind: 'power' })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
  });
});
