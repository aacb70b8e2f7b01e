/**
 * zigbee2mqtt metering plugs (device-formats §6.5): retained JSON on `<base>/<friendly_name>`,
 * `<base>/<friendly_name>/availability`, control via `<base>/<friendly_name>/set`. Friendly names
 * may contain `/`; `bridge/…` and our own `/set`, `/get` echoes are not devices.
 */
import type { CommandName, EntityKind, InputUnit } from '@joulehub/core/sdk';
import { deviceId } from '../ids.js';
import { deviceMessage, type Family, type ParseResult } from '../model.js';
import { isObject, parseJson, toNumber, toSwitch } from '../values.js';

const FIELDS: { field: string; key: string; kind: EntityKind; unit: InputUnit; name: string }[] = [
  { field: 'power', key: 'power', kind: 'power', unit: 'W', name: 'Power' },
  { field: 'energy', key: 'energy', kind: 'energy_total', unit: 'kWh', name: 'Energy' },
  { field: 'voltage', key: 'voltage', kind: 'voltage', unit: 'V', name: 'Voltage' },
  { field: 'current', key: 'current', kind: 'current', unit: 'A', name: 'Current' },
  { field: 'power_factor', key: 'power_factor', kind: 'power_factor', unit: '', name: 'Power factor' },
];

const WORDS: Partial<Record<CommandName, string>> = { turn_on: 'ON', turn_off: 'OFF', toggle: 'TOGGLE' };

export function parseZigbee2mqtt(topic: string, payload: string, base = 'zigbee2mqtt'): ParseResult | null {
  if (!topic.startsWith(`${base}/`)) return null;
  const rest = topic.slice(base.length + 1);
  if (rest === 'bridge' || rest.startsWith('bridge/')) return { kind: 'ignored' };
  const parts = rest.split('/');
  const leaf = parts[parts.length - 1];
  if (parts.length > 1 && (leaf === 'set' || leaf === 'get' || (parts.length > 2 && parts[parts.length - 2] === 'set'))) return { kind: 'ignored' };
  const isAvailability = parts.length > 1 && leaf === 'availability';
  const name = isAvailability ? parts.slice(0, -1).join('/') : rest;
  if (!name) return { kind: 'ignored' };
  const msg = deviceMessage({ id: deviceId(name), name, manufacturer: 'zigbee2mqtt' });
  if (isAvailability) {
    // z2m ≥ 1.28 sends {"state":"online"}, older versions the plain word.
    const json = parseJson(payload);
    const word = isObject(json) ? json.state : payload.trim();
    if (word === 'online' || word === 'offline') msg.available = word === 'online';
    else msg.problems.push({ kind: 'malformed', detail: `availability payload ${JSON.stringify(payload.slice(0, 40))} is not online/offline` });
    return { kind: 'devices', messages: [msg] };
  }
  const data = parseJson(payload);
  if (!isObject(data)) {
    msg.problems.push({ kind: 'malformed', detail: 'device state is not a JSON object' });
    return { kind: 'devices', messages: [msg] };
  }
  for (const fd of FIELDS) {
    const raw = data[fd.field];
    if (raw === undefined || raw === null) continue; // null before the first report
    const n = toNumber(raw);
    if (n === undefined) {
      msg.problems.push({ kind: 'wrong_type', detail: `${fd.field} is ${JSON.stringify(raw)}, not a number` });
      continue;
    }
    msg.entities.push({ key: fd.key, kind: fd.kind, unit: fd.unit, name: fd.name });
    msg.readings.push({ key: fd.key, value: n });
  }
  if (data.state !== undefined && data.state !== null) {
    const state = toSwitch(data.state);
    if (state === undefined) msg.problems.push({ kind: 'wrong_type', detail: `state is ${JSON.stringify(data.state)}, not ON/OFF` });
    // A switch only for devices that meter something: lights and sensors with a `state` are not ours.
    else if (msg.readings.length > 0 || 'power' in data || 'energy' in data) {
      msg.entities.push({ key: 'switch', kind: 'switch', name: 'Relay' });
      msg.readings.push({ key: 'switch', value: state });
      msg.controls = { switch: { topic: `${base}/${name}/set`, payload: (c) => (WORDS[c] ? JSON.stringify({ state: WORDS[c] }) : undefined) } };
    }
  }
  return { kind: 'devices', messages: [msg] };
}

export function zigbee2mqtt(base = 'zigbee2mqtt'): Family {
  return { id: 'zigbee2mqtt', subscriptions: [`${base}/#`], parse: (t, p) => parseZigbee2mqtt(t, p, base) };
}
