/** The options of one MQTT instance: JSON Schema (validates, documents, draws the form) and its type. */
import type { EntityKind, InputUnit, JsonSchemaObject } from '@joulehub/core/sdk';
import type { MappingConfig } from './families/generic.js';

export interface MqttConfig {
  url: string;
  username?: string;
  password?: string;
  client_id?: string;
  ca?: string;
  cert?: string;
  key?: string;
  reject_unauthorized: boolean;
  port: number;
  host: string;
  broker_username?: string;
  broker_password?: string;
  require_auth: boolean;
  qos: 0 | 1;
  persistent_session: boolean;
  families: {
    tasmota: boolean;
    shelly_gen1: boolean;
    shelly_gen2: boolean;
    zigbee2mqtt: boolean;
    home_assistant: boolean;
    simulator: boolean;
  };
  zigbee2mqtt_base_topic: string;
  discovery_prefix: string;
  simulator_topic: string;
  simulator_kind: EntityKind;
  simulator_unit: InputUnit;
  mappings: MappingConfig[];
  command_timeout_ms: number;
  max_payload_bytes: number;
  reconnect_min_ms: number;
  reconnect_max_ms: number;
}

const KINDS = ['power', 'energy_total', 'energy_interval', 'voltage', 'current', 'frequency', 'power_factor', 'switch'];
const UNITS = ['W', 'kW', 'MW', 'Wh', 'kWh', 'MWh', 'Wmin', 'V', 'A', 'mA', 'Hz', '%', ''];

const family = (title: string, description: string) => ({ type: 'boolean', title, description, default: true, examples: [false] });

const mappingSchema = {
  type: 'object',
  title: 'Mapping',
  description: 'Readings from a topic the built-in families do not know.',
  default: {},
  examples: [{ topic: 'home/meter/+/power', device: 'meter_{1}', key: 'power', kind: 'power', unit: 'kW', value: '/ENERGY/Power' }],
  required: ['topic', 'key', 'kind'],
  additionalProperties: false,
  properties: {
    topic: { type: 'string', minLength: 1, title: 'Topic filter', description: 'MQTT topic filter; + and # wildcards allowed.', default: '', examples: ['home/meter/+/power'] },
    device: { type: 'string', minLength: 1, title: 'Device id', description: 'Device id; {1}, {2} … are what the wildcards matched. Default: the first wildcard, else the topic.', default: '{1}', examples: ['meter_{1}'] },
    device_name: { type: 'string', title: 'Device name', description: 'Display name of the device; {1} … as in device.', default: '', examples: ['Meter {1}'] },
    key: { type: 'string', pattern: '^[a-z0-9_]+$', title: 'Entity key', description: 'Key of the entity within the device (snake_case).', default: '', examples: ['power', 'energy'] },
    kind: { type: 'string', enum: KINDS, title: 'Kind', description: 'What the value measures.', default: 'power', examples: ['energy_total'] },
    unit: { type: 'string', enum: UNITS, title: 'Unit', description: 'Unit the device reports in (converted by the hub).', default: '', examples: ['kW', 'Wh'] },
    value: { type: 'string', title: 'Value path', description: 'Where the value is: empty for a plain payload, a JSON pointer (/ENERGY/Power) or a field path (ENERGY.Power, meters[0].power).', default: '', examples: ['/ENERGY/Power', 'meters[0].power'] },
    time: { type: 'string', title: 'Time path', description: 'Where the reading time is (ISO 8601 with offset, Unix s or ms); empty = when received.', default: '', examples: ['ts'] },
    scale: { type: 'number', not: { const: 0 }, title: 'Scale', description: 'Factor applied to the value before its unit is converted.', default: 1, examples: [0.001, 10] },
    name: { type: 'string', title: 'Entity name', description: 'Display name of the entity.', default: '', examples: ['Grid power'] },
    role: { type: 'string', enum: ['grid', 'pv', 'battery', 'load', 'ev', 'heat_pump', 'other'], title: 'Role', description: 'What the entity measures in the home.', default: 'load', examples: ['grid'] },
    flow: { type: 'string', enum: ['in', 'out'], title: 'Flow', description: "'out' for export or production counters.", default: 'in', examples: ['out'] },
    command_topic: { type: 'string', title: 'Command topic', description: 'For switches: topic to publish payload_on/payload_off to; {1} … as in device.', default: '', examples: ['home/plug/{1}/set'] },
    payload_on: { type: 'string', title: 'On payload', description: 'For switches: the payload meaning on (state and command).', default: 'ON', examples: ['1'] },
    payload_off: { type: 'string', title: 'Off payload', description: 'For switches: the payload meaning off (state and command).', default: 'OFF', examples: ['0'] },
  },
} as const;

