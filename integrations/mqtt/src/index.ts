/**
 * @joulehub/integration-mqtt — devices that speak MQTT, with no hand-written mapping: Tasmota,
 * Shelly Gen1 and Gen2+, zigbee2mqtt, Home Assistant discovery, metering simulators, plus generic
 * mappings from config. Connects to the broker at `url`, or runs the embedded one on `port`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, defineIntegration, NotReadyError, type IntegrationContext } from '@joulehub/core/sdk';
import { startBroker, type EmbeddedBroker } from './broker.js';
import { hubLogin } from './broker-auth.js';
import { Connection, defaultClientId, MqttTlsError, type TlsFiles } from './connection.js';
import { CounterContinuity } from './counters.js';
import { compileMapping, generic, type CompiledMapping } from './families/generic.js';
import { shellyGen1 } from './families/shelly-gen1.js';
import { shellyGen2 } from './families/shelly-gen2.js';
import { simulator } from './families/simulator.js';
import { tasmota } from './families/tasmota.js';
import { zigbee2mqtt } from './families/zigbee2mqtt.js';
import type { Family } from './model.js';
import { Router } from './router.js';
import { configSchema, withDefaults, type MqttConfig } from './schema.js';
import { topicDevices, type TopicDevices } from './topic-devices.js';

export { configSchema, type MqttConfig } from './schema.js';

/** How long setup waits for the first connection before reporting the broker not ready. */
const FIRST_CONNECT_MS = 10_000;

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function families(config: MqttConfig, mappings: CompiledMapping[]): Family[] {
  const out: Family[] = [];
  // Mappings first: what the user wrote wins over a family's guess.
  if (mappings.length) out.push(generic(mappings));
  const f = config.families;
  if (f.tasmota) out.push(tasmota);
  if (f.shelly_gen1) out.push(shellyGen1);
  if (f.zigbee2mqtt) out.push(zigbee2mqtt(config.zigbee2mqtt_base_topic));
  if (f.simulator) out.push(simulator({ topic: config.simulator_topic, kind: config.simulator_kind, unit: config.simulator_unit }));
  if (f.shelly_gen2) out.push(shellyGen2);
  return out;
}

function tlsPath(ctx: IntegrationContext, config: MqttConfig, key: 'ca' | 'cert' | 'key'): string | undefined {
  const file = config[key];
  return file ? path.resolve(ctx.configDir, file) : undefined;
}

function readTls(ctx: IntegrationContext, config: MqttConfig, key: 'ca' | 'cert' | 'key'): Buffer | undefined {
  const full = tlsPath(ctx, config, key);
  if (!full) return undefined;
  try {
    return readFileSync(full);
  } catch (err) {
    throw new ConfigError('MQTT_TLS_FILE', `cannot read ${key} file ${full}: ${(err as Error).message}`, { path: key });
  }
}

