/**
 * MQTT on by default: the `mqtt` section of joulehub.yaml and MQTT_URL / MQTT_PORT become the hub's
 * default mqtt instance (loaded as the package @joulehub/integration-mqtt, like `npm start`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/src/hub/config.js';
import { instanceEntries } from '../../../core/src/hub/hub.js';
import { describeDb } from '../../../core/test/support/db.js';
import { client, freePort, startMqttHub, waitFor, type MqttHub } from './support.js';

function configIn(files: Record<string, string>, env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'jh-mqtt-cfg-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(cwd, name), text);
  try {
    return loadConfig({ cwd, env });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe('the mqtt section and its environment', () => {
  it('with nothing configured: the embedded broker on 1883, as the default mqtt instance', () => {
    const config = configIn({});
    expect(config.mqtt).toMatchObject({});
    const entries = instanceEntries(config);
    expect(entries).toEqual([expect.objectContaining({ id: 'mqtt', name: 'mqtt', config: {} })]);
  });

  it('MQTT_URL and MQTT_PORT override the file; other options pass through to the integration', () => {
    const yaml = 'mqtt:\n  url: mqtt://broker:1883\n  port: 1884\n  username: hub\n  families: { home_assistant: false }\n';
    expect(instanceEntries(configIn({ 'joulehub.yaml': yaml }))[0].config).toEqual({ url: 'mqtt://broker:1883', port: 1884, username: 'hub', families: { home_assistant: false } });
    const env = instanceEntries(configIn({ 'joulehub.yaml': yaml }, { MQTT_URL: 'mqtts://other:8883', MQTT_PORT: '0' }))[0];
    expect(env.config).toMatchObject({ url: 'mqtts://other:8883', port: 0, username: 'hub' });
    expect(env.source).toMatchObject({ file: 'joulehub.yaml', line: 1, path: 'mqtt', lines: expect.objectContaining({ 'config.username': 4 }) });
  });

  it('a bad MQTT_PORT names the variable', () => {
    expect(() => configIn({}, { MQTT_PORT: 'eighteen' })).toThrow(/environment: MQTT_PORT must be integer/);
    expect(() => configIn({}, { MQTT_URL: 'http://x' })).toThrow(/environment: MQTT_URL must match pattern/);
  });

  it('no default instance when one is configured, or when the section says enabled: false', () => {
    const own = configIn({ 'joulehub.yaml': 'integrations:\n  - id: mqtt\n    name: garage\n    config: { url: "mqtt://garage:1883" }\n' });
    expect(instanceEntries(own).map((e) => e.name)).toEqual(['garage']);
    expect(instanceEntries(configIn({ 'joulehub.yaml': 'mqtt:\n  enabled: false\n' }))).toEqual([]);
    // MQTT_PORT=0 and no URL: MQTT off; with a URL the port is irrelevant.
    expect(instanceEntries(configIn({}, { MQTT_PORT: '0' }))).toEqual([]);
    expect(instanceEntries(configIn({}, { MQTT_PORT: '0', MQTT_URL: 'mqtt://b:1883' }))).toHaveLength(1);
  });
});

describeDb('the default mqtt instance on a hub', (target) => {
  let h: MqttHub | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('is loaded as a package and takes devices on the embedded broker', async () => {
    const port = await freePort();
    h = await startMqttHub({ dbUrl: target.url, byPackage: true, hubConfig: { mqtt: { port, host: '127.0.0.1' } } });
    expect(h.hub.integrations()).toEqual([expect.objectContaining({ instanceId: 'mqtt', integrationId: 'mqtt', status: 'running' })]);
    const dev = await client(`mqtt://127.0.0.1:${port}`);
    await dev.publishAsync('zigbee2mqtt/hall_plug', '{"power":42,"energy":3.5,"state":"ON"}', { qos: 1 });
    await dev.endAsync(true);
    await waitFor('device', () => h!.state('hall_plug.power')?.value === 42);
  });

  it('a taken MQTT_PORT: the hub keeps running and says how to get out', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      h = await startMqttHub({ dbUrl: target.url, byPackage: true, hubConfig: { mqtt: { port, host: '127.0.0.1' } } });
      const [status] = h.hub.integrations();
      expect(status.status).toBe('config_error');
      expect(status.error).toContain('MQTT_URL');
      expect(status.error).toContain('MQTT_PORT');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it("an invalid option in the section names the user's line", async () => {
    const config = configIn({ 'joulehub.yaml': 'tz: UTC\nmqtt:\n  url: mqtt://127.0.0.1:1\n  qos: 2\n' });
    h = await startMqttHub({ dbUrl: target.url, byPackage: true, hubConfig: { mqtt: config.mqtt } });
    const [status] = h.hub.integrations();
    expect(status.status).toBe('config_error');
    expect(status.error).toBe("joulehub.yaml:4: mqtt.config.qos must be one of: 0, 1");
  });
});
