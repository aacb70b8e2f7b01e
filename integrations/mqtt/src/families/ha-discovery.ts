/**
 * Home Assistant MQTT discovery (device-formats §6.7): `<prefix>/<component>/[<node>/]<object>/config`
 * and device-based `<prefix>/device/<id>/config` with a `cmps` map. Long and abbreviated keys, `~`
 * topic prefixes, sensors and switches; an empty payload removes what the topic announced. A config
 * Joulehub cannot honour yields a rejection with its reason (unknown unit, impossible class/unit
 * pair, unsupported template) instead of being dropped silently; keys we do not know are listed.
 */
import type { DeviceInfo, EntityInfo, EntityKind, InputUnit } from '@joulehub/core/sdk';
import { deviceId, entityKey } from '../ids.js';
import { isObject, parseJson, toNumber } from '../values.js';
import { compileTemplate, renderTemplate, type CompiledTemplate } from './ha-template.js';

/** Abbreviations (homeassistant/components/mqtt/abbreviations.py) of the keys this parser reads or knowingly skips. */
const ABBREVIATIONS: Record<string, string> = {
  avty: 'availability', avty_mode: 'availability_mode', avty_t: 'availability_topic', avty_tpl: 'availability_template',
  cmd_t: 'command_topic', cmd_tpl: 'command_template', dev: 'device', dev_cla: 'device_class', en: 'enabled_by_default',
  ent_cat: 'entity_category', ent_pic: 'entity_picture', exp_aft: 'expire_after', frc_upd: 'force_update', ic: 'icon',
  json_attr_t: 'json_attributes_topic', json_attr_tpl: 'json_attributes_template', lrst_t: 'last_reset_topic',
  lrst_val_tpl: 'last_reset_value_template', obj_id: 'object_id', def_ent_id: 'default_entity_id', opt: 'optimistic', o: 'origin',
  pl_avail: 'payload_available', pl_not_avail: 'payload_not_available', pl_off: 'payload_off', pl_on: 'payload_on',
  ret: 'retain', stat_cla: 'state_class', stat_off: 'state_off', stat_on: 'state_on', stat_t: 'state_topic',
  stat_val_tpl: 'state_value_template', sug_dsp_prc: 'suggested_display_precision', uniq_id: 'unique_id',
  unit_of_meas: 'unit_of_measurement', val_tpl: 'value_template', p: 'platform', cmps: 'components', t: 'topic',
  qos: 'qos', name: 'name',
};
const DEVICE_ABBREVIATIONS: Record<string, string> = {
  cns: 'connections', ids: 'identifiers', mf: 'manufacturer', mdl: 'model', mdl_id: 'model_id', hw: 'hw_version',
  sw: 'sw_version', sa: 'suggested_area', sn: 'serial_number', cu: 'configuration_url', via_device: 'via_device', name: 'name',
};
const KNOWN = new Set([...Object.values(ABBREVIATIONS), '~', 'platform', 'encoding', 'enabled_by_default', 'has_entity_name', 'display_precision', 'options', 'schema']);

const POWER_UNITS: InputUnit[] = ['W', 'kW', 'MW'];
const ENERGY_UNITS: InputUnit[] = ['Wh', 'kWh', 'MWh'];
const UNITS: Record<string, InputUnit[]> = {
  power: POWER_UNITS, energy: ENERGY_UNITS, voltage: ['V'], current: ['A', 'mA'], frequency: ['Hz'], power_factor: ['%', ''],
};
/** Device classes that are not electricity Joulehub records: skipped quietly, with the reason listed. */
const NOT_OURS = new Set([
  'temperature', 'humidity', 'battery', 'signal_strength', 'illuminance', 'pressure', 'apparent_power', 'reactive_power',
  'reactive_energy', 'gas', 'water', 'monetary', 'timestamp', 'duration', 'distance', 'speed', 'volume', 'weight',
  'carbon_dioxide', 'pm25', 'pm10', 'enum', 'date', 'data_size', 'data_rate', 'moisture', 'irradiance', 'volatile_organic_compounds',
  'energy_storage', 'voltage_ratio',
]);

