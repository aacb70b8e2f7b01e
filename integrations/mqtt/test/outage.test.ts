/**
 * A new MQTT device whose first messages arrive while the hub's database is down: its registration
 * cannot be stored then, so its messages wait in memory, in order, and are delivered once the
 * database is back (a real PostgreSQL server of the test's own, stopped and started again).
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedUnavailable, startOwnServer, testLogger, type OwnServer } from '../../../core/test/support/embedded-server.js';
import { client, freePort, startMqttHub, T0, waitFor, type MqttHub } from './support.js';

describe.skipIf(embeddedUnavailable())('mqtt integration across a database outage', () => {
  let own: OwnServer;
  let h: MqttHub | undefined;
  let dev: MqttClient | undefined;

  beforeEach(async () => {
    own = await startOwnServer(testLogger());
  });
  afterEach(async () => {
    await dev?.endAsync(true);
    await h?.close();
    await own.dispose();
  });

  it('a device first seen during the outage is registered when the database is back, with every reading it sent', async () => {
    const port = await freePort();
    h = await startMqttHub({ dbUrl: own.server.url, config: { port, host: '127.0.0.1' } });
    dev = await client(`mqtt://127.0.0.1:${port}`);
    const pub = (payload: unknown) => dev!.publishAsync('tele/shed_plug/SENSOR', JSON.stringify(payload), { qos: 1 });

    await own.server.stop();
    // Tasmota readings carry no usable time: they are taken at receipt (the hub clock), not when delivered.
    await pub({ ENERGY: { TotalStartTime: '2026-01-01T00:00:00', Total: 5.0, Power: 100 } });
    await waitFor('the first message counted', async () => (await h!.diagnostics()).devices?.shed_plug?.messages === 1);
    await h.clock.advance(60_000);
    await pub({ ENERGY: { TotalStartTime: '2026-01-01T00:00:00', Total: 5.002, Power: 150 } });
    // The hub received both but cannot register the device yet: nothing of it exists.
    await waitFor('both messages counted', async () => (await h!.diagnostics()).devices?.shed_plug?.messages === 2);
    expect(h.hub.entities.get('shed_plug.power')).toBeUndefined();

    await own.restart();
    // Registration is retried with backoff on the hub clock.
    await waitFor('the device registered after the outage', async () => {
      await h!.clock.advance(1_000);
      return h!.hub.entities.get('shed_plug.power');
    }, 30_000);
    await waitFor('both power readings stored', async () => (await h!.samples('shed_plug.power')).length === 2, 30_000);
    expect(await h.samples('shed_plug.power')).toEqual([[T0, 100], [T0 + 60_000, 150]]);
    expect((await h.samples('shed_plug.energy')).map(([t]) => t)).toEqual([T0, T0 + 60_000]);
    expect(h.state('shed_plug.power')?.value).toBe(150);
  }, 90_000);
});
