/**
 * Generic mappings from the instance's config: a topic filter → device/entity/kind/unit, the value
 * from a plain number, a JSON pointer (`/ENERGY/Power`) or a field path (`ENERGY.Power`), times
 * `scale`. `{1}`, `{2}` … in `device` stand for what the filter's wildcards matched.
 */
import type { EntityInfo, EntityKind, EntityRole, InputUnit } from '@joulehub/core/sdk';
import { deviceId, entityKey } from '../ids.js';
import { deviceMessage, type Family, type ParseResult } from '../model.js';
import { compileFilter, compilePath, follow, parseJson, parseTimestamp, toNumber, toSwitch, type PathStep } from '../values.js';

export interface MappingConfig {
  topic: string;
  device?: string;
  device_name?: string;
  key: string;
  kind: EntityKind;
  unit?: InputUnit;
  value?: string;
  time?: string;
  scale?: number;
  name?: string;
  role?: EntityRole;
  flow?: 'in' | 'out';
  command_topic?: string;
  payload_on?: string;
  payload_off?: string;
}

export interface CompiledMapping {
  config: MappingConfig;
  match: (topic: string) => string[] | null;
  value: PathStep[] | null;
  time: PathStep[] | null;
  key: string;
}

/** Throws an Error naming the bad option; the caller turns it into a ConfigError with the path. */
export function compileMapping(m: MappingConfig): CompiledMapping {
  const value = m.value === undefined || m.value === '' ? null : compilePath(m.value);
  const time = m.time === undefined || m.time === '' ? null : compilePath(m.time);
  return { config: m, match: compileFilter(m.topic), value, time, key: entityKey(m.key) };
}

function fill(template: string, caught: string[]): string {
  return template.replace(/\{(\d+)\}/g, (_, n: string) => caught[Number(n) - 1] ?? '');
}

/** Applies every mapping whose filter matches the topic. Pure. */
export function parseMapped(topic: string, payload: string, mappings: readonly CompiledMapping[]): ParseResult | null {
  const out = [];
  for (const m of mappings) {
    const caught = m.match(topic);
    if (!caught) continue;
    const c = m.config;
    const rawDevice = c.device ? fill(c.device, caught) : (caught[0] ?? topic);
    const msg = deviceMessage({ id: deviceId(rawDevice), name: c.device_name ? fill(c.device_name, caught) : rawDevice });
    out.push(msg);
    const needsJson = m.value !== null || m.time !== null;
    const json = needsJson ? parseJson(payload) : undefined;
    if (needsJson && json === undefined) {
      msg.problems.push({ kind: 'malformed', detail: `payload on ${topic} is not JSON` });
      continue;
    }
    let raw: unknown = m.value !== null ? follow(json, m.value) : payload.trim();
    if (m.value === null) {
      // A plain payload may still be a JSON number or string ("42", 42, "\"ON\"").
      const j = parseJson(payload);
      if (typeof j === 'number' || typeof j === 'string' || typeof j === 'boolean') raw = j;
    }
    if (raw === undefined || raw === null) {
      msg.problems.push({ kind: 'malformed', detail: `no value at ${c.value ?? '(payload)'} on ${topic}` });
      continue;
    }
    const at = m.time !== null ? parseTimestamp(follow(json, m.time)) : undefined;
    if (m.time !== null && at === undefined) {
      msg.problems.push({ kind: 'wrong_type', detail: `no usable time at ${c.time} on ${topic}` });
      continue;
    }
    const info: EntityInfo = {
      key: m.key, kind: c.kind,
      ...(c.unit && c.kind !== 'switch' ? { unit: c.unit } : {}),
      ...(c.name ? { name: c.name } : {}),
      ...(c.role !== undefined ? { role: c.role } : {}),
      ...(c.flow !== undefined ? { flow: c.flow } : {}),
    };
    const stamp = at !== undefined ? { at } : {};
    if (c.kind === 'switch') {
      const on = c.payload_on ?? 'ON';
      const off = c.payload_off ?? 'OFF';
      const s = raw === on ? 'on' : raw === off ? 'off' : toSwitch(raw);
      if (s === undefined) {
        msg.problems.push({ kind: 'wrong_type', detail: `${JSON.stringify(raw)} on ${topic} is neither ${on} nor ${off}` });
        continue;
      }
      msg.entities.push(info);
      msg.readings.push({ key: m.key, value: s, ...stamp });
      if (c.command_topic) {
        const cmdTopic = fill(c.command_topic, caught);
        msg.controls = { [m.key]: { topic: cmdTopic, payload: (cmd) => (cmd === 'turn_on' ? on : cmd === 'turn_off' ? off : undefined) } };
      }
      continue;
    }
    const n = toNumber(raw);
    if (n === undefined) {
      msg.problems.push({ kind: 'wrong_type', detail: `${JSON.stringify(raw)} at ${c.value ?? '(payload)'} on ${topic} is not a number` });
      continue;
    }
    msg.entities.push(info);
    msg.readings.push({ key: m.key, value: n * (c.scale ?? 1), ...stamp });
  }
  return out.length ? { kind: 'devices', messages: out } : null;
}

export function generic(mappings: readonly CompiledMapping[]): Family {
  return {
    id: 'mapping',
    subscriptions: [...new Set(mappings.map((m) => m.config.topic))],
    parse: (t, p) => parseMapped(t, p, mappings),
  };
}
