/** Home Assistant discovery configs, value templates and the Tasmota counter continuation. Pure. */
import { describe, expect, it } from 'vitest';
import { continueCounter, type CounterState } from '../src/counters.js';
import { discoveredAvailability, discoveredState, parseDiscovery, sensorKind, type DiscoveredEntity } from '../src/families/ha-discovery.js';
import { compileTemplate, renderTemplate } from '../src/families/ha-template.js';
import { fixture } from './fixtures.js';

function entity(topic: string, payload: unknown): DiscoveredEntity {
  const [r] = parseDiscovery(topic, typeof payload === 'string' ? payload : JSON.stringify(payload))!;
  if (r.kind !== 'entity') throw new Error(`expected an entity, got ${JSON.stringify(r)}`);
  return r.entity;
}

function reason(topic: string, payload: unknown): string {
  const [r] = parseDiscovery(topic, JSON.stringify(payload))!;
  if (r.kind !== 'rejected') throw new Error(`expected a rejection, got ${r.kind}`);
  return `${r.severity}: ${r.reason}`;
}

describe('Home Assistant discovery', () => {
  it('reads the #167534 payload: abbreviated and long keys mixed, device identifiers, val_tpl path', () => {
    const [m] = fixture('homeassistant/smart-meter/energy-config.json');
    const e = entity(m.topic, m.payload);
    expect(e.device).toEqual({ id: '12345678', name: 'Smart meter' });
    expect(e.entity).toEqual({ key: 'smart_energy_12345678', kind: 'energy_total', unit: 'kWh', name: 'Energy (12345678)' });
    expect(e.stateTopic).toBe('smart/state');
    expect(discoveredState(e, '{"e": 1234.5, "p": 300}')).toEqual({ value: 1234.5 });
    expect(discoveredState(e, '{"p": 300}')).toEqual({ problem: '{{ value_json.e }} found no value in the payload' });
  });

  it("reads Tasmota's own config: bracket template, availability with its payloads, key without the device id", () => {
    const [m] = fixture('homeassistant/tasmota-plug/energy-total-config.json');
    const e = entity(m.topic, m.payload);
    expect(e.device.id).toBe('218ff9');
    expect(e.entity.key).toBe('energy_total');
    expect(discoveredState(e, '{"ENERGY":{"Total":6.5}}')).toEqual({ value: 6.5 });
    expect(e.availability).toHaveLength(1);
    expect(discoveredAvailability(e.availability[0], 'Offline')).toBe(false);
    expect(discoveredAvailability(e.availability[0], 'Online')).toBe(true);
    expect(e.unknownKeys).toEqual([]);
  });

  it('expands ~ in topics, reads switches with payloads and state words, lists unknown keys', () => {
    const e = entity('homeassistant/switch/plug1/relay/config', {
      '~': 'home/plug1', name: 'Relay', stat_t: '~/state', cmd_t: '~/set', pl_on: '1', pl_off: '0', uniq_id: 'plug1_relay',
      dev: { ids: 'plug1', mf: 'Acme', mdl: 'P1' }, bogus_key: 1,
    });
    expect(e.stateTopic).toBe('home/plug1/state');
    expect(e.commandTopic).toBe('home/plug1/set');
    expect(e.device).toEqual({ id: 'plug1', name: 'plug1', manufacturer: 'Acme', model: 'P1' });
    expect(e.entity).toMatchObject({ key: 'relay', kind: 'switch' });
    expect(discoveredState(e, '1')).toEqual({ value: 'on' });
    expect(discoveredState(e, '0')).toEqual({ value: 'off' });
    expect(discoveredState(e, 'maybe')).toHaveProperty('problem');
    expect(e.unknownKeys).toEqual(['bogus_key']);
  });

  it('reads device-based discovery: one entity per component', () => {
    const rs = parseDiscovery('homeassistant/device/meter9/config', JSON.stringify({
      dev: { ids: ['meter9'], name: 'Meter 9' }, o: { name: 'acme' }, stat_t: 'm9/state',
      cmps: {
        p: { p: 'sensor', dev_cla: 'power', unit_of_meas: 'kW', val_tpl: '{{ value_json.p }}', uniq_id: 'meter9_p' },
        t: { p: 'sensor', dev_cla: 'temperature', unit_of_meas: '°C', uniq_id: 'meter9_t' },
      },
    }))!;
    expect(rs.map((r) => r.kind)).toEqual(['entity', 'rejected']);
    expect(rs[0].kind === 'entity' && rs[0].entity).toMatchObject({ id: 'homeassistant/device/meter9/config#p', entity: { key: 'p', kind: 'power', unit: 'kW' } });
  });

  it('an empty payload removes what the topic announced', () => {
    expect(parseDiscovery('homeassistant/sensor/x/config', '')).toEqual([{ kind: 'removed', configTopic: 'homeassistant/sensor/x/config' }]);
  });

  it('names why a config cannot be honoured', () => {
    const t = 'homeassistant/sensor/m/e/config';
    expect(reason(t, { stat_t: 's', dev_cla: 'energy', unit_of_meas: 'W' })).toBe('reject: impossible device_class/unit pair: energy in "W" (expected Wh, kWh, MWh)');
    expect(reason(t, { stat_t: 's', dev_cla: 'energy', unit_of_meas: 'BTU' })).toBe('reject: unknown unit "BTU" for device_class energy (expected Wh, kWh, MWh)');
    expect(reason(t, { stat_t: 's', dev_cla: 'energy', stat_cla: 'measurement', unit_of_meas: 'kWh' })).toMatch(/^reject: impossible device_class\/state_class pair/);
    expect(reason(t, { stat_t: 's', dev_cla: 'power', unit_of_meas: 'W', val_tpl: '{{ value_json.p if value_json.ok else 0 }}' })).toMatch(/^reject: unsupported template/);
    expect(reason(t, { stat_t: 's', dev_cla: 'power', unit_of_meas: 'W', val_tpl: '{{ value_json.p | timestamp_local }}' })).toMatch(/filter "timestamp_local" is not supported/);
    expect(reason(t, { dev_cla: 'power', unit_of_meas: 'W' })).toBe('reject: no state_topic (stat_t)');
    expect(reason(t, { stat_t: 's', dev_cla: 'temperature', unit_of_meas: '°C' })).toBe('skip: device_class temperature is not a quantity Joulehub records');
    expect(reason('homeassistant/light/m/l/config', { stat_t: 's' })).toMatch(/^skip: component light/);
    expect(parseDiscovery(t, '{not json')![0]).toMatchObject({ kind: 'rejected', reason: 'config is not a JSON object' });
  });

  it('maps class, state class and unit to a kind; a unit alone decides when there is no class', () => {
    expect(sensorKind('energy', 'total', 'Wh')).toEqual({ kind: 'energy_total', unit: 'Wh' });
    expect(sensorKind(undefined, undefined, 'kW')).toEqual({ kind: 'power', unit: 'kW' });
    expect(sensorKind('power_factor', 'measurement', '%')).toEqual({ kind: 'power_factor', unit: '%' });
    expect(sensorKind('power_factor', 'measurement', undefined)).toEqual({ kind: 'power_factor', unit: '' });
    expect(sensorKind('current', undefined, 'mA')).toEqual({ kind: 'current', unit: 'mA' });
  });
});

