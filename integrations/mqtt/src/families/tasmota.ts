/**
 * Tasmota (device-formats §6.1): `tele/<topic>/SENSOR` ENERGY, `tele/<topic>/STATE` and
 * `stat/<topic>/POWER[n]|RESULT|STATUS8` relay states, `tele/<topic>/LWT` availability, control via
 * `cmnd/<topic>/POWER[n]`. Multi-channel meters send arrays (`"Power":[52,5]`): one entity per
 * channel, numbered from 1 like Tasmota's own POWER1/POWER2.
 */
import type { CommandName, EntityInfo, EntityKind, InputUnit } from '@joulehub/core/sdk';
import { deviceId } from '../ids.js';
import { deviceMessage, type DeviceMessage, type Family, type ParseResult } from '../model.js';
import { isObject, parseJson, toNumber, toSwitch } from '../values.js';

/** ENERGY fields Joulehub records, as data. `Period` is left out: it is the energy of the period
 * *ending* at the message (energy_interval means the period starting at it) and Total covers it. */
const ENERGY_FIELDS: { field: string; key: string; kind: EntityKind; unit: InputUnit; name: string }[] = [
  { field: 'Total', key: 'energy', kind: 'energy_total', unit: 'kWh', name: 'Energy' },
  { field: 'Power', key: 'power', kind: 'power', unit: 'W', name: 'Power' },
  { field: 'Voltage', key: 'voltage', kind: 'voltage', unit: 'V', name: 'Voltage' },
  { field: 'Current', key: 'current', kind: 'current', unit: 'A', name: 'Current' },
  { field: 'Factor', key: 'power_factor', kind: 'power_factor', unit: '', name: 'Power factor' },
];

const POWER_RE = /^POWER(\d*)$/;

function switchKey(suffix: string): string {
  return suffix === '' ? 'switch' : `switch_${Number(suffix)}`;
}

function device(topic: string): DeviceMessage {
  return deviceMessage({ id: deviceId(topic), name: topic, manufacturer: 'Tasmota' });
}

function control(topic: string, suffix: string) {
  const words: Partial<Record<CommandName, string>> = { turn_on: 'ON', turn_off: 'OFF', toggle: 'TOGGLE' };
  return { topic: `cmnd/${topic}/POWER${suffix}`, payload: (c: CommandName) => words[c] };
}

function addSwitch(msg: DeviceMessage, topic: string, suffix: string, raw: unknown): void {
  const key = switchKey(suffix);
  const state = toSwitch(raw);
  if (state === undefined) {
    msg.problems.push({ kind: 'wrong_type', detail: `POWER${suffix} is ${JSON.stringify(raw)}, not ON/OFF` });
    return;
  }
  msg.entities.push({ key, kind: 'switch', name: suffix ? `Relay ${Number(suffix)}` : 'Relay' });
  msg.readings.push({ key, value: state });
  (msg.controls ??= {})[key] = control(topic, suffix);
}

/** Relay states in a JSON object (STATE, RESULT): every POWER / POWERn field. */
function switchesFrom(msg: DeviceMessage, topic: string, obj: Record<string, unknown>): void {
  for (const [field, raw] of Object.entries(obj)) {
    const m = POWER_RE.exec(field);
    if (m) addSwitch(msg, topic, m[1], raw);
  }
}

/** The ENERGY block of a SENSOR (or StatusSNS) message. Pure. */
export function parseEnergy(msg: DeviceMessage, energy: Record<string, unknown>): void {
  for (const f of ENERGY_FIELDS) {
    const raw = energy[f.field];
    if (raw === undefined || raw === null) continue;
    const values = Array.isArray(raw) ? raw : [raw];
    values.forEach((v, i) => {
      const channel = Array.isArray(raw) ? i + 1 : undefined;
      const key = channel === undefined ? f.key : `${f.key}_${channel}`;
      const n = toNumber(v);
      if (n === undefined) {
        msg.problems.push({ kind: 'wrong_type', detail: `ENERGY.${f.field}${channel ? `[${i}]` : ''} is ${JSON.stringify(v)}, not a number` });
        return;
      }
      const info: EntityInfo = { key, kind: f.kind, unit: f.unit, name: channel ? `${f.name} ${channel}` : f.name };
      msg.entities.push(info);
      msg.readings.push({ key, value: n });
    });
  }
  // Tasmota's reset signal: the counter's start time (one for all channels).
  const start = energy.TotalStartTime;
  if (typeof start === 'string' && start) {
    msg.counters = msg.readings.filter((r) => r.key === 'energy' || r.key.startsWith('energy_')).map((r) => ({ key: r.key, epoch: start }));
  }
}

export function parseTasmota(topic: string, payload: string): ParseResult | null {
  if (!topic.startsWith('tele/') && !topic.startsWith('stat/')) return null;
  const parts = topic.split('/');
  if (parts.length !== 3 || (parts[0] !== 'tele' && parts[0] !== 'stat')) return null;
  const [prefix, name, leaf] = parts;
  const msg = device(name);
  if (prefix === 'tele' && leaf === 'LWT') {
    const s = payload.trim().toLowerCase();
    if (s !== 'online' && s !== 'offline') {
      msg.problems.push({ kind: 'malformed', detail: `LWT payload ${JSON.stringify(payload.slice(0, 40))} is not Online/Offline` });
    } else msg.available = s === 'online';
    return { kind: 'devices', messages: [msg] };
  }
  if (prefix === 'stat') {
    const m = POWER_RE.exec(leaf);
    if (m) {
      addSwitch(msg, name, m[1], payload);
      return { kind: 'devices', messages: [msg] };
    }
  }
  const json = (leaf === 'SENSOR' || leaf === 'STATE' || leaf === 'RESULT' || /^STATUS(8|10|11)$/.test(leaf));
  if (!json) {
    // tele/INFO1…, stat/UPGRADE… are Tasmota's but carry nothing we record.
    return { kind: 'ignored' };
  }
  const data = parseJson(payload);
  if (!isObject(data)) {
    msg.problems.push({ kind: 'malformed', detail: `${leaf} is not a JSON object` });
    return { kind: 'devices', messages: [msg] };
  }
  if (leaf === 'SENSOR' || /^STATUS(8|10)$/.test(leaf)) {
    const sns = leaf === 'SENSOR' ? data : data.StatusSNS;
    const energy = isObject(sns) ? sns.ENERGY : undefined;
    if (energy !== undefined) {
      if (isObject(energy)) parseEnergy(msg, energy);
      else msg.problems.push({ kind: 'wrong_type', detail: 'ENERGY is not an object' });
    }
  } else {
    const obj = leaf === 'STATUS11' && isObject(data.StatusSTS) ? data.StatusSTS : data;
    switchesFrom(msg, name, obj);
  }
  return { kind: 'devices', messages: [msg] };
}

export const tasmota: Family = {
  id: 'tasmota',
  subscriptions: ['tele/+/SENSOR', 'tele/+/STATE', 'tele/+/LWT', 'stat/+/+'],
  parse: parseTasmota,
};
