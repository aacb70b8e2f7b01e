/**
 * The MQTT integration on a real hub with its embedded aedes broker on a free port, real mqtt.js
 * devices, real PostgreSQL: devices appear without configuration, values land in the ledger, the
 * Tasmota reset signal, switch control round trips and failures, bad input, availability.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeDb } from '../../../core/test/support/db.js';
import { client, freePort, startMqttHub, T0, waitFor, type MqttHub } from './support.js';

const MIN = 60_000;

describeDb('mqtt integration, embedded broker', (target) => {
  let h: MqttHub;
  let dev: MqttClient;
  let url: string;

  beforeEach(async () => {
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    h = await startMqttHub({ dbUrl: target.url, config: { port, host: '127.0.0.1', command_timeout_ms: 5000, client_id: 'jh-test-hub' } });
    dev = await client(url);
  });
  afterEach(async () => {
    await dev?.endAsync(true);
    await h?.close();
  });

  const pub = (topic: string, payload: unknown, retain = false) =>
    dev.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, retain });

  it('runs the embedded broker and says so in diagnostics', async () => {
    expect(h.hub.integrations()).toEqual([expect.objectContaining({ instanceId: 'mqtt', status: 'running' })]);
    const d = await h.diagnostics();
    expect(d.broker).toMatchObject({ mode: 'embedded', connected: true, client_id: 'jh-test-hub' });
    expect(d.subscriptions).toEqual(expect.arrayContaining(['tele/+/SENSOR', 'shellies/#', 'zigbee2mqtt/#', 'homeassistant/#', 'energy/+/reading', '+/status/+']));
  });

  it('a Tasmota plug that publishes appears with its entities; its energy lands in the 15-minute ledger', async () => {
    await pub('tele/kitchen_plug/SENSOR', { ENERGY: { TotalStartTime: '2026-01-01T00:00:00', Total: 10.0, Power: 400, Voltage: 230, Current: 1.8, Factor: 0.97 } });
    await waitFor('kitchen_plug.energy', () => h.state('kitchen_plug.energy')?.value === 10);
    expect(h.hub.devices.get('kitchen_plug')).toMatchObject({ name: 'kitchen_plug', manufacturer: 'Tasmota', integration: 'mqtt' });
    expect(h.hub.entities.list({ deviceId: 'kitchen_plug' }).map((e) => `${e.key}:${e.kind}`).sort()).toEqual(
      ['current:current', 'energy:energy_total', 'power:power', 'power_factor:power_factor', 'voltage:voltage'],
    );
    expect(h.state('kitchen_plug.power')).toEqual({ value: 400, text: null, available: true });
    await h.clock.advance(15 * MIN);
    await pub('tele/kitchen_plug/SENSOR', { ENERGY: { TotalStartTime: '2026-01-01T00:00:00', Total: 10.1, Power: 400 } });
    await waitFor('second reading', () => h.state('kitchen_plug.energy')?.value === 10.1);
    expect(await h.samples('kitchen_plug.energy')).toEqual([[T0, 10], [T0 + 15 * MIN, 10.1]]);
    expect(await h.ledgerKwh('kitchen_plug.energy')).toBeCloseTo(0.1, 9);
  });

  it('a changed TotalStartTime is a reset even when the new Total is above the old one', async () => {
    const sensor = (start: string, total: number) => pub('tele/heater/SENSOR', { ENERGY: { TotalStartTime: start, Total: total } });
    await sensor('2026-01-01T00:00:00', 4.0);
    await waitFor('first', () => h.state('heater.energy')?.value === 4);
    await h.clock.advance(15 * MIN);
    await sensor('2026-01-01T00:00:00', 5.0);
    await waitFor('second', () => h.state('heater.energy')?.value === 5);
    await h.clock.advance(15 * MIN);
    // The counter was reset (EnergyTotal 0) and 7 kWh were counted since: 7 kWh happened, not 2.
    await sensor('2026-03-02T10:20:00', 7.0);
    await waitFor('after reset', () => h.state('heater.energy')?.value === 12);
    expect(await h.ledgerKwh('heater.energy')).toBeCloseTo(1 + 7, 9);
    // The continuation survives a hub restart (kept in the instance's kv store).
    await h.restart();
    await h.clock.advance(45 * MIN);
    await waitFor('reconnected', async () => (await h.diagnostics()).broker?.connected);
    const again = await client(url);
    await again.publishAsync('tele/heater/SENSOR', JSON.stringify({ ENERGY: { TotalStartTime: '2026-03-02T10:20:00', Total: 7.5 } }), { qos: 1 });
    await again.endAsync(true);
    await waitFor('after restart', () => h.state('heater.energy')?.value === 12.5);
    expect(await h.ledgerKwh('heater.energy')).toBeCloseTo(8.5, 9);
  });

  it('Shelly Gen1 watt-minutes and Gen2 Wh arrive in kWh; Gen1 EM export is its own counter', async () => {
    await pub('shellies/shellyplug-s-C8C9A3/relay/0/energy', '60'); // 60 Wmin = 1 Wh
    await pub('shellyplus1pm-44179394d4d4/status/switch:0', { id: 0, output: true, apower: 12.3, aenergy: { total: 456.7 } });
    await pub('shellies/shellyem-A1B2C3/emeter/0/total_returned', '2500');
    await waitFor('gen1 energy', () => h.state('shellyplug-s-c8c9a3.energy')?.value === 0.001);
    await waitFor('gen2 energy', () => h.state('shellyplus1pm-44179394d4d4.energy')?.value === 0.4567);
    await waitFor('em export', () => h.state('shellyem-a1b2c3.energy_returned')?.value === 2.5);
    expect(h.hub.entities.get('shellyem-a1b2c3.energy_returned')?.flow).toBe('out');
    expect(h.state('shellyplus1pm-44179394d4d4.switch')?.text).toBe('on');
  });

  it('turning a zigbee2mqtt plug off: QoS 1 command, and the state follows only when the device confirms', async () => {
    await pub('zigbee2mqtt/desk_plug', { state: 'ON', power: 20, energy: 1.2 });
    await waitFor('plug on', () => h.state('desk_plug.switch')?.text === 'on');
    const commands: { topic: string; payload: string; qos: number }[] = [];
    dev.on('message', (topic, payload, packet) => commands.push({ topic, payload: payload.toString(), qos: packet.qos }));
    await dev.subscribeAsync('zigbee2mqtt/desk_plug/set', { qos: 1 });
    await h.hub.sendCommand({ entityId: 'desk_plug.switch', command: 'turn_off' });
    await waitFor('command at the device', () => commands.length === 1);
    expect(commands[0]).toEqual({ topic: 'zigbee2mqtt/desk_plug/set', payload: '{"state":"OFF"}', qos: 1 });
    // Not yet confirmed: the state is still what the device last said.
    expect(h.state('desk_plug.switch')?.text).toBe('on');
    expect((await h.diagnostics()).commands.pending).toHaveLength(1);
    await pub('zigbee2mqtt/desk_plug', { state: 'OFF', power: 0, energy: 1.2 });
    await waitFor('plug off', () => h.state('desk_plug.switch')?.text === 'off');
    const d = await h.diagnostics();
    expect(d.commands).toMatchObject({ sent: 1, confirmed: 1, failed: 0, pending: [] });
  });

  it('commands each family in its own words', async () => {
    await pub('tele/lamp/STATE', { POWER: 'OFF' });
    await pub('shellies/shelly1-ABCDEF/relay/0', 'off');
    await pub('shellyplus1pm-aabbcc/status/switch:0', { id: 0, output: false });
    await waitFor('switches', () => ['lamp.switch', 'shelly1-abcdef.switch', 'shellyplus1pm-aabbcc.switch'].every((id) => h.state(id)?.text === 'off'));
    const got: string[] = [];
    dev.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await dev.subscribeAsync(['cmnd/lamp/POWER', 'shellies/shelly1-ABCDEF/relay/0/command', 'shellyplus1pm-aabbcc/rpc'], { qos: 1 });
    await h.hub.sendCommand({ entityId: 'lamp.switch', command: 'turn_on' });
    await h.hub.sendCommand({ entityId: 'shelly1-abcdef.switch', command: 'toggle' });
    await h.hub.sendCommand({ entityId: 'shellyplus1pm-aabbcc.switch', command: 'turn_on' });
    await waitFor('three commands', () => got.length === 3);
    expect(got).toEqual(expect.arrayContaining(['cmnd/lamp/POWER ON', 'shellies/shelly1-ABCDEF/relay/0/command toggle']));
    const rpc = got.find((g) => g.startsWith('shellyplus1pm-aabbcc/rpc '))!;
    expect(JSON.parse(rpc.slice(rpc.indexOf(' ') + 1))).toMatchObject({ method: 'Switch.Set', params: { id: 0, on: true } });
    // Confirmations in each family's words.
    await pub('stat/lamp/POWER', 'ON');
    await pub('shellies/shelly1-ABCDEF/relay/0', 'on');
    await pub('shellyplus1pm-aabbcc/events/rpc', { method: 'NotifyStatus', params: { ts: T0 / 1000, 'switch:0': { id: 0, output: true } } });
    await waitFor('all on', () => ['lamp.switch', 'shelly1-abcdef.switch', 'shellyplus1pm-aabbcc.switch'].every((id) => h.state(id)?.text === 'on'));
    expect((await h.diagnostics()).commands).toMatchObject({ sent: 3, confirmed: 3, failed: 0 });
  });

  it('a device that does not confirm within the timeout yields a recorded command failure; the state stays', async () => {
    await pub('tele/dead_plug/STATE', { POWER: 'ON' });
    await waitFor('plug on', () => h.state('dead_plug.switch')?.text === 'on');
    await h.hub.sendCommand({ entityId: 'dead_plug.switch', command: 'turn_off' });
    await h.clock.advance(4_999);
    expect((await h.diagnostics()).commands.failed).toBe(0);
    await h.clock.advance(1);
    const d = await h.diagnostics();
    expect(d.commands).toMatchObject({ sent: 1, confirmed: 0, failed: 1, pending: [] });
    expect(d.commands.failures).toEqual([{ entity_id: 'dead_plug.switch', command: 'turn_off', at: new Date(T0 + 5_000).toISOString(), reason: 'the device did not confirm turn_off within 5000 ms' }]);
    expect(h.state('dead_plug.switch')?.text).toBe('on');
  });

  it('a switch the hub has no command topic for is refused with a reason', async () => {
    await pub('energy/m1/reading', { device_id: 'm1', value: 1 });
    await waitFor('m1', () => h.state('m1.energy'));
    await expect(h.hub.sendCommand({ entityId: 'm1.energy', command: 'turn_on' })).rejects.toThrow(/no known command topic/);
  });

  it('bad input never stops the hub: counted per device, valid readings of the same message kept', async () => {
    await pub('tele/bad_plug/SENSOR', { ENERGY: { Total: 3.5, Power: 'lots', Voltage: 231 } }); // wrong type, rest kept
    await pub('tele/bad_plug/SENSOR', '{"ENERGY": {"Total": 3.6'); // malformed
    await pub('shellies/shelly1-BAD000/relay/0/frobnicate', '1'); // unknown topic of a known family
    await pub('tele/bad_plug/SENSOR', JSON.stringify({ ENERGY: { Total: 3.7 }, pad: 'x'.repeat(70_000) })); // oversized
    await pub('tele/bad_plug/SENSOR', { ENERGY: { Total: 3.8 } });
    await waitFor('last good reading', () => h.state('bad_plug.energy')?.value === 3.8);
    expect(h.state('bad_plug.voltage')?.value).toBe(231);
    const d = await h.diagnostics();
    expect(d.devices.bad_plug).toMatchObject({ messages: 4, wrong_type: 1, malformed: 1, oversized: 1 });
    expect(d.devices['shelly1-bad000']).toMatchObject({ unknown_topic: 1 });
    expect((await h.samples('bad_plug.energy')).map(([, v]) => v)).toEqual([3.8]); // same instant: last write wins
    expect(h.hub.integrations()[0].status).toBe('running');
  });

  it('LWT, Shelly online and z2m availability mark the device unavailable and back', async () => {
    await pub('tele/lwt_plug/SENSOR', { ENERGY: { Power: 5 } });
    await pub('zigbee2mqtt/z_plug', { power: 3 });
    await waitFor('both', () => h.state('lwt_plug.power') && h.state('z_plug.power'));
    await pub('tele/lwt_plug/LWT', 'Offline', true);
    await pub('zigbee2mqtt/z_plug/availability', '{"state":"offline"}');
    await waitFor('unavailable', () => h.state('lwt_plug.power')?.available === false && h.state('z_plug.power')?.available === false);
    await pub('tele/lwt_plug/LWT', 'Online', true);
    await pub('zigbee2mqtt/z_plug/availability', 'online');
    await waitFor('available again', () => h.state('lwt_plug.power')?.available === true && h.state('z_plug.power')?.available === true);
  });

  it('Home Assistant discovery: a retained config, its state and availability, a rejection with its reason, removal', async () => {
    await pub('homeassistant/sensor/smart/energy_12345678/config', {
      name: 'Energy', stat_t: 'smart/state', unit_of_meas: 'kWh', dev_cla: 'energy', stat_cla: 'total_increasing',
      val_tpl: '{{ value_json.e }}', uniq_id: 'smart_energy', avty_t: 'smart/avail', dev: { ids: ['12345678'], name: 'Smart meter' },
    }, true);
    await pub('homeassistant/sensor/smart/power/config', { stat_t: 'smart/state', dev_cla: 'energy', unit_of_meas: 'W', uniq_id: 'smart_p', dev: { ids: ['12345678'] } }, true);
    await waitFor('entity', () => h.hub.entities.get('12345678.smart_energy'));
    // The state topic is subscribed once the config is known.
    await waitFor('state', async () => {
      await pub('smart/state', { e: 1234.5 });
      return h.state('12345678.smart_energy')?.value === 1234.5;
    });
    await pub('smart/avail', 'offline');
    await waitFor('unavailable', () => h.state('12345678.smart_energy')?.available === false);
    const d = await h.diagnostics();
    expect(d.discovery.rejected).toEqual([{ config_topic: 'homeassistant/sensor/smart/power/config', reason: 'impossible device_class/unit pair: energy in "W" (expected Wh, kWh, MWh)', severity: 'reject' }]);
    expect(d.devices['12345678'].unsupported).toBe(1);
    // Removal: an empty retained config.
    await pub('homeassistant/sensor/smart/energy_12345678/config', '', true);
    await waitFor('removed', async () => (await h.diagnostics()).discovery.removed === 1);
    expect((await h.diagnostics()).discovery.entities).toEqual([]);
  });

  it("a discovery config for a topic a built-in family reads is not counted twice", async () => {
    await pub('homeassistant/sensor/218FF9_ENERGY_Total/config', {
      name: 'plug001 ENERGY Total', stat_t: 'tele/plug001/SENSOR', avty_t: 'tele/plug001/LWT', pl_avail: 'Online', pl_not_avail: 'Offline',
      uniq_id: '218FF9_ENERGY_Total', dev: { ids: ['218FF9'] }, unit_of_meas: 'kWh', dev_cla: 'energy', stat_cla: 'total_increasing',
      val_tpl: "{{value_json['ENERGY']['Total']}}",
    });
    await waitFor('skipped', async () => (await h.diagnostics()).discovery.rejected.length === 1);
    expect((await h.diagnostics()).discovery.rejected[0].reason).toMatch(/built-in tasmota/);
    await pub('tele/plug001/SENSOR', { ENERGY: { Total: 1.5 } });
    await waitFor('native', () => h.state('plug001.energy')?.value === 1.5);
    expect(h.hub.devices.get('218ff9')).toBeUndefined();
  });

  it('a device deleted through the hub comes back with its next message', async () => {
    await pub('zigbee2mqtt/gone_plug', { power: 10 });
    await waitFor('plug', () => h.state('gone_plug.power')?.value === 10);
    await h.hub.devices.delete('gone_plug');
    expect(h.hub.devices.get('gone_plug')).toBeUndefined();
    await pub('zigbee2mqtt/gone_plug', { power: 11 }); // dropped: the hub no longer knows the entity
    await waitFor('registered again', async () => {
      await pub('zigbee2mqtt/gone_plug', { power: 12 });
      return h.state('gone_plug.power')?.value === 12;
    });
    expect(h.hub.integrations()[0].status).toBe('running');
  });

  it('metering-simulator readings keep their own timestamps', async () => {
    await pub('energy/sim-1/reading', { timestamp: '2026-03-02T09:00:00Z', device_id: 'sim-1', measurement_value: 100 });
    await pub('energy/sim-1/reading', { timestamp: Date.parse('2026-03-02T09:15:00Z') / 1000, deviceId: 'sim-1', value: 100.25 });
    await pub('energy/sim-1/reading', { timestamp: Date.parse('2026-03-02T09:30:00Z'), deviceId: 'sim-1', value: 100.5 });
    await waitFor('three', async () => (await h.samples('sim-1.energy')).length === 3);
    expect(await h.samples('sim-1.energy')).toEqual([
      [Date.parse('2026-03-02T09:00:00Z'), 100], [Date.parse('2026-03-02T09:15:00Z'), 100.25], [Date.parse('2026-03-02T09:30:00Z'), 100.5],
    ]);
    expect(await h.ledgerKwh('sim-1.energy')).toBeCloseTo(0.5, 9);
  });
});
