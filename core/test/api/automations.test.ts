/**
 * The automations API on a real hub (PostgreSQL, ManualClock, authentication as in production):
 * CRUD with the one rule schema, ownership (a user cannot read or create rules on another user's
 * devices), live runs, backtests with explanations and saved energy.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { defineIntegration } from '../../src/sdk/define.js';
import { describeDb } from '../support/db.js';
import { expectProblem, series, startApi, type ApiHarness, type TestUser } from './harness.js';

const fake = defineIntegration({
  manifest: { id: 'plugs', name: 'Plugs', version: '0.1.0', sdk: '^1.0.0', iotClass: 'local_push' },
  configSchema: { type: 'object' },
  async setup(ctx) {
    for (const id of ['heater', 'kettle', 'lamp']) {
      await ctx.devices.upsert({ id, name: id[0]!.toUpperCase() + id.slice(1), address: `${id} corner`, maxHourlyKwh: 1 });
      await ctx.entities.register(id, { key: 'switch', kind: 'switch' });
      await ctx.entities.register(id, { key: 'energy', kind: 'energy_interval', unit: 'kWh' });
    }
    return { stop() {}, onCommand(cmd) { ctx.report(cmd.deviceId, cmd.key, cmd.command === 'turn_on' ? 'on' : 'off'); } };
  },
});

const nightOff = {
  id: 'heater-night-off',
  name: 'Heater off at night',
  triggers: [{ type: 'cron', cron: '0 22 * * *' }],
  actions: [{ type: 'switch', entity: 'heater.switch', command: 'turn_off' }],
};

describeDb('API automations', (target) => {
  let h: ApiHarness;
  let alice: TestUser;
  let bob: TestUser;
  beforeEach(async () => {
    h = await startApi(target.url, { now: '2026-06-01T00:00:00Z', integrations: [{ id: 'plugs' }], definitions: { plugs: fake } });
    alice = await h.createUser({ email: 'alice@test' });
    bob = await h.createUser({ email: 'bob@test' });
    for (const [device, owner] of [['heater', alice.id], ['kettle', bob.id]] as const) {
      const res = await h.app.inject({ method: 'PATCH', url: `/api/v1/devices/${device}`, payload: { owner } });
      expect(res.statusCode, res.body).toBe(200);
    }
  });
  afterEach(async () => h?.close());

  it('creates, lists, reads, changes and deletes a rule with the JSON the YAML holds', async () => {
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: alice.headers, payload: nightOff });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe('/api/v1/automations/heater-night-off');
    expect(created.json()).toMatchObject({ id: 'heater-night-off', owner_id: alice.id, source: 'api', paused: null, definition: nightOff });

    const list = await h.app.inject({ url: '/api/v1/automations', headers: alice.headers });
    expect(list.json().data.map((r: { id: string }) => r.id)).toEqual(['heater-night-off']);

    const patched = await h.app.inject({ method: 'PATCH', url: '/api/v1/automations/heater-night-off', headers: alice.headers, payload: { triggers: [{ type: 'cron', cron: '30 21 * * *' }], name: null } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().definition).toEqual({ ...nightOff, name: undefined, triggers: [{ type: 'cron', cron: '30 21 * * *' }] });

    // The changed rule runs live: 21:30 UTC.
    await h.clock.advance(22 * 3_600_000);
    const runs = await h.app.inject({ url: '/api/v1/automations/heater-night-off/runs', headers: alice.headers });
    expect(runs.statusCode, runs.body).toBe(200);
    expect(runs.json().data).toHaveLength(1);
    expect(runs.json().data[0]).toMatchObject({ result: 'done', started_at: '2026-06-01T21:30:00.000Z', explanation: 'cron "30 21 * * *" (UTC); switch off heater.switch' });
    expect(runs.json().data[0].actions).toEqual([{ action: 'switch off heater.switch', ok: true, attempts: 1 }]);

    const del = await h.app.inject({ method: 'DELETE', url: '/api/v1/automations/heater-night-off', headers: alice.headers });
    expect(del.statusCode).toBe(204);
    expectProblem(await h.app.inject({ url: '/api/v1/automations/heater-night-off', headers: alice.headers }), 404, 'AUTOMATION_NOT_FOUND');
  });

  it('rejects bad rules with the path of each problem, duplicates with 409', async () => {
    const bad = await h.app.inject({
      method: 'POST', url: '/api/v1/automations', headers: alice.headers,
      payload: { id: 'x', triggers: [{ type: 'cron' }], actions: [{ type: 'set_level', entity: 'heater.switch', level: 'D7' }] },
    });
    const body = expectProblem(bad, 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual(expect.arrayContaining([
      { pointer: '/body/triggers/0/cron', reason: 'triggers[0].cron is required' },
      { pointer: '/body/actions/0/level', reason: 'actions[0].level must be one of: "D0", "D1", "D2", "D3hot", "D3cold"' },
    ]));
    const unknown = await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: alice.headers, payload: { ...nightOff, actions: [{ type: 'switch', entity: 'boiler.switch', command: 'turn_off' }] } });
    expect(expectProblem(unknown, 400, 'VALIDATION_FAILED').errors).toEqual([{ pointer: '/body/actions/0/entity', reason: 'actions[0].entity names no device "boiler"' }]);
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: alice.headers, payload: nightOff })).statusCode).toBe(201);
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: alice.headers, payload: nightOff }), 409, 'AUTOMATION_EXISTS');
  });

  it('a user cannot create rules on another user\'s devices nor see their rules; admins see all', async () => {
    const onBobs = await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: alice.headers, payload: { ...nightOff, id: 'steal', actions: [{ type: 'switch', entity: 'kettle.switch', command: 'turn_off' }] } });
    expectProblem(onBobs, 403, 'FORBIDDEN');
    const bobs = await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: bob.headers, payload: { ...nightOff, id: 'kettle-off', actions: [{ type: 'switch', entity: 'kettle.switch', command: 'turn_off' }] } });
    expect(bobs.statusCode, bobs.body).toBe(201);
    expectProblem(await h.app.inject({ url: '/api/v1/automations/kettle-off', headers: alice.headers }), 404, 'AUTOMATION_NOT_FOUND');
    expectProblem(await h.app.inject({ method: 'PATCH', url: '/api/v1/automations/kettle-off', headers: alice.headers, payload: { name: 'mine' } }), 404);
    expectProblem(await h.app.inject({ method: 'DELETE', url: '/api/v1/automations/kettle-off', headers: alice.headers }), 404);
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/automations/kettle-off/backtest', headers: alice.headers, payload: { start: '2026-05-31T00:00:00Z', end: '2026-06-01T00:00:00Z' } }), 404);
    expect((await h.app.inject({ url: '/api/v1/automations', headers: alice.headers })).json().data).toEqual([]);
    // A shutdown rule of alice's only reaches her own devices.
    const shutdown = await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: alice.headers, payload: { id: 'leave', type: 'shutdown', triggers: [{ type: 'webhook' }] } });
    expect(shutdown.statusCode, shutdown.body).toBe(201);
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/automations/leave/webhook', headers: alice.headers })).statusCode).toBe(202);
    await h.clock.advance(1000);
    const run = (await h.app.inject({ url: '/api/v1/automations/leave/runs', headers: alice.headers })).json().data[0];
    expect(run.actions.map((a: { action: string }) => a.action)).toEqual(['switch off heater.switch']);
    // The admin sees every rule.
    expect((await h.app.inject({ url: '/api/v1/automations' })).json().data.map((r: { id: string }) => r.id)).toEqual(['kettle-off', 'leave']);
  });

  it('shows a rule paused by its rate limit, and a change resumes it', async () => {
    const chatty = { id: 'chatty', max_runs_per_hour: 2, triggers: [{ type: 'cron', cron: '* * * * *' }], actions: [{ type: 'switch', entity: 'heater.switch', command: 'toggle' }] };
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: alice.headers, payload: chatty })).statusCode).toBe(201);
    for (let i = 0; i < 5; i++) await h.clock.advance(60_000);
    const paused = (await h.app.inject({ url: '/api/v1/automations/chatty', headers: alice.headers })).json();
    expect(paused.paused).toEqual({ reason: 'fired more than 2 times within an hour', at: '2026-06-01T00:03:00.000Z' });
    const note = (await h.app.inject({ url: '/api/v1/notifications', headers: alice.headers })).json().data[0];
    expect(note).toMatchObject({ level: 'critical', rule_id: 'chatty', user_id: alice.id });
    const resumed = await h.app.inject({ method: 'PATCH', url: '/api/v1/automations/chatty', headers: alice.headers, payload: { max_runs_per_hour: 100 } });
    expect(resumed.json().paused).toBeNull();
    await h.clock.advance(60_000);
    const runs = (await h.app.inject({ url: '/api/v1/automations/chatty/runs', headers: alice.headers })).json().data;
    expect(runs.map((r: { result: string }) => r.result)).toEqual(['done', 'paused', 'done', 'done']);
  });

  it('backtests a rule over recorded history: firings with explanations, no command sent, the energy saved', async () => {
    // The heater: 0.1 kWh per quarter-hour, 0.6 kWh per quarter-hour from 10:00 to 11:00 on 31 May.
    const values = Array.from({ length: 96 }, (_, q) => (q >= 40 && q < 44 ? 0.6 : 0.1));
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/devices/heater/readings', payload: { units: 'kWh', reading: 'interval', data: series('2026-05-31T00:00:00Z', 15, values) } });
    expect(res.statusCode, res.body).toBe(200);
    await h.hub.flush();
    const rule = { id: 'budget', type: 'over_consumption', devices: ['heater'], switch_off: true };
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/automations', headers: alice.headers, payload: rule })).statusCode).toBe(201);
    const bt = await h.app.inject({ method: 'POST', url: '/api/v1/automations/budget/backtest', headers: alice.headers, payload: { start: '2026-05-31T00:00:00Z', end: '2026-06-01T00:00:00Z' } });
    expect(bt.statusCode, bt.body).toBe(200);
    expect(bt.json()).toEqual({
      firings: [{
        time: '2026-05-31T10:30:00.000Z',
        explanation: 'energy of heater 10:00–11:00 = 1.2 kWh by 10:30 > 1 kWh; would notify "Heater (heater, heater corner) used 1.2 kWh in 10:00–11:00, more than 1 kWh"; would switch off heater.switch',
        actions: ['would notify "Heater (heater, heater corner) used 1.2 kWh in 10:00–11:00, more than 1 kWh"', 'would switch off heater.switch'],
      }],
      // Off from 10:30 to the end of the hour: two quarter-hours of 0.6 kWh.
      saved_kwh: 1.2,
    });
    expect((await h.app.inject({ url: '/api/v1/automations/budget/runs', headers: alice.headers })).json().data).toEqual([]);
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/automations/budget/backtest', headers: alice.headers, payload: { start: '2026-06-01T00:00:00Z', end: '2026-05-01T00:00:00Z' } }), 400, 'INVALID_BACKTEST_RANGE');
  });
});
