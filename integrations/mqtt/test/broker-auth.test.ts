/**
 * `require_auth`: the embedded broker takes hub accounts and API tokens (checked by the hub through
 * ctx.credentials), over real mqtt.js clients.
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

  it("a user's device subscribes to its own topics, not to everything; an admin token may", async () => {
    const device = await connect(port, { username: 'token', password: await token(['ingest']) });
    clients.push(device);
    expect((await device.subscribeAsync('cmnd/plug_a/#')).map((g) => g.qos)).toEqual([0]);
    // Refused subscriptions get SUBACK 0x80 (mqtt.js rejects with that code); the connection stays up.
    await expect(device.subscribeAsync('#')).rejects.toMatchObject({ packet: { granted: [128] } });
    await expect(device.subscribeAsync('+/plug_b/power')).rejects.toMatchObject({ packet: { granted: [128] } });
    expect(device.connected).toBe(true);

    const admin = await h.hub.auth.users.create({ email: 'admin@example.org', password, role: 'admin' });
    const watcher = await connect(port, { username: 'token', password: await token(['ingest', 'admin'], admin.id) });
    clients.push(watcher);
    expect((await watcher.subscribeAsync('#')).map((g) => g.qos)).toEqual([0]);
    const seen = new Promise<string>((resolve) => watcher.on('message', (topic) => resolve(topic)));
    await device.publishAsync('tele/plug_a/STATE', '{"POWER":"ON"}');
    expect(await seen).toBe('tele/plug_a/STATE');
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
