import { afterEach, beforeEach, expect, it } from 'vitest';
import { defineIntegration } from '../../src/sdk/define.js';
import type { Command } from '../../src/sdk/types.js';
import { describeDb } from '../support/db.js';
import { createDevice, expectProblem, postReadings, series, startApi, type ApiHarness } from './harness.js';

/** A lamp with a relay that follows commands, the way a real plug confirms a switch. */
const relayIntegration = (commands: Command[]) => defineIntegration({
  manifest: { id: 'relay-test', name: 'Relay (test)', version: '1.0.0', sdk: '^1.0.0', iotClass: 'local_push' },
  configSchema: { type: 'object', properties: {} },
  async setup(ctx) {
    await ctx.devices.upsert({ id: 'lamp', name: 'Lamp' });
    await ctx.entities.register('lamp', { key: 'relay', kind: 'switch' });
    await ctx.entities.register('lamp', { key: 'power', kind: 'power' });
    let on = false;
    ctx.report('lamp', 'relay', 'off');
    return {
      stop() {},
      diagnostics: () => ({ commands: commands.length, broker: { url: 'mqtt://lamp', password: 'hunter2' } }),
      onCommand(command) {
        commands.push(command);
        on = command.command === 'toggle' ? !on : command.command === 'turn_on';
        ctx.report('lamp', 'relay', on ? 'on' : 'off');
      },
    };
  },
});

