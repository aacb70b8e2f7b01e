/**
 * Shelly Gen1 (device-formats §6.2): one value per topic under `shellies/<id>/`. Relay energy is in
 * watt-minutes (converted by the hub: unit `Wmin`), emeter totals in Wh. Control via
 * `shellies/<id>/relay/<n>/command`. Channel 0 keeps the plain key (`power`), channel n is `power_<n>`.
 */
import type { CommandName, EntityKind, InputUnit } from '@joulehub/core/sdk';
import { channelKey, deviceId } from '../ids.js';
import { deviceMessage, type Family, type ParseResult } from '../model.js';
import { toNumber, toSwitch } from '../values.js';

interface Field { key: string; kind: EntityKind; unit: InputUnit; name: string; flow?: 'out' }

const RELAY_FIELDS: Record<string, Field> = {
  power: { key: 'power', kind: 'power', unit: 'W', name: 'Power' },
  // Watt-minutes; the Plug S loses this counter on reboot (home-assistant/core#85210): a drop is a reset.
  energy: { key: 'energy', kind: 'energy_total', unit: 'Wmin', name: 'Energy' },
};

const EMETER_FIELDS: Record<string, Field> = {
  power: { key: 'power', kind: 'power', unit: 'W', name: 'Power' },
  total: { key: 'energy', kind: 'energy_total', unit: 'Wh', name: 'Energy' },
  total_returned: { key: 'energy_returned', kind: 'energy_total', unit: 'Wh', name: 'Energy returned', flow: 'out' },
  voltage: { key: 'voltage', kind: 'voltage', unit: 'V', name: 'Voltage' },
  current: { key: 'current', kind: 'current', unit: 'A', name: 'Current' },
  pf: { key: 'power_factor', kind: 'power_factor', unit: '', name: 'Power factor' },
};

/** Leaves under shellies/<id>/ that are Shelly's own but carry nothing we record. */
const QUIET = new Set(['announce', 'info', 'temperature', 'temperature_f', 'overtemperature', 'voltage', 'input', 'input_event', 'longpush', 'ext_temperature', 'ext_humidity', 'sensor', 'color', 'light', 'roller', 'settings', 'command']);
const QUIET_RELAY = new Set(['overpower_value', 'command', 'overpower']);
const QUIET_EMETER = new Set(['energy', 'returned_energy', 'reactive_power']);

function model(id: string): string | undefined {
  const m = /^(shelly[a-z0-9-]*?)-[0-9a-f]{6,12}$/i.exec(id);
  return m ? m[1] : undefined;
}

export function parseShellyGen1(topic: string, payload: string): ParseResult | null {
  if (!topic.startsWith('shellies/')) return null;
  const parts = topic.split('/');
  if (parts[0] !== 'shellies' || parts.length < 2) return null;
  if (parts.length === 2) return { kind: 'ignored' }; // shellies/announce, shellies/command
  const rawId = parts[1];
  const id = deviceId(rawId);
  const mdl = model(rawId);
  const msg = deviceMessage({ id, name: rawId, manufacturer: 'Shelly', ...(mdl ? { model: mdl } : {}) });
  const rest = parts.slice(2);
  const unknown = (): ParseResult => ({ kind: 'unknown', deviceId: id, problem: { kind: 'unknown_topic', detail: `unknown Shelly topic ${topic}` } });

  if (rest.length === 1 && rest[0] === 'online') {
    const s = toSwitch(payload);
    if (s === undefined) msg.problems.push({ kind: 'malformed', detail: `online payload ${JSON.stringify(payload.slice(0, 40))} is not true/false` });
    else msg.available = s === 'on';
    return { kind: 'devices', messages: [msg] };
  }
  const group = rest[0];
  if ((group === 'relay' || group === 'emeter') && rest.length >= 2) {
    const ch = Number(rest[1]);
    if (!Number.isInteger(ch) || ch < 0 || rest.length > 3) return unknown();
    if (group === 'relay' && rest.length === 2) {
      const key = channelKey('switch', ch);
      const raw = payload.trim().toLowerCase();
      // "overpower": the relay switched itself off.
      const state = raw === 'overpower' ? 'off' : toSwitch(raw);
      if (state === undefined) {
        msg.problems.push({ kind: 'wrong_type', detail: `relay/${ch} is ${JSON.stringify(payload.slice(0, 40))}, not on/off` });
      } else {
        msg.entities.push({ key, kind: 'switch', name: ch ? `Relay ${ch}` : 'Relay' });
        msg.readings.push({ key, value: state });
        const words: Partial<Record<CommandName, string>> = { turn_on: 'on', turn_off: 'off', toggle: 'toggle' };
        msg.controls = { [key]: { topic: `shellies/${rawId}/relay/${ch}/command`, payload: (c) => words[c] } };
      }
      return { kind: 'devices', messages: [msg] };
    }
    if (rest.length !== 3) return unknown();
    const leaf = rest[2];
    const field = (group === 'relay' ? RELAY_FIELDS : EMETER_FIELDS)[leaf];
    if (!field) {
      return (group === 'relay' ? QUIET_RELAY : QUIET_EMETER).has(leaf) ? { kind: 'ignored' } : unknown();
    }
    const n = toNumber(payload);
    const key = channelKey(field.key, ch);
    if (n === undefined) {
      msg.problems.push({ kind: 'wrong_type', detail: `${group}/${ch}/${leaf} is ${JSON.stringify(payload.slice(0, 40))}, not a number` });
    } else {
      msg.entities.push({ key, kind: field.kind, unit: field.unit, name: ch ? `${field.name} ${ch}` : field.name, ...(field.flow ? { flow: field.flow } : {}) });
      msg.readings.push({ key, value: n });
    }
    return { kind: 'devices', messages: [msg] };
  }
  if (QUIET.has(group)) return { kind: 'ignored' };
  return unknown();
}

export const shellyGen1: Family = {
  id: 'shelly_gen1',
  subscriptions: ['shellies/#'],
  parse: parseShellyGen1,
};
