/**
 * Shelly Gen2+ (Plus/Pro/Gen3/Gen4; device-formats §6.3–6.4) over MQTT: `<prefix>/status/<component>:<n>`
 * (full component status, "Generic status update"), `<prefix>/events/rpc` (NotifyStatus carries only
 * the changed fields, so each message reports just what it holds — never a "full" status read as
 * off), `<prefix>/online`. Control via `<prefix>/rpc` `Switch.Set` / `Switch.Toggle`.
 * The prefix defaults to the device id (`shellyplus1pm-<mac>`), which becomes the device id.
 */
import type { CommandName, EntityKind, InputUnit } from '@joulehub/core/sdk';
import { channelKey, deviceId } from '../ids.js';
import { deviceMessage, type DeviceMessage, type Family, type ParseResult } from '../model.js';
import { follow, isObject, parseJson, toNumber, toSwitch, type PathStep } from '../values.js';

interface Field { path: PathStep[]; key: string; kind: EntityKind; unit: InputUnit; name: string; flow?: 'out' }

const f = (path: string, key: string, kind: EntityKind, unit: InputUnit, name: string, flow?: 'out'): Field =>
  ({ path: path.split('.'), key, kind, unit, name, ...(flow ? { flow } : {}) });

const METERED: Field[] = [
  f('apower', 'power', 'power', 'W', 'Power'),
  f('voltage', 'voltage', 'voltage', 'V', 'Voltage'),
  f('current', 'current', 'current', 'A', 'Current'),
  f('freq', 'frequency', 'frequency', 'Hz', 'Frequency'),
  f('pf', 'power_factor', 'power_factor', '', 'Power factor'),
  f('ret_aenergy.total', 'energy_returned', 'energy_total', 'Wh', 'Energy returned', 'out'),
];

const EM1: Field[] = [
  f('act_power', 'power', 'power', 'W', 'Power'),
  f('voltage', 'voltage', 'voltage', 'V', 'Voltage'),
  f('current', 'current', 'current', 'A', 'Current'),
  f('freq', 'frequency', 'frequency', 'Hz', 'Frequency'),
  f('pf', 'power_factor', 'power_factor', '', 'Power factor'),
];

const EM1DATA: Field[] = [
  f('total_act_energy', 'energy', 'energy_total', 'Wh', 'Energy'),
  f('total_act_ret_energy', 'energy_returned', 'energy_total', 'Wh', 'Energy returned', 'out'),
];

const PHASES = ['a', 'b', 'c'] as const;
const EM: Field[] = [
  f('total_act_power', 'power', 'power', 'W', 'Power'),
  f('total_current', 'current', 'current', 'A', 'Current'),
  ...PHASES.flatMap((p) => [
    f(`${p}_act_power`, `power_${p}`, 'power', 'W', `Power ${p.toUpperCase()}`),
    f(`${p}_voltage`, `voltage_${p}`, 'voltage', 'V', `Voltage ${p.toUpperCase()}`),
    f(`${p}_current`, `current_${p}`, 'current', 'A', `Current ${p.toUpperCase()}`),
    f(`${p}_pf`, `power_factor_${p}`, 'power_factor', '', `Power factor ${p.toUpperCase()}`),
    f(`${p}_freq`, `frequency_${p}`, 'frequency', 'Hz', `Frequency ${p.toUpperCase()}`),
  ]),
];
const EMDATA: Field[] = [
  f('total_act', 'energy', 'energy_total', 'Wh', 'Energy'),
  f('total_act_ret', 'energy_returned', 'energy_total', 'Wh', 'Energy returned', 'out'),
  ...PHASES.flatMap((p) => [
    f(`${p}_total_act_energy`, `energy_${p}`, 'energy_total', 'Wh', `Energy ${p.toUpperCase()}`),
    f(`${p}_total_act_ret_energy`, `energy_returned_${p}`, 'energy_total', 'Wh', `Energy returned ${p.toUpperCase()}`, 'out'),
  ]),
];

const COMPONENTS: Record<string, Field[]> = { switch: METERED, pm1: METERED, em1: EM1, em1data: EM1DATA, em: EM, emdata: EMDATA };

function read(msg: DeviceMessage, status: Record<string, unknown>, fields: Field[], ch: number, comp: string, at?: number): void {
  for (const fd of fields) {
    const raw = follow(status, fd.path);
    if (raw === undefined || raw === null) continue;
    const key = channelKey(fd.key, ch);
    const n = toNumber(raw);
    if (n === undefined) {
      msg.problems.push({ kind: 'wrong_type', detail: `${comp}:${ch}.${fd.path.join('.')} is ${JSON.stringify(raw)}, not a number` });
      continue;
    }
    msg.entities.push({ key, kind: fd.kind, unit: fd.unit, name: ch ? `${fd.name} ${ch}` : fd.name, ...(fd.flow ? { flow: fd.flow } : {}) });
    msg.readings.push({ key, value: n, ...(at !== undefined ? { at } : {}) });
  }
}

