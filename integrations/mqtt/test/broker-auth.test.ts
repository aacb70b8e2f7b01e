/**
 * `require_auth`: the embedded broker takes hub accounts and API tokens (checked by the hub through
 * ctx.credentials), and lets each login subscribe only to what its user may see; over real mqtt.js
 * clients.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { captureLog } from '../../../core/test/hub/support.js';
import { describeDb } from '../../../core/test/support/db.js';
import { freePort, startMqttHub, uid, waitFor, type MqttHub } from './support.js';

/** Connects once (no retries); rejects with mqtt.js' error, whose `code` is the CONNACK return code. */
function connect(port: number, login: { username?: string; password?: string } = {}): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0, clientId: uid('jhdev'), ...login });
}

async function refusal(p: Promise<MqttClient>): Promise<{ code: unknown; message: string }> {
  try {
    const c = await p;
    await c.endAsync(true);
  } catch (err) {
    return { code: (err as { code?: unknown }).code, message: (err as Error).message };
  }
  throw new Error('the broker accepted a login it should refuse');
}

describeDb('mqtt embedded broker: hub accounts and API tokens', (target) => {
  let h: MqttHub;
  let port: number;
  let cap: ReturnType<typeof captureLog>;
  const clients: MqttClient[] = [];
  let alice: { id: string };
  const password = 'correct horse battery staple';

  beforeEach(async () => {
    port = await freePort();
    cap = captureLog();
    h = await startMqttHub({ dbUrl: target.url, config: { port, host: '127.0.0.1', require_auth: true }, log: cap.log });
    alice = await h.hub.auth.users.create({ email: 'alice@example.org', password, role: 'user' });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await h?.close();
  });

  const token = async (scopes: ('read' | 'write' | 'ingest' | 'admin')[], userId = alice.id) =>
    (await h.hub.auth.tokens.create(userId, { name: uid('t'), scopes })).secret;

  it('refuses devices without credentials (5) or with wrong ones (4); the hub itself is connected', async () => {
    expect(h.hub.integrations()[0]).toMatchObject({ status: 'running' });
    expect(await refusal(connect(port))).toMatchObject({ code: 5, message: expect.stringMatching(/Not authorized/i) });
    expect(await refusal(connect(port, { username: 'alice@example.org', password: 'wrong' }))).toMatchObject({ code: 4 });
    expect(await refusal(connect(port, { username: 'token', password: 'jht_not-a-token' }))).toMatchObject({ code: 4 });
    // A token without the ingest scope is known but not allowed to feed readings.
    expect(await refusal(connect(port, { username: 'token', password: await token(['read']) }))).toMatchObject({ code: 5 });
  });

  it('accepts an ingest token and an account password; their readings reach the hub; a revoked token is refused', async () => {
    const secret = await token(['ingest']);
    const device = await connect(port, { username: 'token', password: secret });
    clients.push(device);
    await device.publishAsync('zigbee2mqtt/plug_a', '{"power":42}', { qos: 1 });
    await waitFor('reading over a token login', () => h.state('plug_a.power')?.value === 42);

    const person = await connect(port, { username: 'Alice@Example.org', password });
    clients.push(person);
    await person.publishAsync('zigbee2mqtt/plug_b', '{"power":7}', { qos: 1 });
    await waitFor('reading over a password login', () => h.state('plug_b.power')?.value === 7);

    const [stored] = await h.hub.auth.tokens.list(alice.id);
    await h.hub.auth.tokens.revoke(alice.id, stored.id);
    expect(await refusal(connect(port, { username: 'token', password: secret }))).toMatchObject({ code: 4 });

    // No password or token in any log line.
    const logged = JSON.stringify(cap.lines);
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(password);
  });

  /** The QoS codes of a SUBACK: 0 granted (at QoS 0), 128 refused (mqtt.js rejects then). */
  const granted = async (c: MqttClient, filter: string): Promise<number[]> => {
    try {
      return (await c.subscribeAsync(filter)).map((g) => g.qos);
    } catch (err) {
      return (err as { packet?: { granted?: number[] } }).packet?.granted ?? Promise.reject(err);
    }
  };

  it("a user's login subscribes only to concrete topics of its own devices or of devices not known yet; an admin to anything", async () => {
    const bob = await h.hub.auth.users.create({ email: 'bob@example.org', password, role: 'user' });
    const deviceA = await connect(port, { username: 'token', password: await token(['ingest']) });
    const deviceB = await connect(port, { username: 'token', password: await token(['ingest'], bob.id) });
    clients.push(deviceA, deviceB);
    // Each household's plug reports (Tasmota STATE: a switch whose command topic is cmnd/<t>/POWER);
    // an admin gave each its owner. plug_c reports too but belongs to nobody.
    await deviceA.publishAsync('tele/plug_a/STATE', '{"POWER":"ON"}', { qos: 1 });
    await deviceB.publishAsync('tele/plug_b/STATE', '{"POWER":"ON"}', { qos: 1 });
    await deviceB.publishAsync('zigbee2mqtt/plug_c', '{"power":3,"state":"ON"}', { qos: 1 });
    await waitFor('three devices', () => h.state('plug_a.switch') && h.state('plug_b.switch') && h.state('plug_c.power'));
    await h.hub.devices.update('plug_a', { ownerId: alice.id });
    await h.hub.devices.update('plug_b', { ownerId: bob.id });

    // A: its own device's topics, Tasmota's own `cmnd/<topic>/#`, and a device the hub does not know yet.
    for (const filter of ['cmnd/plug_a/POWER', 'cmnd/plug_a/#', 'stat/plug_a/POWER', 'cmnd/plug_new/POWER', 'zigbee2mqtt/plug_new/set']) {
      expect([filter, await granted(deviceA, filter)]).toEqual([filter, [0]]);
    }
    // Not B's device, not a device without an owner, no wildcards, no $SYS: SUBACK 0x80, connection up.
    for (const filter of ['cmnd/plug_b/POWER', 'cmnd/plug_b/#', 'tele/plug_b/STATE', 'stat/plug_b/RESULT', 'zigbee2mqtt/plug_c',
      'zigbee2mqtt/plug_c/set', '#', 'tele/+/STATE', '+/plug_b/STATE', 'cmnd/+/POWER', '$SYS/#']) {
      expect([filter, await granted(deviceA, filter)]).toEqual([filter, [128]]);
    }
    expect(deviceA.connected).toBe(true);
    // B may subscribe to its own device, which A may not.
    expect(await granted(deviceB, 'cmnd/plug_b/POWER')).toEqual([0]);

    // Each refusal is logged once at info, with the login and the filter (a retry goes to debug).
    expect(await granted(deviceA, '#')).toEqual([128]);
    const refusals = cap.lines.filter((l) => l.msg === 'MQTT subscription refused');
    const info = refusals.filter((l) => l.level === 30);
    expect(info.filter((l) => l.filter === '#')).toHaveLength(1);
    expect(info.find((l) => l.filter === 'cmnd/plug_b/POWER')).toMatchObject({ login: `token (user ${alice.id})`, reason: 'device plug_b is not yours' });
    expect(refusals.filter((l) => l.filter === '#' && l.level === 20)).toHaveLength(1);

    // What A did subscribe to works: the hub's command to A's plug reaches A's device.
    const command = new Promise<string>((resolve) => deviceA.on('message', (topic, payload) => {
      if (topic === 'cmnd/plug_a/POWER') resolve(payload.toString());
    }));
    await h.hub.sendCommand({ entityId: 'plug_a.switch', command: 'turn_off' });
    expect(await command).toBe('OFF');

    // A password login follows the same rule.
    const person = await connect(port, { username: 'alice@example.org', password });
    clients.push(person);
    expect(await granted(person, 'tele/plug_a/STATE')).toEqual([0]);
    expect(await granted(person, 'tele/plug_b/STATE')).toEqual([128]);
    expect(cap.lines.filter((l) => l.msg === 'MQTT subscription refused' && l.filter === 'tele/plug_b/STATE').map((l) => [l.login, l.level]))
      .toEqual([[`token (user ${alice.id})`, 30], [`alice@example.org (user ${alice.id})`, 30]]);

    // Admins subscribe to anything: with a password, or a token with the admin scope.
    const admin = await h.hub.auth.users.create({ email: 'admin@example.org', password, role: 'admin' });
    const watcher = await connect(port, { username: 'token', password: await token(['ingest', 'admin'], admin.id) });
    const adminPerson = await connect(port, { username: 'admin@example.org', password });
    clients.push(watcher, adminPerson);
    expect(await granted(watcher, '#')).toEqual([0]);
    expect(await granted(adminPerson, 'cmnd/plug_b/POWER')).toEqual([0]);
    const seen = new Promise<string>((resolve) => watcher.on('message', (topic) => resolve(topic)));
    await deviceB.publishAsync('tele/plug_b/STATE', '{"POWER":"ON"}');
    expect(await seen).toBe('tele/plug_b/STATE');
  });

  it('topics Home Assistant discovery announced belong to the announced device', async () => {
    const bob = await h.hub.auth.users.create({ email: 'bob@example.org', password, role: 'user' });
    const deviceA = await connect(port, { username: 'token', password: await token(['ingest']) });
    const deviceB = await connect(port, { username: 'token', password: await token(['ingest'], bob.id) });
    clients.push(deviceA, deviceB);
    // B's meter announces itself with state and command topics that name no family.
    await deviceB.publishAsync('homeassistant/switch/meter_b/relay/config', JSON.stringify({
      name: 'Relay', uniq_id: 'meter_b_relay', stat_t: 'home/b/relay/state', cmd_t: 'home/b/relay/set', dev: { ids: ['meter_b'], name: 'Meter B' },
    }), { qos: 1 });
    // Retained: the hub subscribes to the announced state topic a moment after the config.
    await deviceB.publishAsync('home/b/relay/state', 'ON', { qos: 1, retain: true });
    await waitFor('discovered switch', () => h.hub.devices.get('meter_b') && h.hub.states.all().find((st) => st.entityId.startsWith('meter_b.')));
    await h.hub.devices.update('meter_b', { ownerId: bob.id });
    expect(await granted(deviceA, 'home/b/relay/state')).toEqual([128]);
    expect(await granted(deviceA, 'home/b/relay/set')).toEqual([128]);
    expect(await granted(deviceB, 'home/b/relay/set')).toEqual([0]);
  });

  it("a device-limited token subscribes only to its listed devices, even an admin's", async () => {
    const admin = await h.hub.auth.users.create({ email: 'root@example.org', password, role: 'admin' });
    const limited = (await h.hub.auth.tokens.create(admin.id, { name: uid('t'), scopes: ['ingest', 'admin'], deviceIds: ['meter_1'] })).secret;
    const device = await connect(port, { username: 'token', password: limited });
    clients.push(device);
    expect(await granted(device, 'cmnd/meter_1/POWER')).toEqual([0]);
    expect(await granted(device, 'cmnd/meter_2/POWER')).toEqual([128]);
    expect(await granted(device, '#')).toEqual([128]);
  });

  it('backs off password guessing per account, like the web login', async () => {
    for (let i = 0; i < 6; i++) {
      expect(await refusal(connect(port, { username: 'alice@example.org', password: `guess ${i}` }))).toMatchObject({ code: 4 });
    }
    // Locked for a while: even the right password is refused, until the hub clock moves on.
    expect(await refusal(connect(port, { username: 'alice@example.org', password }))).toMatchObject({ code: 4 });
    await h.clock.advance(1_000);
    clients.push(await connect(port, { username: 'alice@example.org', password }));
  });
});