describe('value templates', () => {
  const render = (tpl: string, payload: string) => {
    const t = compileTemplate(tpl);
    if ('error' in t) throw new Error(t.error);
    return renderTemplate(t, payload);
  };
  it('follows dotted, bracketed and indexed value_json paths, with float/int/round and a factor', () => {
    expect(render('{{ value_json.a.b[1] }}', '{"a":{"b":[1,2]}}')).toBe(2);
    expect(render('{{value_json["x y"]}}', '{"x y":"5"}')).toBe('5');
    expect(render('{{ value_json.p | float }}', '{"p":"5.5"}')).toBe(5.5);
    expect(render('{{ value_json.p | float(0) }}', '{"p":"n/a"}')).toBe(0);
    expect(render('{{ value_json.p / 1000 | round(2) }}', '{"p":1234}')).toBe(1.23);
    expect(render('{{ value | int }}', '7.9')).toBe(7);
    expect(render('{{ value }}', ' ON ')).toBe('ON');
  });
});

describe('Tasmota counter continuation (TotalStartTime)', () => {
  const run = (steps: [number, string | undefined][]) => {
    let s: CounterState | undefined;
    return steps.map(([raw, epoch]) => {
      const r = continueCounter(s, raw, epoch);
      s = r.next;
      return r.value;
    });
  };
  it('a new TotalStartTime with a Total above the old one still counts only the new counter', () => {
    // 5.0 kWh on the old counter, reset, then 7.0 kWh counted since: the ledger must see +7.0, not +2.0.
    expect(run([[4.0, 'A'], [5.0, 'A'], [7.0, 'B'], [7.5, 'B']])).toEqual([4.0, 5.0, 12.0, 12.5]);
  });
  it('a new TotalStartTime with a lower Total continues too; an unexplained drop is left visible', () => {
    expect(run([[5.0, 'A'], [0.2, 'B'], [0.5, 'B']])).toEqual([5.0, 5.2, 5.5]);
    expect(run([[5.0, 'A'], [6.0, 'B'], [1.0, 'B'], [1.5, 'B']])).toEqual([5.0, 11.0, 1.0, 1.5]);
  });
  it('without a start time the raw Total goes through', () => {
    expect(run([[1, undefined], [2, undefined], [0.5, undefined]])).toEqual([1, 2, 0.5]);
  });
});