/** One component status (full, or the changed part of a NotifyStatus). Pure. */
export function parseComponent(msg: DeviceMessage, prefix: string, comp: string, ch: number, status: Record<string, unknown>, at?: number): void {
  const fields = COMPONENTS[comp];
  if (!fields) return;
  const stamp = at !== undefined ? { at } : {};
  read(msg, status, fields, ch, comp, at);
  if (comp === 'switch' || comp === 'pm1') {
    // aenergy.total includes the returned energy on bidirectional models (evcc: import = aenergy − ret_aenergy).
    const total = follow(status, ['aenergy', 'total']);
    if (total !== undefined && total !== null) {
      const n = toNumber(total);
      const ret = toNumber(follow(status, ['ret_aenergy', 'total']));
      const key = channelKey('energy', ch);
      if (n === undefined) msg.problems.push({ kind: 'wrong_type', detail: `${comp}:${ch}.aenergy.total is ${JSON.stringify(total)}, not a number` });
      else {
        msg.entities.push({ key, kind: 'energy_total', unit: 'Wh', name: ch ? `Energy ${ch}` : 'Energy' });
        msg.readings.push({ key, value: ret !== undefined ? n - ret : n, ...stamp });
      }
    }
  }
  if (comp === 'switch' && 'output' in status) {
    const key = channelKey('switch', ch);
    const state = toSwitch(status.output);
    if (state === undefined) msg.problems.push({ kind: 'wrong_type', detail: `switch:${ch}.output is ${JSON.stringify(status.output)}, not a boolean` });
    else {
      msg.entities.push({ key, kind: 'switch', name: ch ? `Relay ${ch}` : 'Relay' });
      msg.readings.push({ key, value: state, ...stamp });
      // apower may be absent until the relay was switched once after a restart: off means 0 W.
      if (state === 'off' && !('apower' in status)) {
        const pk = channelKey('power', ch);
        msg.entities.push({ key: pk, kind: 'power', unit: 'W', name: ch ? `Power ${ch}` : 'Power' });
        msg.readings.push({ key: pk, value: 0, ...stamp });
      }
      (msg.controls ??= {})[key] = switchControl(prefix, ch);
    }
  }
}

function switchControl(prefix: string, ch: number) {
  return {
    topic: `${prefix}/rpc`,
    payload(c: CommandName): string | undefined {
      const base = { id: Math.floor(Math.random() * 1e9), src: 'joulehub' };
      if (c === 'turn_on' || c === 'turn_off') return JSON.stringify({ ...base, method: 'Switch.Set', params: { id: ch, on: c === 'turn_on' } });
      if (c === 'toggle') return JSON.stringify({ ...base, method: 'Switch.Toggle', params: { id: ch } });
      return undefined;
    },
  };
}

const COMPONENT_RE = /^([a-z0-9]+):(\d+)$/;

function device(prefix: string): DeviceMessage {
  const m = /^(shelly[a-z0-9]*)-/i.exec(prefix);
  return deviceMessage({ id: deviceId(prefix), name: prefix, manufacturer: 'Shelly', ...(m ? { model: m[1] } : {}) });
}

export function parseShellyGen2(topic: string, payload: string): ParseResult | null {
  const parts = topic.split('/');
  if (parts[0] === 'shellies') return null; // Gen1
  const prefix = parts[0];
  if (parts.length === 2 && parts[1] === 'online') {
    const msg = device(prefix);
    const s = toSwitch(payload);
    if (s === undefined) msg.problems.push({ kind: 'malformed', detail: `online payload ${JSON.stringify(payload.slice(0, 40))} is not true/false` });
    else msg.available = s === 'on';
    return { kind: 'devices', messages: [msg] };
  }
  const isStatus = parts.length === 3 && parts[1] === 'status';
  const isRpc = parts.length === 3 && parts[1] === 'events' && parts[2] === 'rpc';
  if (!isStatus && !isRpc) return null;
  const msg = device(prefix);
  if (isStatus) {
    const m = COMPONENT_RE.exec(parts[2]);
    if (!m) return { kind: 'ignored' };
    if (!COMPONENTS[m[1]]) return { kind: 'ignored' }; // cover, input, sys, wifi …
    const data = parseJson(payload);
    if (!isObject(data)) {
      msg.problems.push({ kind: 'malformed', detail: `status/${parts[2]} is not a JSON object` });
      return { kind: 'devices', messages: [msg] };
    }
    parseComponent(msg, prefix, m[1], Number(m[2]), data);
    return { kind: 'devices', messages: [msg] };
  }
  const data = parseJson(payload);
  if (!isObject(data)) {
    msg.problems.push({ kind: 'malformed', detail: 'events/rpc is not a JSON object' });
    return { kind: 'devices', messages: [msg] };
  }
  if (data.method !== 'NotifyStatus' && data.method !== 'NotifyFullStatus') return { kind: 'ignored' };
  const params = data.params;
  if (!isObject(params)) {
    msg.problems.push({ kind: 'malformed', detail: `${String(data.method)} has no params object` });
    return { kind: 'devices', messages: [msg] };
  }
  const ts = toNumber(params.ts);
  const at = ts !== undefined && ts > 0 ? Math.round(ts * 1000) : undefined;
  for (const [name, status] of Object.entries(params)) {
    const m = COMPONENT_RE.exec(name);
    if (!m || !COMPONENTS[m[1]] || !isObject(status)) continue;
    parseComponent(msg, prefix, m[1], Number(m[2]), status, at);
  }
  return { kind: 'devices', messages: [msg] };
}

export const shellyGen2: Family = {
  id: 'shelly_gen2',
  subscriptions: ['+/status/+', '+/events/rpc', '+/online'],
  parse: parseShellyGen2,
};