export interface Availability { topic: string; available: string; notAvailable: string; template: CompiledTemplate | null }

export interface DiscoveredEntity {
  /** Config topic, plus `#<component id>` for device-based discovery. */
  id: string;
  configTopic: string;
  component: 'sensor' | 'switch';
  device: DeviceInfo;
  entity: EntityInfo;
  stateTopic: string;
  template: CompiledTemplate | null;
  commandTopic?: string;
  payloadOn: string;
  payloadOff: string;
  stateOn: string;
  stateOff: string;
  availability: Availability[];
  unknownKeys: string[];
}

export type DiscoveryResult =
  | { kind: 'entity'; entity: DiscoveredEntity }
  | { kind: 'removed'; configTopic: string }
  /** `skip`: a well-formed config of something Joulehub does not record; `reject`: a config it cannot honour. */
  | { kind: 'rejected'; id: string; configTopic: string; reason: string; severity: 'skip' | 'reject'; deviceId?: string };

/** Matches a discovery config topic: [component, node?, object]. */
export function matchDiscoveryTopic(topic: string, prefix: string): { component: string; node?: string; object: string } | null {
  if (!topic.startsWith(`${prefix}/`) || !topic.endsWith('/config')) return null;
  const parts = topic.slice(prefix.length + 1, -'/config'.length).split('/');
  if (parts.length === 2) return { component: parts[0], object: parts[1] };
  if (parts.length === 3) return { component: parts[0], node: parts[1], object: parts[2] };
  return null;
}

function expand(raw: Record<string, unknown>, table: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) out[table[k] ?? k] = v;
  return out;
}

function expandTopic(v: unknown, base: string | undefined): string | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  if (base === undefined) return v;
  if (v.startsWith('~')) return base + v.slice(1);
  if (v.endsWith('~')) return v.slice(0, -1) + base;
  return v;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

function deviceOf(cfg: Record<string, unknown>, fallbackId: string): DeviceInfo {
  const dev = isObject(cfg.device) ? expand(cfg.device, DEVICE_ABBREVIATIONS) : {};
  const ids = dev.identifiers;
  const first = Array.isArray(ids) ? str(ids[0]) : str(ids);
  const conns = Array.isArray(dev.connections) ? dev.connections : [];
  const conn = conns.find((c): c is unknown[] => Array.isArray(c) && c.length >= 2);
  const raw = first ?? (conn ? str(conn[1]) : undefined) ?? fallbackId;
  const info: DeviceInfo = { id: deviceId(raw), name: str(dev.name) ?? raw };
  const mf = str(dev.manufacturer);
  const mdl = str(dev.model);
  if (mf) info.manufacturer = mf;
  if (mdl) info.model = mdl;
  return info;
}

/** Kind and unit for a sensor from device class, state class and unit; a string is the reason it cannot be honoured. */
export function sensorKind(deviceClass: string | undefined, stateClass: string | undefined, unit: string | undefined): { kind: EntityKind; unit: InputUnit } | { skip: string } | string {
  const u = unit?.trim();
  const find = (list: InputUnit[]) => list.find((x) => x.toLowerCase() === (u ?? '').toLowerCase());
  let cls = deviceClass;
  if (cls === undefined) {
    // No class: the unit says what it is.
    if (u === undefined || u === '') return { skip: 'no device_class and no unit: not a quantity Joulehub records' };
    for (const [c, list] of Object.entries(UNITS)) if (c !== 'power_factor' && find(list)) cls = c;
    if (cls === undefined) return { skip: `unit "${u}" is not an electrical unit Joulehub records` };
  }
  if (NOT_OURS.has(cls)) return { skip: `device_class ${cls} is not a quantity Joulehub records` };
  const allowed = UNITS[cls];
  if (!allowed) return `unknown device_class "${cls}"`;
  const inUnit = cls === 'power_factor' && (u === undefined || u === '') ? ('' as InputUnit) : find(allowed);
  if (inUnit === undefined) {
    const known = Object.values(UNITS).some((list) => find(list) !== undefined);
    return known
      ? `impossible device_class/unit pair: ${cls} in "${u}" (expected ${allowed.filter(Boolean).join(', ')})`
      : `unknown unit "${u ?? ''}" for device_class ${cls} (expected ${allowed.filter(Boolean).join(', ')})`;
  }
  if (cls === 'energy') {
    // core#89288: an energy sensor with state_class measurement is not a meter reading.
    if (stateClass === 'measurement') return 'impossible device_class/state_class pair: energy with state_class measurement (use total or total_increasing)';
    return { kind: 'energy_total', unit: inUnit };
  }
  if (cls === 'power') return { kind: 'power', unit: inUnit };
  return { kind: cls as EntityKind, unit: inUnit };
}

