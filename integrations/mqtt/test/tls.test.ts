/**
 * `mqtts://` to an external broker, with real parts: a throwaway PKI made by openssl, a private
 * Mosquitto with a TLS listener, the hub's MQTT instance and an mqtt.js device that trusts the CA.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { captureLog } from '../../../core/test/hub/support.js';
import { describeDb } from '../../../core/test/support/db.js';
import {
  client, describeMosquitto, hasMosquittoBinary, hasOpenssl, privateMosquitto, startMqttHub, testCertificates, uid, waitFor,
  type MqttHub, type PrivateMosquitto, type TestCertificates,
} from './support.js';

const missing = !hasMosquittoBinary() ? 'the mosquitto binary is not installed (apt-get install mosquitto)'
  : !hasOpenssl() ? 'openssl is not installed' : undefined;

describeDb('mqtt over TLS to an external broker', (target) => {
  describeMosquitto('private Mosquitto with TLS listeners', missing, () => {
    let certs: TestCertificates;
    let tls: PrivateMosquitto;
    let mutual: PrivateMosquitto;
    let h: MqttHub | undefined;
    beforeAll(async () => {
      certs = testCertificates();
      tls = await privateMosquitto({ tls: { cafile: certs.ca, certfile: certs.serverCert, keyfile: certs.serverKey } });
      mutual = await privateMosquitto({ tls: { cafile: certs.ca, certfile: certs.serverCert, keyfile: certs.serverKey, requireCertificate: true } });
    });
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });
    afterAll(async () => {
      await tls?.remove();
      await mutual?.remove();
      certs?.remove();
    });

    const hubConfig = (url: string, extra: Record<string, unknown> = {}) =>
      ({ url, client_id: uid('jhtls-'), persistent_session: false, reconnect_min_ms: 50, reconnect_max_ms: 200, ...extra });

    it('connects with `ca` and receives a device publishing over TLS', async () => {
      expect(tls.url).toMatch(/^mqtts:\/\//);
      h = await startMqttHub({ dbUrl: target.url, config: hubConfig(tls.url, { ca: certs.ca }) });
      expect(h.hub.integrations()[0]).toMatchObject({ status: 'running' });
      const device = await client(tls.url, { ca: readPem(certs.ca) });
      try {
        const name = uid('jhtls');
        await device.publishAsync(`zigbee2mqtt/${name}`, '{"power":230}', { qos: 1 });
        await waitFor('reading over TLS', () => h!.state(`${name}.power`)?.value === 230);
      } finally {
        await device.endAsync(true);
      }
      expect((await h.diagnostics()).broker).toMatchObject({ mode: 'external', connected: true, url: tls.url });
    });

    it('refuses a broker certificate from another CA with a clear, logged reason; the hub keeps running and retries', async () => {
      const cap = captureLog();
      h = await startMqttHub({ dbUrl: target.url, config: hubConfig(tls.url, { ca: certs.otherCa }), log: cap.log });
      const first = h.hub.integrations()[0];
      expect(first).toMatchObject({ status: 'not_ready', attempts: 1 });
      expect(first.error).toMatch(/TLS certificate is not trusted.*set `ca` to the PEM file of the CA/s);
      const warned = cap.lines.find((l) => String(l.msg).startsWith('integration not ready'));
      expect(warned).toMatchObject({ code: 'MQTT_TLS' });
      expect(String(warned?.msg)).toContain(certs.otherCa);

      // The hub itself keeps running and retries the instance with backoff on its clock.
      await h.clock.advance(1_000);
      await waitFor('second attempt', () => h!.hub.integrations()[0].attempts === 2);
      expect(h.hub.integrations()[0]).toMatchObject({ status: 'not_ready' });
    });

    it('TLS files with a plain mqtt:// URL are a configuration error, not silently ignored', async () => {
      h = await startMqttHub({ dbUrl: target.url, config: hubConfig(tls.url.replace('mqtts:', 'mqtt:'), { ca: certs.ca }) });
      const status = h.hub.integrations()[0];
      expect(status).toMatchObject({ status: 'config_error' });
      expect(status.error).toMatch(/ca set, but mqtt:\/\/127\.0\.0\.1:\d+ is not a TLS URL: use mqtts:\/\//);
    });

    it('mutual TLS: a client certificate and key get in; without them the broker refuses, with the reason', async () => {
      h = await startMqttHub({ dbUrl: target.url, config: hubConfig(mutual.url, { ca: certs.ca }) });
      const refused = h.hub.integrations()[0];
      expect(refused).toMatchObject({ status: 'not_ready' });
      expect(refused.error).toMatch(/requires a client certificate: set `cert` and `key`/);
      await h.close();

      h = await startMqttHub({ dbUrl: target.url, config: hubConfig(mutual.url, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }) });
      expect(h.hub.integrations()[0]).toMatchObject({ status: 'running' });
      const device = await client(mutual.url, { ca: readPem(certs.ca), cert: readPem(certs.clientCert), key: readPem(certs.clientKey) });
      try {
        const name = uid('jhmtls');
        await device.publishAsync(`tele/${name}/SENSOR`, JSON.stringify({ ENERGY: { Total: 1.5, Power: 40 } }), { qos: 1 });
        await waitFor('reading over mutual TLS', () => h!.state(`${name}.power`)?.value === 40);
      } finally {
        await device.endAsync(true);
      }
    });
  });
});

function readPem(file: string): Buffer {
  return readFileSync(file);
}
