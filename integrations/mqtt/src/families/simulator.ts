/**
 * Metering simulators: JSON `{timestamp, device_id, measurement_value}` or `{timestamp, deviceId, value}`
 * on a configurable topic (default `energy/+/reading`). Timestamps as ISO 8601 (with an offset),
 * Unix seconds or Unix milliseconds. An optional `unit` field picks the kind (W → power,
 * kWh → energy_total …); otherwise the configured kind and unit apply.
 */
import type { EntityKind, InputUnit } from '@joulehub/core/sdk';
import { deviceId } from '../ids.js';
import { deviceMessage, type Family, type ParseResult } from '../model.js';
import { compileFilter, isObject, parseJson, parseTimestamp, toNumber } from '../values.js';

export interface SimulatorOptions { topic: string; kind: EntityKind; unit: InputUnit }

const BY_UNIT: Record<string, { kind: EntityKind; unit: InputUnit }> = {
  w: { kind: 'power', unit: 'W' }, kw: { kind: 'power', unit: 'kW' }, mw: { kind: 'power', unit: 'MW' },
  wh: { kind: 'energy_total', unit: 'Wh' }, kwh: { kind: 'energy_total', unit: 'kWh' }, mwh: { kind: 'energy_total', unit: 'MWh' },
  v: { kind: 'voltage', unit: 'V' }, a: { kind: 'current', unit: 'A' }, hz: { kind: 'frequency', unit: 'Hz' },
};

const KEY: Record<EntityKind, string> = {
  power: 'power', energy_total: 'energy', energy_interval: 'energy_interval', voltage: 'voltage',
  current: 'current', frequency: 'frequency', power_factor: 'power_factor', switch: 'switch',
};

export function parseSimulator(topic: string, payload: string, opts: SimulatorOptions, match = compileFilter(opts.topic)): ParseResult | null {
  const caught = match(topic);
  if (!caught) return null;
  const data = parseJson(payload);
  const fromTopic = caught.find((c) => c !== '') ?? topic;
  if (!isObject(data)) {
    return { kind: 'devices', messages: [{ ...deviceMessage({ id: deviceId(fromTopic), name: fromTopic }), problems: [{ kind: 'malformed', detail: 'reading is not a JSON object' }] }] };
  }
  const rawId = data.device_id ?? data.deviceId;
  const name = typeof rawId === 'string' && rawId ? rawId : typeof rawId === 'number' ? String(rawId) : fromTopic;
  const msg = deviceMessage({ id: deviceId(name), name });
  const rawValue = data.measurement_value !== undefined ? data.measurement_value : data.value;
  const value = toNumber(rawValue);
  let kind = opts.kind;
  let unit = opts.unit;
  if (typeof data.unit === 'string') {
    const u = BY_UNIT[data.unit.trim().toLowerCase()];
    if (!u) {
      msg.problems.push({ kind: 'unsupported', detail: `unit ${JSON.stringify(data.unit)} is not one Joulehub records` });
      return { kind: 'devices', messages: [msg] };
    }
    ({ kind, unit } = u);
  }
  const at = data.timestamp === undefined ? undefined : parseTimestamp(data.timestamp);
  if (data.timestamp !== undefined && at === undefined) {
    msg.problems.push({ kind: 'wrong_type', detail: `timestamp ${JSON.stringify(data.timestamp)} is not ISO 8601 with an offset, Unix seconds or Unix milliseconds` });
    return { kind: 'devices', messages: [msg] };
  }
  if (value === undefined) {
    msg.problems.push({ kind: rawValue === undefined ? 'malformed' : 'wrong_type', detail: rawValue === undefined ? 'no measurement_value or value' : `value ${JSON.stringify(rawValue)} is not a number` });
    return { kind: 'devices', messages: [msg] };
  }
  const key = KEY[kind];
  msg.entities.push({ key, kind, unit });
  msg.readings.push({ key, value, ...(at !== undefined ? { at } : {}) });
  return { kind: 'devices', messages: [msg] };
}

export function simulator(opts: SimulatorOptions): Family {
  const match = compileFilter(opts.topic);
  return { id: 'simulator', subscriptions: [opts.topic], parse: (t, p) => parseSimulator(t, p, opts, match) };
}
