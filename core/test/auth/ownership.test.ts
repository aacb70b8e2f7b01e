/**
 * A user sees only their own devices, everywhere: lists, entities, states, history, energy,
 * fleet and top aggregates, commands, and WebSocket subscriptions to everything. Admins see all.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defineIntegration } from '../../src/sdk/define.js';
import type { Command } from '../../src/sdk/types.js';
import { describeDb } from '../support/db.js';
import { expectProblem, postReadings, series, startApi, type ApiHarness, type TestUser } from '../api/harness.js';

/** Two plugs with relays that confirm commands, as a real plug does. */
const plugs = (commands: Command[]) => defineIntegration({
  manifest: { id: 'plugs', name: 'Plugs (test)', version: '1.0.0', sdk: '^1.0.0', iotClass: 'local_push' },
  configSchema: { type: 'object', properties: {} },
  async setup(ctx) {
    for (const id of ['alice-plug', 'bob-plug', 'spare-plug']) {
      await ctx.devices.upsert({ id, name: id });
      await ctx.entities.register(id, { key: 'relay', kind: 'switch' });
      await ctx.entities.register(id, { key: 'power', kind: 'power' });
    }
    return {
      stop() {},
      onCommand(command) {
        commands.push(command);
        ctx.report(command.deviceId, 'relay', command.command === 'turn_on' ? 'on' : 'off');
      },
    };
  },
});

const ids = (res: { json(): unknown }) => ((res.json() as { data: { id?: string; entity_id?: string; device?: string }[] }).data)
  .map((d) => d.id ?? d.entity_id ?? d.device);