function availabilityOf(cfg: Record<string, unknown>, base: string | undefined): Availability[] | string {
  const out: Availability[] = [];
  const defAvail = str(cfg.payload_available) ?? 'online';
  const defNot = str(cfg.payload_not_available) ?? 'offline';
  const single = expandTopic(cfg.availability_topic, base);
  if (single) {
    const tpl = cfg.availability_template !== undefined ? compileTemplate(String(cfg.availability_template)) : null;
    if (tpl && 'error' in tpl) return tpl.error;
    out.push({ topic: single, available: defAvail, notAvailable: defNot, template: tpl });
  }
  if (Array.isArray(cfg.availability)) {
    for (const item of cfg.availability) {
      if (!isObject(item)) continue;
      const a = expand(item, ABBREVIATIONS);
      const topic = expandTopic(a.topic, base);
      if (!topic) continue;
      const tpl = a.value_template !== undefined ? compileTemplate(String(a.value_template)) : null;
      if (tpl && 'error' in tpl) return tpl.error;
      out.push({ topic, available: str(a.payload_available) ?? defAvail, notAvailable: str(a.payload_not_available) ?? defNot, template: tpl });
    }
  }
  return out;
}

function entityFrom(
  id: string, configTopic: string, component: string, cfg: Record<string, unknown>, fallbackDevice: string, objectId: string,
): DiscoveryResult {
  const reject = (reason: string, severity: 'skip' | 'reject' = 'reject', dev?: string): DiscoveryResult =>
    ({ kind: 'rejected', id, configTopic, reason, severity, ...(dev ? { deviceId: dev } : {}) });
  if (component !== 'sensor' && component !== 'switch') return reject(`component ${component} is not one Joulehub records (sensor, switch)`, 'skip');
  const base = str(cfg['~']);
  const unknownKeys = Object.keys(cfg).filter((k) => !KNOWN.has(k));
  const device = deviceOf(cfg, fallbackDevice);
  const stateTopic = expandTopic(cfg.state_topic, base);
  if (!stateTopic) return reject('no state_topic (stat_t)', 'reject', device.id);
  let template: CompiledTemplate | null = null;
  if (cfg.value_template !== undefined) {
    const t = compileTemplate(String(cfg.value_template));
    if ('error' in t) return reject(`unsupported template: ${t.error}`, 'reject', device.id);
    template = t;
  }
  const availability = availabilityOf(cfg, base);
  if (typeof availability === 'string') return reject(`unsupported availability template: ${availability}`, 'reject', device.id);
  const uid = str(cfg.unique_id);
  // The key: the unique id without the device's own id in front (Tasmota's "218FF9_ENERGY_Total" → energy_total).
  let key = entityKey(uid ?? str(cfg.object_id) ?? objectId);
  const devPrefix = `${device.id.replace(/-/g, '_')}_`;
  if (key.startsWith(devPrefix) && key.length > devPrefix.length) key = key.slice(devPrefix.length);
  const name = str(cfg.name);
  let entity: EntityInfo;
  if (component === 'switch') {
    entity = { key, kind: 'switch', ...(name ? { name } : {}) };
  } else {
    const k = sensorKind(str(cfg.device_class), str(cfg.state_class), str(cfg.unit_of_measurement));
    if (typeof k === 'string') return reject(k, 'reject', device.id);
    if ('skip' in k) return reject(k.skip, 'skip', device.id);
    entity = { key, kind: k.kind, unit: k.unit, ...(name ? { name } : {}) };
  }
  const payloadOn = str(cfg.payload_on) ?? 'ON';
  const payloadOff = str(cfg.payload_off) ?? 'OFF';
  const commandTopic = expandTopic(cfg.command_topic, base);
  return {
    kind: 'entity',
    entity: {
      id, configTopic, component, device, entity, stateTopic, template,
      ...(commandTopic ? { commandTopic } : {}),
      payloadOn, payloadOff,
      stateOn: str(cfg.state_on) ?? payloadOn,
      stateOff: str(cfg.state_off) ?? payloadOff,
      availability,
      unknownKeys,
    },
  };
}