export const configSchema: JsonSchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: {
      type: 'string', pattern: '^$|^(mqtts?|wss?|tcp|ssl)://', title: 'Broker URL',
      description: 'MQTT broker to connect to. Empty: run the embedded broker on `port` and connect to it. Environment: MQTT_URL.',
      default: '', examples: ['mqtt://localhost:1883', 'mqtts://broker.example.org:8883'],
    },
    username: { type: 'string', title: 'Username', description: 'Username for the broker at `url`.', default: '', examples: ['joulehub'] },
    password: { type: 'string', 'x-secret': true, title: 'Password', description: 'Password for the broker at `url`.', default: '', examples: ['secret'] },
    client_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{0,64}$', title: 'Client id', description: 'MQTT client id; keep it stable so the broker keeps the session (and queued QoS 1 readings) while the hub is away. Default: joulehub-<instance name>; two hubs on one broker need different ids.', default: '', examples: ['joulehub-garage'] },
    ca: { type: 'string', title: 'CA file', description: 'TLS (mqtts:// or wss:// URLs only): path of the PEM file of the CA that signed the broker\'s certificate, relative to the directory of joulehub.yaml. Empty: the system\'s trusted CAs.', default: '', examples: ['certs/ca.pem'] },
    cert: { type: 'string', title: 'Client certificate file', description: 'Mutual TLS: path of the PEM certificate the hub presents to the broker (with `key`), relative to the directory of joulehub.yaml.', default: '', examples: ['certs/hub.pem'] },
    key: { type: 'string', 'x-secret': true, title: 'Client key file', description: 'Mutual TLS: path of the PEM private key of `cert` (unencrypted), relative to the directory of joulehub.yaml. Keep the file itself readable only by the hub.', default: '', examples: ['certs/hub.key'] },
    reject_unauthorized: { type: 'boolean', title: 'Verify broker certificate', description: 'Refuse a broker whose TLS certificate does not verify against `ca` (or the system CAs) or does not name the URL\'s host. Turn off only for testing: anyone in between could read and change readings and commands.', default: true, examples: [false] },
    port: {
      type: 'integer', minimum: 0, maximum: 65535, title: 'Embedded broker port',
      description: 'Port of the embedded broker, used when `url` is empty; 0 disables it. Environment: MQTT_PORT.',
      default: 1883, examples: [1883, 1884, 0],
    },
    host: { type: 'string', minLength: 1, title: 'Embedded broker address', description: 'Interface the embedded broker listens on.', default: '0.0.0.0', examples: ['0.0.0.0', '127.0.0.1'] },
    broker_username: { type: 'string', title: 'Device username', description: 'When set, devices must log in to the embedded broker with this username and broker_password.', default: '', examples: ['devices'] },
    broker_password: { type: 'string', 'x-secret': true, title: 'Device password', description: 'Password devices use for the embedded broker.', default: '', examples: ['secret'] },
    require_auth: {
      type: 'boolean', title: 'Require hub logins',
      description: 'Devices must log in to the embedded broker with a hub account (username = email) or an API token with the ingest scope (username "token", password = the token). Such a login subscribes only to topics of its user\'s own devices (or of devices the hub does not know yet), without wildcards; admins to anything.',
      default: false, examples: [true],
    },
    qos: { type: 'integer', enum: [0, 1], title: 'Subscription QoS', description: '1: the broker redelivers what the hub did not acknowledge (nothing lost across reconnects); 0: at most once.', default: 1, examples: [0] },
    persistent_session: { type: 'boolean', title: 'Persistent session', description: 'Ask the broker to keep subscriptions and queue QoS 1 messages while the hub is disconnected.', default: true, examples: [false] },
    families: {
      type: 'object', additionalProperties: false, title: 'Device families', description: 'Built-in device families recognised without configuration.',
      default: {}, examples: [{ home_assistant: false }],
      properties: {
        tasmota: family('Tasmota', 'tele/<topic>/SENSOR, STATE, LWT; cmnd/<topic>/POWER.'),
        shelly_gen1: family('Shelly Gen1', 'shellies/<id>/relay|emeter/…, online; relay/<n>/command.'),
        shelly_gen2: family('Shelly Gen2+', '<prefix>/status/switch:<n>, em, em1, pm1, events/rpc, online; <prefix>/rpc.'),
        zigbee2mqtt: family('zigbee2mqtt', '<base>/<friendly name>, availability; <base>/<name>/set.'),
        home_assistant: family('Home Assistant discovery', '<prefix>/<component>/…/config for sensors and switches.'),
        simulator: family('Metering simulators', 'JSON {timestamp, device_id, measurement_value} on simulator_topic.'),
      },
    },
    zigbee2mqtt_base_topic: { type: 'string', minLength: 1, title: 'zigbee2mqtt base topic', description: 'Base topic of zigbee2mqtt.', default: 'zigbee2mqtt', examples: ['z2m'] },
    discovery_prefix: { type: 'string', minLength: 1, title: 'Discovery prefix', description: 'Home Assistant discovery prefix.', default: 'homeassistant', examples: ['ha'] },
    simulator_topic: { type: 'string', minLength: 1, title: 'Simulator topic', description: 'Topic filter of metering-simulator readings.', default: 'energy/+/reading', examples: ['sim/+/reading'] },
    simulator_kind: { type: 'string', enum: KINDS.filter((k) => k !== 'switch'), title: 'Simulator kind', description: 'What a simulator value measures when its payload names no unit.', default: 'energy_total', examples: ['power'] },
    simulator_unit: { type: 'string', enum: UNITS, title: 'Simulator unit', description: 'Unit of a simulator value when its payload names none.', default: 'kWh', examples: ['W'] },
    mappings: { type: 'array', title: 'Mappings', description: 'Topics of devices the families do not know.', default: [], examples: [[mappingSchema.examples[0]]], items: mappingSchema },
    command_timeout_ms: { type: 'integer', minimum: 100, title: 'Command timeout (ms)', description: 'A switch command the device has not confirmed within this time is recorded as failed.', default: 5000, examples: [10000] },
    max_payload_bytes: { type: 'integer', minimum: 64, title: 'Largest payload (bytes)', description: 'Larger messages are refused and counted as oversized.', default: 65536, examples: [16384] },
    reconnect_min_ms: { type: 'integer', minimum: 10, title: 'First reconnect delay (ms)', description: 'Delay before the first reconnect attempt; doubles per failure.', default: 1000, examples: [500] },
    reconnect_max_ms: { type: 'integer', minimum: 10, title: 'Longest reconnect delay (ms)', description: 'Cap of the reconnect backoff.', default: 60000, examples: [30000] },
  },
};

