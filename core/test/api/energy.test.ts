import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeDb } from '../support/db.js';
import { createDevice, expectProblem, postReadings, series, startApi, type ApiHarness } from './harness.js';

type Row = { datetime: string; value: number };

const quarter = (h: number, m: number) => `2018-08-24T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00Z`;

describeDb('API energy', (target) => {
  let h: ApiHarness;
  // The hub clock stands after the data, so the last reading's period is complete.
  beforeEach(async () => { h = await startApi(target.url, { now: '2018-08-25T00:00:00Z' }); });
  afterEach(async () => { await h?.close(); });

  const energy = async (qs: string) => {
    const res = await h.app.inject({ url: `/api/v1/energy?${qs}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { device: string; units: string; interval: string; data: Row[] };
  };
  const values = (rows: Row[]) => rows.map((r) => Number(r.value.toFixed(6)));

  it('spreads hourly interval energy over quarter-hours: 12, 26, 18 kWh → 3×4, 6.5×4, 4.5×4', async () => {
    await createDevice(h.app, 'meter');
    expect((await postReadings(h.app, 'meter', 'kWh', series(quarter(0, 0), 60, [12, 26, 18]))).statusCode).toBe(200);
    const body = await energy('device=meter&start=2018-08-24T00:00:00Z&end=2018-08-25T00:00:00Z&interval=15m');
    expect(body).toMatchObject({ device: 'meter', units: 'kWh', interval: '15m' });
    expect(body.data.map((r) => r.datetime)).toEqual([0, 1, 2].flatMap((hh) => [0, 15, 30, 45].map((mm) => quarter(hh, mm))));
    expect(values(body.data)).toEqual([3, 3, 3, 3, 6.5, 6.5, 6.5, 6.5, 4.5, 4.5, 4.5, 4.5]);

    const hourly = await energy('device=meter&start=2018-08-24T00:00:00Z&end=2018-08-25T00:00:00Z&interval=hour');
    expect(values(hourly.data)).toEqual([12, 26, 18]);
  });

  it('integrates 5-minute kW readings: 22, 24, 23, 18, 22, 23, 8 → 5.75, 5.25, 0.666667', async () => {
    await createDevice(h.app, 'plug');
    await postReadings(h.app, 'plug', 'kW', series(quarter(0, 0), 5, [22, 24, 23, 18, 22, 23, 8]));
    const body = await energy('device=plug&start=2018-08-24T00:00:00Z&end=2018-08-24T01:00:00Z');
    expect(body.interval).toBe('15m');
    expect(body.data.map((r) => r.datetime)).toEqual([quarter(0, 0), quarter(0, 15), quarter(0, 30)]);
    expect(values(body.data)).toEqual([5.75, 5.25, 0.666667]);
  });

  it('counts a cumulative meter across a reset: 100, 101, 0.2, 1.2 → 2.2 kWh', async () => {
    await createDevice(h.app, 'counter');
    await postReadings(h.app, 'counter', 'kWh', series(quarter(0, 0), 60, [100, 101, 0.2, 1.2]), 'cumulative');
    const day = await energy('device=counter&start=2018-08-24&end=2018-08-25&interval=day');
    expect(day.data).toHaveLength(1);
    expect(day.data[0].datetime).toBe('2018-08-24T00:00:00Z');
    expect(day.data[0].value).toBeCloseTo(2.2, 9);
  });

  it('treats ranges as half-open [start, end)', async () => {
    await createDevice(h.app, 'meter');
    await postReadings(h.app, 'meter', 'kWh', series(quarter(0, 0), 60, [12, 26, 18]));
    const body = await energy('device=meter&start=2018-08-24T00:15:00Z&end=2018-08-24T01:15:00Z');
    expect(body.data.map((r) => r.datetime)).toEqual([quarter(0, 15), quarter(0, 30), quarter(0, 45), quarter(1, 0)]);
    expect((await energy('device=meter&start=2018-08-24T01:00:00Z&end=2018-08-24T01:00:00Z')).data).toEqual([]);
    // Offsets name the same instants: 02:00+02:00 is 00:00Z.
    const offset = await energy('device=meter&start=2018-08-24T02:00:00%2B02:00&end=2018-08-24T02:30:00%2B02:00');
    expect(offset.data.map((r) => r.datetime)).toEqual([quarter(0, 0), quarter(0, 15)]);
  });

  it('cuts days in the requested time zone', async () => {
    await createDevice(h.app, 'meter');
    // 22:00Z and 23:00Z on the 23rd are already the 24th in Berlin (+02:00).
    await postReadings(h.app, 'meter', 'kWh', series('2018-08-23T21:00:00Z', 60, [1, 2, 4, 8]));
    const berlin = await energy('device=meter&start=2018-08-23&end=2018-08-25&interval=day&tz=Europe/Berlin');
    expect(berlin.data).toEqual([
      { datetime: '2018-08-22T22:00:00Z', value: 1 },
      { datetime: '2018-08-23T22:00:00Z', value: 14 },
    ]);
  });

  it('fleet: sum over devices and avg over the devices with energy in that bucket', async () => {
    await createDevice(h.app, 'a');
    await createDevice(h.app, 'b');
    await createDevice(h.app, 'idle');
    await postReadings(h.app, 'a', 'kWh', series(quarter(0, 0), 60, [4, 8]));
    await postReadings(h.app, 'b', 'kWh', series(quarter(0, 0), 60, [2]));
    const res = await h.app.inject({ url: '/api/v1/energy/fleet?start=2018-08-24T00:00:00Z&end=2018-08-24T03:00:00Z&interval=hour' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual([
      { datetime: quarter(0, 0), sum: 6, avg: 3, devices: 2 },
      { datetime: quarter(1, 0), sum: 8, avg: 8, devices: 1 },
    ]);
  });

  it('top: largest first, ties by device id, limited by count', async () => {
    for (const [id, kwh] of [['zeta', 5], ['beta', 3], ['alpha', 3], ['small', 1]] as const) {
      await createDevice(h.app, id);
      await postReadings(h.app, id, 'kWh', [{ datetime: quarter(0, 0), value: kwh }]);
    }
    const res = await h.app.inject({ url: '/api/v1/energy/top?start=2018-08-24T00:00:00Z&end=2018-08-25T00:00:00Z' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual([{ device: 'zeta', kwh: 5 }, { device: 'alpha', kwh: 3 }, { device: 'beta', kwh: 3 }]);
    const all = await h.app.inject({ url: '/api/v1/energy/top?start=2018-08-24T00:00:00Z&end=2018-08-25T00:00:00Z&count=10' });
    expect(all.json().data.map((r: { device: string }) => r.device)).toEqual(['zeta', 'alpha', 'beta', 'small']);
  });

  it('answers 400 problems naming every bad query parameter, and 404 for unknown devices', async () => {
    await createDevice(h.app, 'meter');
    const many = expectProblem(await h.app.inject({
      url: '/api/v1/energy?device=meter&start=soon&end=2018-08-25T00:00:00Z&interval=week&tz=Mars/Olympus',
    }), 400, 'INVALID_QUERY');
    expect(many.errors!.map((e) => e.pointer).sort()).toEqual(['/query/interval', '/query/start', '/query/tz']);

    const reversed = expectProblem(await h.app.inject({ url: '/api/v1/energy?device=meter&start=2018-08-25&end=2018-08-24' }), 400, 'INVALID_QUERY');
    expect(reversed.errors!.map((e) => e.pointer)).toEqual(['/query/start']);

    expectProblem(await h.app.inject({ url: '/api/v1/energy?device=meter&end=2018-08-24' }), 400, 'INVALID_QUERY');
    expectProblem(await h.app.inject({ url: '/api/v1/energy?start=2018-08-24&end=2018-08-25' }), 400, 'INVALID_QUERY');
    expectProblem(await h.app.inject({ url: '/api/v1/energy?device=meter&start=2018-08-24T00:00:00&end=2018-08-25&tz=%2B05:00' }), 400, 'INVALID_QUERY');
    expectProblem(await h.app.inject({ url: '/api/v1/energy/fleet?start=2018-08-25&end=2018-08-24' }), 400, 'INVALID_QUERY');
    expectProblem(await h.app.inject({ url: '/api/v1/energy/fleet?start=2018-08-24&end=2018-08-25&interval=year' }), 400, 'INVALID_QUERY');
    expectProblem(await h.app.inject({ url: '/api/v1/energy/top?start=2018-08-24&end=2018-08-25&count=0' }), 400, 'INVALID_QUERY');
    expectProblem(await h.app.inject({ url: '/api/v1/energy/top?start=2018-13-01&end=2018-08-25' }), 400, 'INVALID_QUERY');

    expectProblem(await h.app.inject({ url: '/api/v1/energy?device=ghost&start=2018-08-24&end=2018-08-25' }), 404, 'DEVICE_NOT_FOUND');
    expectProblem(await h.app.inject({ url: '/api/v1/energy?entity=ghost.power&start=2018-08-24&end=2018-08-25' }), 404, 'ENTITY_NOT_FOUND');
  });

  it("defaults tz to the hub's time zone", async () => {
    await h.close();
    h = await startApi(target.url, { now: '2018-08-25T00:00:00Z', tz: 'Asia/Kathmandu' });
    await createDevice(h.app, 'meter');
    await postReadings(h.app, 'meter', 'kWh', series('2018-08-23T18:15:00Z', 60, [1, 2]));
    const body = await energy('device=meter&start=2018-08-24&end=2018-08-25&interval=day');
    // Kathmandu is +05:45: its 24 August starts at 2018-08-23T18:15:00Z.
    expect(body.data).toEqual([{ datetime: '2018-08-23T18:15:00Z', value: 3 }]);
  });
});
