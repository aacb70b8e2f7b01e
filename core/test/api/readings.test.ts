import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeDb } from '../support/db.js';
import { createDevice, expectProblem, postReadings, series, startApi, type ApiHarness } from './harness.js';

describeDb('API batch readings', (target) => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApi(target.url);
    await createDevice(h.app, 'ship', { max_power_w: 100_000 });
  });
  afterEach(async () => { await h?.close(); });

  const history = async (entity: string) => {
    const res = await h.app.inject({ url: `/api/v1/history?entity=${entity}&start=2018-08-23T00:00:00Z&end=2018-08-26T00:00:00Z` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as { datetime: string; value: number | null }[];
  };

  it('lists every bad record by index and reason and stores nothing from the batch', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/devices/ship/readings',
      payload: {
        units: 'kWh',
        data: [
          { datetime: '2018-08-24T00:00:00Z', value: 1 }, // fine
          { datetime: '2018-08-24T01:00:00', value: 2 }, // no offset
          { datetime: 'yesterday', value: 3 }, // unparseable
          { datetime: '2018-08-24T02:00:00Z', value: -1 }, // negative
          { datetime: '2018-08-24T03:00:00Z', value: '4' }, // not a number
          { value: 5 }, // missing datetime
          { datetime: '2018-08-24T04:00:00Z' }, // missing value
          { datetime: '2018-08-24T02:00:00+02:00', value: 6 }, // same instant as record 0
          { datetime: '2018-02-30T00:00:00Z', value: 7 }, // no such day
          { datetime: '2018-08-24T05:00:00+05:45', value: 8 }, // fine
        ],
      },
    });
    const problem = expectProblem(res, 400, 'INVALID_READINGS');
    const byIndex = new Map<number, string[]>();
    for (const e of problem.errors!) {
      expect(typeof e.index).toBe('number');
      expect(e.reason.length).toBeGreaterThan(0);
      byIndex.set(e.index!, [...(byIndex.get(e.index!) ?? []), e.reason]);
    }
    expect([...byIndex.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(byIndex.get(1)!.join()).toMatch(/offset/);
    expect(byIndex.get(3)!.join()).toMatch(/negative/);
    expect(byIndex.get(4)!.join()).toMatch(/number/);
    expect(byIndex.get(5)!.join()).toMatch(/required/);
    expect(byIndex.get(6)!.join()).toMatch(/required/);
    expect(byIndex.get(7)!.join()).toMatch(/same instant.*record 0/);
    expect(problem.errors!.find((e) => e.index === 3)!.pointer).toBe('/body/data/3/value');

    // Nothing stored: not even the entity was registered.
    expect((await h.app.inject({ url: '/api/v1/entities?device=ship' })).json().data).toEqual([]);
  });

  it('rejects a bad batch for an existing entity without touching what is stored', async () => {
    expect((await postReadings(h.app, 'ship', 'kW', series('2018-08-24T00:00:00Z', 60, [1, 2]))).statusCode).toBe(200);
    const res = await postReadings(h.app, 'ship', 'kW', [
      { datetime: '2018-08-24T05:00:00Z', value: 3 },
      { datetime: '2018-08-24T06:00:00Z', value: Number.NaN }, // JSON has no NaN: arrives as null
    ]);
    const problem = expectProblem(res, 400, 'INVALID_READINGS');
    expect(problem.errors!.map((e) => e.index)).toEqual([1]);
    expect((await history('ship.power')).map((r) => r.value)).toEqual([1000, 2000]);
  });

  it('reports batch-level problems: unknown unit, missing or empty data, missing units, bad reading', async () => {
    const unknownUnit = expectProblem(await postReadings(h.app, 'ship', 'VA', [{ datetime: '2018-08-24T00:00:00Z', value: 1 }]), 400);
    expect(unknownUnit.errors!.map((e) => e.pointer)).toEqual(['/body/units']);

    const empty = expectProblem(await postReadings(h.app, 'ship', 'furlongs', []), 400, 'INVALID_READINGS');
    expect(empty.errors!.map((e) => e.pointer).sort()).toEqual(['/body/data', '/body/units']);

    const missing = expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/devices/ship/readings', payload: { reading: 'sometimes' } }), 400);
    expect(missing.errors!.map((e) => e.pointer).sort()).toEqual(['/body/data', '/body/reading', '/body/units']);

    // `reading` only means something for energy; a cumulative power batch is a mistake, said so.
    const cumulativePower = expectProblem(await postReadings(h.app, 'ship', 'W', [{ datetime: '2018-08-24T00:00:00Z', value: 1 }], 'cumulative'), 400);
    expect(cumulativePower.errors!.map((e) => e.pointer)).toEqual(['/body/reading']);

    const notJson = await h.app.inject({ method: 'POST', url: '/api/v1/devices/ship/readings', payload: '[1,2', headers: { 'content-type': 'application/json' } });
    expectProblem(notJson, 400);
    expect((await h.app.inject({ url: '/api/v1/entities?device=ship' })).json().data).toEqual([]);
  });

  it('accepts units in any case, unsorted input, and converts to canonical units', async () => {
    const res = await postReadings(h.app, 'ship', 'kw', [
      { datetime: '2018-08-24T00:10:00Z', value: 3 },
      { datetime: '2018-08-24T00:00:00Z', value: 1 },
      { datetime: '2018-08-24T00:05:00Z', value: 2.5 },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      device: 'ship', entity_id: 'ship.power', kind: 'power', stored: 3, quarantined: 0,
      first: '2018-08-24T00:00:00Z', last: '2018-08-24T00:10:00Z',
    });
    expect(await history('ship.power')).toEqual([
      { datetime: '2018-08-24T00:00:00Z', value: 1000 },
      { datetime: '2018-08-24T00:05:00Z', value: 2500 },
      { datetime: '2018-08-24T00:10:00Z', value: 3000 },
    ]);

    expect((await postReadings(h.app, 'ship', 'WH', [{ datetime: '2018-08-24T00:00:00Z', value: 500 }])).json()).toMatchObject({ entity_id: 'ship.energy', kind: 'energy_interval' });
    expect((await history('ship.energy')).map((r) => r.value)).toEqual([0.5]);
  });

  it('lands each kind of reading on its own entity: power, interval energy (the default), cumulative', async () => {
    await postReadings(h.app, 'ship', 'W', [{ datetime: '2018-08-24T00:00:00Z', value: 10 }]);
    await postReadings(h.app, 'ship', 'kWh', [{ datetime: '2018-08-24T00:00:00Z', value: 1 }]);
    await postReadings(h.app, 'ship', 'kWh', [{ datetime: '2018-08-24T00:00:00Z', value: 100 }], 'cumulative');
    const entities = (await h.app.inject({ url: '/api/v1/entities?device=ship' })).json().data as { id: string; kind: string; unit: string }[];
    expect(entities.map((e) => [e.id, e.kind, e.unit])).toEqual([
      ['ship.energy', 'energy_interval', 'kWh'],
      ['ship.energy_total', 'energy_total', 'kWh'],
      ['ship.power', 'power', 'W'],
    ]);
  });

  it('quarantines implausible readings and shows them, with the counts in the answer', async () => {
    const res = await postReadings(h.app, 'ship', 'kW', series('2018-08-24T00:00:00Z', 15, [50, 2_147_483_647, 60]));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ stored: 2, quarantined: 1 });
    const q = await h.app.inject({ url: '/api/v1/quarantine?entity=ship.power' });
    expect(q.statusCode).toBe(200);
    expect(q.json().data).toHaveLength(1);
    expect(q.json().data[0]).toMatchObject({ entity_id: 'ship.power', datetime: '2018-08-24T00:15:00Z' });
    expect(q.json().data[0].reason.length).toBeGreaterThan(0);
  });

  it('re-sending a batch changes no total (last write per instant wins)', async () => {
    const data = series('2018-08-24T00:00:00Z', 60, [12, 26, 18]);
    await postReadings(h.app, 'ship', 'kWh', data);
    await postReadings(h.app, 'ship', 'kWh', [...data].reverse());
    const day = await h.app.inject({ url: '/api/v1/energy?device=ship&start=2018-08-24T00:00:00Z&end=2018-08-25T00:00:00Z&interval=day' });
    expect(day.json().data).toEqual([{ datetime: '2018-08-24T00:00:00Z', value: 56 }]);
  });

  it('refuses a body over the readings body limit with 413', async () => {
    await h.close();
    h = await startApi(target.url, { server: { readingsBodyLimit: 2048 } });
    await createDevice(h.app, 'ship');
    const res = await postReadings(h.app, 'ship', 'W', series('2018-08-24T00:00:00Z', 1, Array.from({ length: 200 }, (_, i) => i)));
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });
});