export function withDefaults(raw: Partial<MqttConfig>): MqttConfig {
  const fam = raw.families ?? ({} as Partial<MqttConfig['families']>);
  return {
    url: raw.url ?? '',
    ...(raw.username ? { username: raw.username } : {}),
    ...(raw.password ? { password: raw.password } : {}),
    ...(raw.client_id ? { client_id: raw.client_id } : {}),
    ...(raw.ca ? { ca: raw.ca } : {}),
    ...(raw.cert ? { cert: raw.cert } : {}),
    ...(raw.key ? { key: raw.key } : {}),
    reject_unauthorized: raw.reject_unauthorized ?? true,
    port: raw.port ?? 1883,
    host: raw.host ?? '0.0.0.0',
    ...(raw.broker_username ? { broker_username: raw.broker_username } : {}),
    ...(raw.broker_password ? { broker_password: raw.broker_password } : {}),
    require_auth: raw.require_auth ?? false,
    qos: raw.qos ?? 1,
    persistent_session: raw.persistent_session ?? true,
    families: {
      tasmota: fam.tasmota ?? true,
      shelly_gen1: fam.shelly_gen1 ?? true,
      shelly_gen2: fam.shelly_gen2 ?? true,
      zigbee2mqtt: fam.zigbee2mqtt ?? true,
      home_assistant: fam.home_assistant ?? true,
      simulator: fam.simulator ?? true,
    },
    zigbee2mqtt_base_topic: raw.zigbee2mqtt_base_topic ?? 'zigbee2mqtt',
    discovery_prefix: raw.discovery_prefix ?? 'homeassistant',
    simulator_topic: raw.simulator_topic ?? 'energy/+/reading',
    simulator_kind: raw.simulator_kind ?? 'energy_total',
    simulator_unit: raw.simulator_unit ?? 'kWh',
    mappings: raw.mappings ?? [],
    command_timeout_ms: raw.command_timeout_ms ?? 5000,
    max_payload_bytes: raw.max_payload_bytes ?? 65536,
    reconnect_min_ms: raw.reconnect_min_ms ?? 1000,
    reconnect_max_ms: raw.reconnect_max_ms ?? 60000,
  };
}
