import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeDb } from '../support/db.js';
import { createDevice, expectProblem, postReadings, startApi, type ApiHarness } from './harness.js';

describeDb('API devices', (target) => {
  let h: ApiHarness;
  beforeEach(async () => { h = await startApi(target.url); });
  afterEach(async () => { await h?.close(); });

  it('creates, lists, reads, patches and deletes a device, snake_case on the wire', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/v1/devices',
      payload: { id: 'ship-7', name: 'Ship 7', description: 'cargo', address: 'Harbour 1', max_hourly_kwh: 50, max_power_w: 200_000 },
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/api/v1/devices/ship-7');
    expect(created.json()).toMatchObject({
      id: 'ship-7', name: 'Ship 7', description: 'cargo', address: 'Harbour 1',
      max_hourly_kwh: 50, max_power_w: 200_000, integration: null, manufacturer: null,
    });
    // The registry speaks camelCase; the API must not leak it.
    expect(created.json()).not.toHaveProperty('maxPowerW');

    await createDevice(h.app, 'fridge');
    const list = await h.app.inject({ url: '/api/v1/devices' });
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((d: { id: string }) => d.id)).toEqual(['fridge', 'ship-7']);

    const one = await h.app.inject({ url: '/api/v1/devices/ship-7' });
    expect(one.json()).toMatchObject({ id: 'ship-7', max_hourly_kwh: 50 });

    const patched = await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/ship-7', payload: { name: 'Ship Seven', description: null, max_power_w: 150_000 } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'Ship Seven', description: null, address: 'Harbour 1', max_power_w: 150_000 });
    expect((await h.app.inject({ url: '/api/v1/devices/ship-7' })).json()).toMatchObject({ name: 'Ship Seven', description: null });

    const deleted = await h.app.inject({ method: 'DELETE', url: '/api/v1/devices/ship-7' });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expectProblem(await h.app.inject({ url: '/api/v1/devices/ship-7' }), 404, 'DEVICE_NOT_FOUND');
    expect((await h.app.inject({ url: '/api/v1/devices' })).json().data.map((d: { id: string }) => d.id)).toEqual(['fridge']);
  });

  it('answers 409 for a duplicate id and leaves the existing device alone', async () => {
    await createDevice(h.app, 'fridge', { description: 'original' });
    const dup = await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id: 'fridge', name: 'Another' } });
    const problem = expectProblem(dup, 409, 'DEVICE_EXISTS');
    expect(problem.detail).toContain('fridge');
    expect(problem.instance).toBe('/api/v1/devices');
    expect((await h.app.inject({ url: '/api/v1/devices/fridge' })).json()).toMatchObject({ name: 'fridge', description: 'original' });
  });

  it('answers 404 problems for unknown devices on every device route', async () => {
    expectProblem(await h.app.inject({ url: '/api/v1/devices/nope' }), 404, 'DEVICE_NOT_FOUND');
    expectProblem(await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/nope', payload: { name: 'x' } }), 404, 'DEVICE_NOT_FOUND');
    expectProblem(await h.app.inject({ method: 'DELETE', url: '/api/v1/devices/nope' }), 404, 'DEVICE_NOT_FOUND');
    expectProblem(await postReadings(h.app, 'nope', 'W', [{ datetime: '2018-08-24T00:00:00Z', value: 1 }]), 404, 'DEVICE_NOT_FOUND');
  });

  it('refuses invalid devices, listing every problem', async () => {
    const res = await h.app.inject({
      method: 'POST', url: '/api/v1/devices',
      payload: { id: 'Not An Id', name: 7, max_power_w: -3, colour: 'red' },
    });
    const problem = expectProblem(res, 400, 'VALIDATION_FAILED');
    const pointers = problem.errors!.map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/body/colour', '/body/id', '/body/max_power_w', '/body/name']);

    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { name: 'no id' } }), 400, 'VALIDATION_FAILED');
    expectProblem(await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/x', payload: {} }), 400, 'VALIDATION_FAILED');
    expect((await h.app.inject({ url: '/api/v1/devices' })).json().data).toEqual([]);
  });

  it('deleting a device removes its entities and energy', async () => {
    await createDevice(h.app, 'meter');
    expect((await postReadings(h.app, 'meter', 'kWh', [{ datetime: '2018-08-24T00:00:00Z', value: 4 }])).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/api/v1/entities?device=meter' })).json().data).toHaveLength(1);

    expect((await h.app.inject({ method: 'DELETE', url: '/api/v1/devices/meter' })).statusCode).toBe(204);
    expect((await h.app.inject({ url: '/api/v1/entities' })).json().data).toEqual([]);
    expectProblem(await h.app.inject({ url: '/api/v1/history?entity=meter.energy&start=2018-08-24&end=2018-08-25' }), 404, 'ENTITY_NOT_FOUND');
  });
});