/** Parses one discovery config message. Pure. */
export function parseDiscovery(topic: string, payload: string, prefix = 'homeassistant'): DiscoveryResult[] | null {
  const where = matchDiscoveryTopic(topic, prefix);
  if (!where) return null;
  if (payload.trim() === '') return [{ kind: 'removed', configTopic: topic }];
  const raw = parseJson(payload);
  if (!isObject(raw)) return [{ kind: 'rejected', id: topic, configTopic: topic, reason: 'config is not a JSON object', severity: 'reject' }];
  const cfg = expand(raw, ABBREVIATIONS);
  const fallbackDevice = where.node ?? where.object;
  if (where.component === 'device') {
    // Device-based discovery: shared keys (dev, o, ~, avty…) plus one entry per component.
    if (!isObject(cfg.components)) return [{ kind: 'rejected', id: topic, configTopic: topic, reason: 'device config has no components (cmps)', severity: 'reject' }];
    const shared = { ...cfg };
    delete shared.components;
    return Object.entries(cfg.components).map(([cid, c]) => {
      if (!isObject(c)) return { kind: 'rejected', id: `${topic}#${cid}`, configTopic: topic, reason: `component ${cid} is not an object`, severity: 'reject' } as DiscoveryResult;
      const comp = { ...shared, ...expand(c, ABBREVIATIONS) };
      return entityFrom(`${topic}#${cid}`, topic, str(comp.platform) ?? '', comp, fallbackDevice, cid);
    });
  }
  return [entityFrom(topic, topic, where.component, cfg, fallbackDevice, where.object)];
}

/** HA's words for "no value right now": not an error, nothing to record. */
const NO_VALUE = new Set(['', 'unknown', 'unavailable', 'none', 'null']);

/** The value a state payload carries for a discovered entity. Pure. */
export function discoveredState(e: DiscoveredEntity, payload: string): { value: number | 'on' | 'off' } | { problem: string } | null {
  const v = renderTemplate(e.template, payload);
  if (v === undefined) return e.template ? { problem: `${e.template.source} found no value in the payload` } : null;
  if (v === null || (typeof v === 'string' && NO_VALUE.has(v.trim().toLowerCase()))) return null;
  if (e.component === 'switch') {
    const s = String(v);
    if (s === e.stateOn) return { value: 'on' };
    if (s === e.stateOff) return { value: 'off' };
    return { problem: `switch state ${JSON.stringify(s).slice(0, 40)} is neither ${e.stateOn} nor ${e.stateOff}` };
  }
  const n = toNumber(v);
  return n === undefined ? { problem: `state ${JSON.stringify(v).slice(0, 40)} is not a number` } : { value: n };
}

/** Availability from a payload on one of the entity's availability topics; undefined if it says neither. */
export function discoveredAvailability(a: Availability, payload: string): boolean | undefined {
  const v = a.template ? renderTemplate(a.template, payload) : payload;
  const s = v === undefined || v === null ? '' : String(v).trim();
  if (s === a.available) return true;
  if (s === a.notAvailable) return false;
  return undefined;
}