describeDb('ownership: users see and switch only their own devices', (target) => {
  let h: ApiHarness;
  let alice: TestUser;
  let bob: TestUser;
  const commands: Command[] = [];
  const range = 'start=2018-08-24T00:00:00Z&end=2018-08-25T00:00:00Z';

  beforeAll(async () => {
    h = await startApi(target.url, { integrations: [{ id: 'plugs' }], definitions: { plugs: plugs(commands) } });
    alice = await h.createUser({ email: 'alice@example.org' });
    bob = await h.createUser({ email: 'bob@example.org' });
    for (const [device, owner] of [['alice-plug', alice.id], ['bob-plug', bob.id]]) {
      const res = await h.app.inject({ method: 'PATCH', url: `/api/v1/devices/${device}`, payload: { owner } });
      expect(res.json().owner).toBe(owner);
      // 1 kW for a day (alice) and 2 kW (bob): energy to aggregate.
      expect((await postReadings(h.app, device, 'kW', series('2018-08-24T00:00:00Z', 60, Array(25).fill(device === 'alice-plug' ? 1 : 2)))).statusCode).toBe(200);
    }
    await h.hub.flush();
  });
  afterAll(async () => { await h?.close(); });

  it('lists only the caller\'s devices, entities and states; admins see all, orphans only admins', async () => {
    expect(ids(await h.app.inject({ url: '/api/v1/devices', headers: alice.headers }))).toEqual(['alice-plug']);
    expect(ids(await h.app.inject({ url: '/api/v1/devices', headers: bob.headers }))).toEqual(['bob-plug']);
    expect(ids(await h.app.inject({ url: '/api/v1/devices' }))).toEqual(['alice-plug', 'bob-plug', 'spare-plug']);
    expect((await h.app.inject({ url: '/api/v1/devices/alice-plug', headers: alice.headers })).json().owner).toBe(alice.id);
    expect(ids(await h.app.inject({ url: '/api/v1/devices?orphans=true' }))).toEqual(['spare-plug']);
    expect(ids(await h.app.inject({ url: `/api/v1/devices?owner=${bob.id}` }))).toEqual(['bob-plug']);
    expectProblem(await h.app.inject({ url: '/api/v1/devices?orphans=true', headers: alice.headers }), 403, 'FORBIDDEN');

    expect(ids(await h.app.inject({ url: '/api/v1/entities', headers: alice.headers }))).toEqual(['alice-plug.power', 'alice-plug.relay']);
    expectProblem(await h.app.inject({ url: '/api/v1/entities?device=bob-plug', headers: alice.headers }), 403, 'FORBIDDEN');
    expect(ids(await h.app.inject({ url: '/api/v1/states', headers: bob.headers })).every((id) => id!.startsWith('bob-plug.'))).toBe(true);
    expectProblem(await h.app.inject({ url: '/api/v1/states/bob-plug.power', headers: alice.headers }), 403, 'FORBIDDEN');
    expectProblem(await h.app.inject({ url: `/api/v1/history?entity=bob-plug.power&${range}`, headers: alice.headers }), 403, 'FORBIDDEN');
    expect((await h.app.inject({ url: `/api/v1/history?entity=alice-plug.power&${range}`, headers: alice.headers })).statusCode).toBe(200);
  });

  it('aggregates energy over the caller\'s devices only (fleet and top consumers)', async () => {
    const fleet = (headers?: Record<string, string>) => h.app.inject({ url: `/api/v1/energy/fleet?${range}&interval=day`, ...(headers ? { headers } : {}) });
    expect((await fleet(alice.headers)).json().data).toEqual([expect.objectContaining({ sum: 24, devices: 1 })]);
    expect((await fleet(bob.headers)).json().data).toEqual([expect.objectContaining({ sum: 48, devices: 1 })]);
    expect((await fleet()).json().data).toEqual([expect.objectContaining({ sum: 72, devices: 2 })]);
    const top = (headers?: Record<string, string>) => h.app.inject({ url: `/api/v1/energy/top?${range}`, ...(headers ? { headers } : {}) });
    expect((await top(alice.headers)).json().data).toEqual([{ device: 'alice-plug', kwh: 24 }]);
    expect((await top()).json().data).toEqual([{ device: 'bob-plug', kwh: 48 }, { device: 'alice-plug', kwh: 24 }]);
    expectProblem(await h.app.inject({ url: `/api/v1/energy?device=bob-plug&${range}`, headers: alice.headers }), 403, 'FORBIDDEN');
    expect((await h.app.inject({ url: `/api/v1/energy?device=alice-plug&${range}&interval=day`, headers: alice.headers })).json().data).toEqual([{ datetime: '2018-08-24T00:00:00Z', value: 24 }]);
  });

  it('lets a user switch their own switches only; readings likewise', async () => {
    const before = commands.length;
    const mine = await h.app.inject({ method: 'POST', url: '/api/v1/entities/alice-plug.relay/command', headers: alice.headers, payload: { command: 'turn_on' } });
    expect(mine.statusCode, mine.body).toBe(202);
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/entities/bob-plug.relay/command', headers: alice.headers, payload: { command: 'turn_on' } }), 403, 'FORBIDDEN');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/entities/spare-plug.relay/command', headers: alice.headers, payload: { command: 'turn_on' } }), 403, 'FORBIDDEN');
    expect(commands.slice(before).map((c) => c.entityId)).toEqual(['alice-plug.relay']);
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/devices/bob-plug/readings', headers: alice.headers, payload: { units: 'W', data: [{ datetime: '2018-08-24T12:00:00Z', value: 1 }] } }), 403, 'FORBIDDEN');
    // A device-limited token of alice's reaches only its device even among her own.
    const limited = await h.createToken(alice.headers, { scopes: ['read', 'write'], devices: ['alice-plug'] });
    expect(ids(await h.app.inject({ url: '/api/v1/devices', headers: limited.headers }))).toEqual(['alice-plug']);
  });

  it('sends a user subscribed to "*" only their own devices\' states over the WebSocket', async () => {
    const open = async (headers: Record<string, string>) => {
      const ws = await h.app.injectWS('/api/v1/ws', { headers });
      const frames: { type: string; states?: { entity_id: string }[] }[] = [];
      ws.on('message', (data) => frames.push(JSON.parse(String(data))));
      ws.send(JSON.stringify({ type: 'subscribe', entities: '*' }));
      return { ws, frames };
    };
    const a = await open(alice.headers);
    const b = await open(bob.headers);
    const admin = await open(h.admin!.headers);
    const seen = (c: { frames: { states?: { entity_id: string }[] }[] }) => new Set(c.frames.flatMap((f) => (f.states ?? []).map((s) => s.entity_id.split('.')[0])));
    try {
      for (const device of ['alice-plug', 'bob-plug', 'spare-plug']) h.hub.report(`${device}.power`, 100, h.clock.now());
      await h.clock.advance(100);
      for (const device of ['alice-plug', 'bob-plug', 'spare-plug']) h.hub.report(`${device}.power`, 200, h.clock.now());
      await h.clock.advance(100);
      await expect.poll(() => seen(admin).size).toBe(3);
      await expect.poll(() => seen(a).has('alice-plug') && seen(b).has('bob-plug')).toBe(true);
      expect([...seen(a)]).toEqual(['alice-plug']);
      expect([...seen(b)]).toEqual(['bob-plug']);
      // Asking by name for someone else's entity is refused like an unknown one.
      a.ws.send(JSON.stringify({ type: 'subscribe', id: 1, entities: ['bob-plug.power'] }));
      await expect.poll(() => a.frames.at(-1)).toMatchObject({ type: 'error', code: 'unknown_entity' });
    } finally {
      for (const c of [a, b, admin]) c.ws.terminate();
    }
    await expect(h.anonymous.injectWS('/api/v1/ws')).rejects.toThrow(/401/);
  });
});
