/**
 * Against real Mosquitto: the shared one at 127.0.0.1:1883 (unique topics and client ids; other runs
 * share it) with `mosquitto_pub` and mqtt.js, and a private Mosquitto process with persistence that
 * the test restarts: entities unavailable while it is gone, resubscribed after, nothing lost at QoS 1.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeDb } from '../../../core/test/support/db.js';
import {
  client, describeMosquitto, hasMosquittoBinary, mosquittoPub, mosquittoSkipReason, privateMosquitto, SHARED_MOSQUITTO, startMqttHub, uid, waitFor,
  type MqttHub, type PrivateMosquitto,
} from './support.js';

const reason = await mosquittoSkipReason();
const binary = hasMosquittoBinary() ? undefined : 'the mosquitto binary is not installed (apt-get install mosquitto)';

describeDb('mqtt integration, shared Mosquitto', (target) => {
  describeMosquitto('at 127.0.0.1:1883', reason, () => {
    let h: MqttHub;
    afterEach(async () => h?.close());

    it('a device published with mosquitto_pub appears; a switch command round-trips through mqtt.js', async () => {
      h = await startMqttHub({
        dbUrl: target.url,
        config: { url: `mqtt://${SHARED_MOSQUITTO.host}:${SHARED_MOSQUITTO.port}`, client_id: uid('jhtest-hub-'), persistent_session: false },
      });
      const name = uid('jhplug');
      mosquittoPub(SHARED_MOSQUITTO, `tele/${name}/SENSOR`, JSON.stringify({ ENERGY: { Total: 2.5, Power: 120 } }));
      await waitFor('device', () => h.state(`${name}.power`)?.value === 120);
      expect(h.state(`${name}.energy`)?.value).toBe(2.5);
      expect(await h.samples(`${name}.energy`)).toHaveLength(1);

      // A plug that answers its commands, on mqtt.js.
      const plug = await client(`mqtt://${SHARED_MOSQUITTO.host}:${SHARED_MOSQUITTO.port}`);
      try {
        await plug.subscribeAsync(`cmnd/${name}/POWER`, { qos: 1 });
        plug.on('message', (_t, payload) => void plug.publishAsync(`stat/${name}/POWER`, payload.toString() === 'ON' ? 'ON' : 'OFF', { qos: 1 }));
        await plug.publishAsync(`stat/${name}/POWER`, 'OFF', { qos: 1 });
        await waitFor('switch off', () => h.state(`${name}.switch`)?.text === 'off');
        await h.hub.sendCommand({ entityId: `${name}.switch`, command: 'turn_on' });
        await waitFor('switch on', () => h.state(`${name}.switch`)?.text === 'on');
        expect((await h.diagnostics()).commands).toMatchObject({ sent: 1, confirmed: 1, failed: 0 });
      } finally {
        await plug.endAsync(true);
      }
    });
  });
});

describeDb('mqtt integration, Mosquitto restart', (target) => {
  describeMosquitto('private Mosquitto with persistence', binary, () => {
    let m: PrivateMosquitto;
    let h: MqttHub;
    beforeAll(async () => {
      m = await privateMosquitto();
    });
    afterAll(async () => {
      await h?.close();
      await m?.remove();
    });

    it('while the broker is gone entities are unavailable; after it is back the hub has resubscribed and nothing sent at QoS 1 is lost', async () => {
      h = await startMqttHub({
        dbUrl: target.url,
        config: { url: m.url, client_id: uid('jhtest-hub-'), reconnect_min_ms: 100, reconnect_max_ms: 400 },
      });
      const meter = await client(m.url, { clientId: uid('jhtest-meter-') });
      const send = (i: number) => meter.publishAsync('energy/restart-meter/reading', JSON.stringify({ timestamp: Date.UTC(2026, 0, 1, 0, i), device_id: 'restart-meter', value: i }), { qos: 1 });
      try {
        for (let i = 0; i < 10; i++) await send(i);
        await waitFor('first ten', async () => (await h.samples('restart-meter.energy')).length === 10);
        expect(h.state('restart-meter.energy')?.available).toBe(true);

        await m.stop();
        await waitFor('unavailable while the broker is gone', () => h.state('restart-meter.energy')?.available === false);
        // The meter keeps publishing at QoS 1: mqtt.js queues while offline and resends.
        const pending = [10, 11, 12, 13, 14].map((i) => send(i));
        await m.start();
        await Promise.all(pending);
        for (let i = 15; i < 20; i++) await send(i);
        // Readings (at the meter's own times), plus the null the hub records when the device went unavailable.
        const readings = async () => (await h.samples('restart-meter.energy')).map(([, v]) => v).filter((v) => v !== null);
        await waitFor('all twenty', async () => (await readings()).length === 20, 20_000);
        expect(await readings()).toEqual(Array.from({ length: 20 }, (_, i) => i));
        await waitFor('available again', () => h.state('restart-meter.energy')?.available === true);
        const d = await h.diagnostics();
        expect(d.broker).toMatchObject({ connected: true, disconnects: 1 });
        expect(d.broker.connects).toBeGreaterThanOrEqual(2);
      } finally {
        await meter.endAsync(true);
      }
    });
  });
});
