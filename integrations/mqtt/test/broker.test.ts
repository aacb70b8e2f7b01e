/**
 * The embedded broker's edges on a real hub: device credentials, a port that is taken (one clear
 * line, the hub keeps running), port 0, an unreachable external broker (retried), rate-limited
 * logs of bad input.
 */
import net from 'node:net';
import mqtt from 'mqtt';
import { afterEach, expect, it } from 'vitest';
import { captureLog } from '../../../core/test/hub/support.js';
import { describeDb } from '../../../core/test/support/db.js';
import { client, freePort, startMqttHub, waitFor, type MqttHub } from './support.js';

describeDb('mqtt embedded broker', (target) => {
  let h: MqttHub | undefined;
  const extra: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    for (const f of extra.splice(0)) await f();
  });

  it('devices must log in with the configured credentials; the hub itself does', async () => {
    const port = await freePort();
    h = await startMqttHub({ dbUrl: target.url, config: { port, host: '127.0.0.1', broker_username: 'devices', broker_password: 's3cret' } });
    expect(h.hub.integrations()[0].status).toBe('running');
    await expect(client(`mqtt://127.0.0.1:${port}`, { username: 'devices', password: 'wrong' })).rejects.toThrow(/Bad username or password/);
    const ok = await client(`mqtt://127.0.0.1:${port}`, { username: 'devices', password: 's3cret' });
    await ok.publishAsync('zigbee2mqtt/authed', '{"power":7}', { qos: 1 });
    await ok.endAsync(true);
    await waitFor('authed device', () => h!.state('authed.power')?.value === 7);
  });

  it('speaks MQTT 3.1.1: an MQTT 5 device is refused with a reason it can show', async () => {
    const port = await freePort();
    h = await startMqttHub({ dbUrl: target.url, config: { port, host: '127.0.0.1' } });
    await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0 })).rejects.toThrow(/Unacceptable protocol version|Unsupported Protocol Version/i);
  });

  it('a taken port: one clear log line naming MQTT_URL and MQTT_PORT, and the hub keeps running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    extra.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as net.AddressInfo).port;
    const cap = captureLog();
    h = await startMqttHub({ dbUrl: target.url, config: { port, host: '127.0.0.1' }, log: cap.log });
    const [status] = h.hub.integrations();
    expect(status).toMatchObject({ instanceId: 'mqtt', status: 'config_error' });
    expect(status.error).toMatch(new RegExp(`port ${port} is already in use.*MQTT_URL=mqtt://127.0.0.1:${port}.*MQTT_PORT`));
    const lines = cap.lines.filter((l) => JSON.stringify(l).includes('MQTT_PORT'));
    expect(lines).toHaveLength(1);
    // The rest of the hub works.
    await h.hub.devices.upsert({ id: 'manual', name: 'Manual' }, null);
    expect(h.hub.devices.get('manual')).toBeDefined();
  });

  it('port 0 without a URL turns MQTT off quietly', async () => {
    h = await startMqttHub({ dbUrl: target.url, config: { port: 0 } });
    expect(h.hub.integrations()[0].status).toBe('running');
    expect(await h.diagnostics()).toEqual({ broker: { mode: 'off' } });
  });

  it('an unreachable broker is not ready and retried with backoff, never a crash', async () => {
    const port = await freePort();
    h = await startMqttHub({ dbUrl: target.url, config: { url: `mqtt://127.0.0.1:${port}`, reconnect_min_ms: 50 } });
    const [status] = h.hub.integrations();
    expect(status).toMatchObject({ status: 'not_ready', attempts: 1 });
    expect(status.error).toMatch(/cannot reach the MQTT broker at mqtt:\/\/127\.0\.0\.1/);
    expect(status.nextRetryAt).toBeDefined();
  });

  it('a mapping whose value path cannot be read is a config error naming the mapping', async () => {
    h = await startMqttHub({ dbUrl: target.url, config: { port: 0, mappings: [{ topic: 'a/+', key: 'power', kind: 'power', value: 'x..y' }] } });
    expect(h.hub.integrations()[0]).toMatchObject({ status: 'config_error', error: expect.stringMatching(/^mappings\[0\]: cannot read the path "x\.\.y"/) });
  });

  it('a generic mapping reads its topic and commands its switch with its own payloads', async () => {
    const port = await freePort();
    h = await startMqttHub({
      dbUrl: target.url,
      config: {
        port, host: '127.0.0.1',
        mappings: [
          { topic: 'home/+/tele', device: 'meter_{1}', key: 'power', kind: 'power', unit: 'kW', value: '/ENERGY/Power' },
          { topic: 'home/+/relay', device: 'meter_{1}', key: 'relay', kind: 'switch', command_topic: 'home/{1}/relay/set', payload_on: '1', payload_off: '0' },
        ],
      },
    });
    const dev = await client(`mqtt://127.0.0.1:${port}`);
    await dev.subscribeAsync('home/cellar/relay/set', { qos: 1 });
    dev.on('message', (t, p) => void dev.publishAsync('home/cellar/relay', p.toString(), { qos: 1 }));
    await dev.publishAsync('home/cellar/tele', '{"ENERGY":{"Power":1.5}}', { qos: 1 });
    await dev.publishAsync('home/cellar/relay', '0', { qos: 1 });
    await waitFor('mapped', () => h!.state('meter_cellar.power')?.value === 1500 && h!.state('meter_cellar.relay')?.text === 'off');
    await h.hub.sendCommand({ entityId: 'meter_cellar.relay', command: 'turn_on' });
    await waitFor('relay on', () => h!.state('meter_cellar.relay')?.text === 'on');
    await dev.endAsync(true);
  });

  it('bad input is logged at a rate-limited level: once per device and kind a minute, with the count suppressed', async () => {
    const port = await freePort();
    const cap = captureLog();
    h = await startMqttHub({ dbUrl: target.url, config: { port, host: '127.0.0.1' }, log: cap.log });
    const dev = await client(`mqtt://127.0.0.1:${port}`);
    for (let i = 0; i < 5; i++) await dev.publishAsync('tele/noisy/SENSOR', '{broken', { qos: 1 });
    await waitFor('five counted', async () => (await h!.diagnostics()).devices?.noisy?.malformed === 5);
    const warns = () => cap.lines.filter((l) => l.level === 40 && l.deviceId === 'noisy');
    expect(warns()).toHaveLength(1);
    await h.clock.advance(60_000);
    await dev.publishAsync('tele/noisy/SENSOR', '{broken', { qos: 1 });
    await waitFor('second line', () => warns().length === 2);
    expect(warns()[1]).toMatchObject({ problem: 'malformed', suppressed: 4 });
    await dev.endAsync(true);
  });
});