export default defineIntegration<Partial<MqttConfig>>({
  manifest: {
    id: 'mqtt',
    name: 'MQTT',
    version: '0.1.0',
    sdk: '^1.0.0',
    iotClass: 'local_push',
    docs: 'integrations/mqtt/README.md',
  },
  configSchema,
  async setup(ctx, raw) {
    const config = withDefaults(raw);
    const mappings = config.mappings.map((m, i) => {
      try {
        return compileMapping(m);
      } catch (err) {
        throw new ConfigError('MQTT_BAD_MAPPING', `mappings[${i}]: ${(err as Error).message}`, { path: `mappings[${i}]` });
      }
    });
    const tls = { ca: readTls(ctx, config, 'ca'), cert: readTls(ctx, config, 'cert'), key: readTls(ctx, config, 'key') };
    const tlsFiles: TlsFiles = {};
    for (const k of ['ca', 'cert', 'key'] as const) {
      const full = tlsPath(ctx, config, k);
      if (full) tlsFiles[k] = full;
    }

    let broker: EmbeddedBroker | undefined;
    // The broker's subscription check maps topics to devices through the router, made below.
    let devicesOf: TopicDevices | undefined;
    // The hub's own login to its embedded broker: random per start, never in the config or a log.
    const ownLogin = hubLogin();
    let url = config.url;
    if (!url) {
      if (config.port === 0) {
        ctx.log.info('MQTT is off: no MQTT_URL and the embedded broker is disabled (MQTT_PORT=0)');
        return { stop() {}, diagnostics: () => ({ broker: { mode: 'off' } }) };
      }
      try {
        if (config.require_auth && !ctx.credentials) {
          throw new ConfigError('MQTT_AUTH_UNAVAILABLE', 'require_auth needs hub accounts, and this hub has none to check logins against');
        }
        broker = await startBroker({
          port: config.port, host: config.host, username: config.broker_username, password: config.broker_password,
          hub: ownLogin, requireAuth: config.require_auth, ...(ctx.credentials ? { credentials: ctx.credentials } : {}),
          topicDevices: () => devicesOf, log: ctx.log,
        });
      } catch (err) {
        if ((err as { code?: string }).code === 'EADDRINUSE') {
          throw new ConfigError(
            'MQTT_PORT_IN_USE',
            `MQTT port ${config.port} is already in use (another MQTT broker?); running without the embedded broker. ` +
              `Set MQTT_URL=mqtt://127.0.0.1:${config.port} to use that broker, or MQTT_PORT to a free port (0 turns MQTT off).`,
            { port: config.port },
          );
        }
        throw new NotReadyError('MQTT_BROKER_FAILED', `the embedded MQTT broker did not start: ${(err as Error).message}`, { port: config.port });
      }
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      url = `mqtt://${host.includes(':') ? `[${host}]` : host}:${broker.port}`;
      ctx.log.info({
        port: broker.port, host: config.host,
        auth: config.require_auth ? 'hub accounts and API tokens' : config.broker_username || config.broker_password ? 'device login' : 'none',
      }, 'embedded MQTT broker listening');
    }

    const counters = await CounterContinuity.load(ctx.kv);
    let conn: Connection | undefined;
    const router = new Router(ctx, {
      families: families(config, mappings),
      ...(config.families.home_assistant ? { discoveryPrefix: config.discovery_prefix } : {}),
      maxPayloadBytes: config.max_payload_bytes,
      counters,
      commandTimeoutMs: config.command_timeout_ms,
      subscribe: async (f) => conn?.subscribe(f),
      unsubscribe: async (f) => conn?.unsubscribe(f),
    });
    devicesOf = topicDevices(router);
    const clientId = config.client_id || defaultClientId(ctx.instanceId);
    const brokerUser = broker ? ownLogin.username : config.username;
    const brokerPass = broker ? ownLogin.password : config.password;
    try {
      conn = await Connection.open({
        url,
        clientId,
        ...(brokerUser ? { username: brokerUser } : {}),
        ...(brokerPass ? { password: brokerPass } : {}),
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        tlsFiles,
        rejectUnauthorized: config.reject_unauthorized,
        persistentSession: config.persistent_session,
        qos: config.qos,
        reconnectMinMs: config.reconnect_min_ms,
        reconnectMaxMs: config.reconnect_max_ms,
        onMessage: (topic, payload) => {
          try {
            router.handle(topic, payload);
          } catch (err) {
            // Never let one message take the connection (and the hub) down.
            ctx.log.error({ err, topic }, 'handling an MQTT message failed');
          }
        },
        onUp: () => {
          router.setConnected(true);
          ctx.log.info({ url: redact(url) }, 'connected to the MQTT broker');
        },
        onDown: () => {
          router.setConnected(false);
          ctx.log.warn({ url: redact(url) }, 'lost the MQTT broker; devices unavailable until it is back');
        },
      }, FIRST_CONNECT_MS);
    } catch (err) {
      await broker?.close();
      if (err instanceof MqttTlsError) {
        const text = `TLS to the MQTT broker at ${redact(url)} failed: ${err.message}`;
        if (err.fix === 'config') throw new ConfigError('MQTT_TLS_URL', text, { path: 'url' });
        throw new NotReadyError('MQTT_TLS', text, { url: redact(url), ...(err.reason ? { reason: err.reason } : {}) });
      }
      const code = (err as { code?: unknown }).code;
      if (code === 4 || code === 5) {
        throw new ConfigError('MQTT_AUTH', `the MQTT broker at ${redact(url)} refused the login: ${(err as Error).message}`);
      }
      throw new NotReadyError('MQTT_UNREACHABLE', `cannot reach the MQTT broker at ${redact(url)}: ${(err as Error).message}`);
    }
    await conn.subscribe(router.baseSubscriptions());
    const save = ctx.scheduler.every(30_000, () => counters.save());
    ctx.log.info({ url: redact(url), subscriptions: conn.subscriptions.length }, 'MQTT integration running');
    const c = conn;

    return {
      async stop() {
        save.stop();
        router.commands.stop();
        await counters.save().catch(() => undefined);
        await c.close();
        await broker?.close();
      },
      async onCommand(command) {
        await router.command(command, (topic, payload) => c.publish(topic, payload, 1));
      },
      diagnostics() {
        return {
          broker: {
            mode: broker ? 'embedded' : 'external',
            url: redact(url),
            ...(broker ? { port: broker.port } : {}),
            client_id: clientId,
            connected: c.connected,
            connects: c.connects,
            disconnects: c.disconnects,
            ...(c.lastError ? { last_error: c.lastError } : {}),
          },
          subscriptions: c.subscriptions,
          ...router.snapshot(),
        };
      },
    };
  },
});