describeDb('API entities, states, history, quarantine, integrations, commands', (target) => {
  let h: ApiHarness;
  let commands: Command[];
  beforeEach(async () => {
    commands = [];
    h = await startApi(target.url, {
      integrations: [{ id: 'relay-test' }],
      definitions: { 'relay-test': relayIntegration(commands) },
    });
  });
  afterEach(async () => { await h?.close(); });

  it('lists integrations with their status', async () => {
    const res = await h.app.inject({ url: '/api/v1/integrations' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      expect.objectContaining({ instance_id: 'relay-test', integration_id: 'relay-test', status: 'running', error: null }),
    ]);
  });

  it("serves an instance's diagnostics with secrets redacted, 404 for an unknown instance", async () => {
    await h.app.inject({ method: 'POST', url: '/api/v1/entities/lamp.relay/command', payload: { command: 'turn_on' } });
    const res = await h.app.inject({ url: '/api/v1/integrations/relay-test/diagnostics' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      instance_id: 'relay-test', status: 'running',
      diagnostics: { commands: 1, broker: { url: 'mqtt://lamp', password: expect.not.stringContaining('hunter2') } },
    });
    expectProblem(await h.app.inject({ url: '/api/v1/integrations/ghost/diagnostics' }), 404, 'INTEGRATION_NOT_FOUND');
  });

  it('lists entities, all or of one device', async () => {
    await createDevice(h.app, 'ship');
    await postReadings(h.app, 'ship', 'W', [{ datetime: '2018-08-24T00:00:00Z', value: 5 }]);
    const all = (await h.app.inject({ url: '/api/v1/entities' })).json().data as { id: string }[];
    expect(all.map((e) => e.id)).toEqual(['lamp.power', 'lamp.relay', 'ship.power']);
    const lamp = await h.app.inject({ url: '/api/v1/entities?device=lamp' });
    expect(lamp.json().data).toEqual([
      expect.objectContaining({ id: 'lamp.power', device_id: 'lamp', key: 'power', kind: 'power', unit: 'W' }),
      expect.objectContaining({ id: 'lamp.relay', device_id: 'lamp', key: 'relay', kind: 'switch', unit: null }),
    ]);
    expectProblem(await h.app.inject({ url: '/api/v1/entities?device=ghost' }), 404, 'DEVICE_NOT_FOUND');
    expectProblem(await h.app.inject({ url: '/api/v1/entities?colour=red' }), 400, 'INVALID_QUERY');
  });

  it('serves current states, one or all', async () => {
    h.hub.report('lamp.power', 42, h.clock.now());
    const all = await h.app.inject({ url: '/api/v1/states' });
    expect(all.statusCode).toBe(200);
    expect(all.json().data.map((s: { entity_id: string }) => s.entity_id)).toEqual(['lamp.power', 'lamp.relay']);

    const power = await h.app.inject({ url: '/api/v1/states/lamp.power' });
    expect(power.json()).toEqual({
      entity_id: 'lamp.power', device_id: 'lamp', kind: 'power', value: 42, text: null, available: true,
      last_changed: '2018-08-25T00:00:00Z', last_reported: '2018-08-25T00:00:00Z',
    });
    expect((await h.app.inject({ url: '/api/v1/states/lamp.relay' })).json()).toMatchObject({ value: 0, text: 'off' });
    expectProblem(await h.app.inject({ url: '/api/v1/states/ghost.power' }), 404, 'ENTITY_NOT_FOUND');

    await createDevice(h.app, 'quiet');
    await h.hub.entities.register('quiet', { key: 'power', kind: 'power' });
    expectProblem(await h.app.inject({ url: '/api/v1/states/quiet.power' }), 404, 'STATE_NOT_FOUND');
    expect((await h.app.inject({ url: '/api/v1/states?device=quiet' })).json().data).toEqual([]);
  });

  it('sends commands to switches and answers 202; the confirmed state follows', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/entities/lamp.relay/command', payload: { command: 'turn_on' } });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ entity_id: 'lamp.relay', command: 'turn_on', status: 'accepted' });
    expect(commands).toEqual([expect.objectContaining({ entityId: 'lamp.relay', deviceId: 'lamp', key: 'relay', command: 'turn_on' })]);
    expect((await h.app.inject({ url: '/api/v1/states/lamp.relay' })).json()).toMatchObject({ value: 1, text: 'on' });

    await h.app.inject({ method: 'POST', url: '/api/v1/entities/lamp.relay/command', payload: { command: 'toggle' } });
    expect((await h.app.inject({ url: '/api/v1/states/lamp.relay' })).json()).toMatchObject({ text: 'off' });
  });

  it('refuses commands that cannot be delivered, as problems', async () => {
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/entities/lamp.relay/command', payload: { command: 'explode' } }), 400, 'VALIDATION_FAILED');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/entities/lamp.relay/command', payload: {} }), 400, 'VALIDATION_FAILED');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/entities/lamp.power/command', payload: { command: 'turn_on' } }), 409, 'NOT_COMMANDABLE');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/entities/ghost.relay/command', payload: { command: 'turn_on' } }), 404, 'ENTITY_NOT_FOUND');

    // A switch on a device no integration owns has nobody to deliver to.
    await createDevice(h.app, 'orphan');
    await h.hub.entities.register('orphan', { key: 'relay', kind: 'switch' });
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/entities/orphan.relay/command', payload: { command: 'turn_on' } }), 409, 'NOT_COMMANDABLE');
    expect(commands).toEqual([]);
  });

  it('pages through raw history in time order within [start, end)', async () => {
    await createDevice(h.app, 'ship');
    await postReadings(h.app, 'ship', 'W', series('2018-08-24T00:00:00Z', 10, [1, 2, 3, 4, 5, 6]));
    const url = (start: string) => `/api/v1/history?entity=ship.power&start=${start}&end=2018-08-24T00:50:00Z&limit=2`;
    const seen: number[] = [];
    let next: string | null = '2018-08-24T00:00:00Z';
    let pages = 0;
    while (next) {
      const res = await h.app.inject({ url: url(next) });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { data: { value: number }[]; next: string | null };
      seen.push(...body.data.map((r) => r.value));
      next = body.next;
      pages++;
    }
    // 00:50 is the exclusive end: the sixth reading is not part of the range.
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(pages).toBe(3);

    // Without a range: the last 24 hours on the hub clock (2018-08-25T00:00Z).
    const recent = await h.app.inject({ url: '/api/v1/history?entity=ship.power' });
    expect(recent.json()).toMatchObject({ start: '2018-08-24T00:00:00Z', end: '2018-08-25T00:00:00Z' });
    expect(recent.json().data).toHaveLength(6);

    expectProblem(await h.app.inject({ url: '/api/v1/history' }), 400, 'INVALID_QUERY');
    expectProblem(await h.app.inject({ url: '/api/v1/history?entity=ship.power&limit=100000' }), 400, 'INVALID_QUERY');
    expectProblem(await h.app.inject({ url: '/api/v1/history?entity=ghost.power' }), 404, 'ENTITY_NOT_FOUND');
  });

  it('shows quarantined live readings with their reason, filtered by entity', async () => {
    h.hub.report('lamp.power', 2_147_483_647, h.clock.now());
    h.hub.report('lamp.power', 12, h.clock.now() + 1000);
    await h.hub.flush();
    const res = await h.app.inject({ url: '/api/v1/quarantine?entity=lamp.power' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual([
      expect.objectContaining({ entity_id: 'lamp.power', datetime: '2018-08-25T00:00:00Z', value: 2_147_483_647 }),
    ]);
    expect(res.json().data[0].reason).toMatch(/\S/);
    expect((await h.app.inject({ url: '/api/v1/quarantine' })).json().data).toHaveLength(1);
    expectProblem(await h.app.inject({ url: '/api/v1/quarantine?entity=ghost.power' }), 404, 'ENTITY_NOT_FOUND');
  });
});
