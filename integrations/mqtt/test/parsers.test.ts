/** Family parsers over captured payloads (test/fixtures/<vendor>/<model>/). Pure: no broker, no hub. */
import { describe, expect, it } from 'vitest';
import { parseTasmota } from '../src/families/tasmota.js';
import { parseShellyGen1 } from '../src/families/shelly-gen1.js';
import { parseShellyGen2 } from '../src/families/shelly-gen2.js';
import { parseZigbee2mqtt } from '../src/families/zigbee2mqtt.js';
import { parseSimulator } from '../src/families/simulator.js';
import { compileMapping, parseMapped } from '../src/families/generic.js';
import { devices, fixture, kinds, values } from './fixtures.js';

describe('Tasmota', () => {
  it('reads ENERGY of a Pow R2: Total kWh as a counter with its start time, Power, Voltage, Current, Factor', () => {
    const [m] = fixture('tasmota/sonoff-pow-r2/sensor.json');
    const [msg] = devices(parseTasmota(m.topic, m.payload));
    expect(msg.device).toMatchObject({ id: 'pow_r2', manufacturer: 'Tasmota' });
    expect(values(msg)).toEqual({ energy: 6.294, power: 2635, voltage: 227, current: 11.661, power_factor: 0.99 });
    expect(kinds(msg)).toEqual({ energy: 'energy_total kWh', power: 'power W', voltage: 'voltage V', current: 'current A', power_factor: 'power_factor' });
    expect(msg.counters).toEqual([{ key: 'energy', epoch: '2018-11-14T18:39:40' }]);
    expect(msg.problems).toEqual([]);
  });

  it('turns multi-channel arrays into one entity per channel, numbered like POWER1/POWER2; a scalar stays one entity', () => {
    const [m] = fixture('tasmota/sonoff-dual/sensor.json');
    const [msg] = devices(parseTasmota(m.topic, m.payload));
    expect(values(msg)).toEqual({ energy_1: 2.813, energy_2: 0.254, power_1: 52, power_2: 5, voltage: 229, current_1: 0.23, current_2: 0.022 });
    expect(msg.counters?.map((c) => c.key)).toEqual(['energy_1', 'energy_2']);
  });

  it('keeps the valid readings of a message with a wrong type and names the bad field', () => {
    const [msg] = devices(parseTasmota('tele/p/SENSOR', JSON.stringify({ ENERGY: { Total: 1.5, Power: 'n/a', Voltage: [230, 'x'] } })));
    expect(values(msg)).toEqual({ energy: 1.5, voltage_1: 230 });
    expect(msg.problems.map((p) => p.detail)).toEqual(['ENERGY.Power is "n/a", not a number', 'ENERGY.Voltage[1] is "x", not a number']);
  });

  it('reads relay states from STATE, RESULT and stat/POWERn, with the command topic', () => {
    const [state] = devices(parseTasmota('tele/plug/STATE', '{"Time":"2024-01-01T00:00:00","POWER":"ON","Wifi":{}}'));
    expect(values(state)).toEqual({ switch: 'on' });
    expect(state.controls?.switch.topic).toBe('cmnd/plug/POWER');
    expect(state.controls?.switch.payload('toggle')).toBe('TOGGLE');
    const [result] = devices(parseTasmota('stat/dual/RESULT', '{"POWER2":"OFF"}'));
    expect(values(result)).toEqual({ switch_2: 'off' });
    expect(result.controls?.switch_2.topic).toBe('cmnd/dual/POWER2');
    const [plain] = devices(parseTasmota('stat/plug/POWER', 'OFF'));
    expect(values(plain)).toEqual({ switch: 'off' });
  });

  it('reads LWT availability and flags a malformed payload', () => {
    expect(devices(parseTasmota('tele/plug/LWT', 'Offline'))[0].available).toBe(false);
    expect(devices(parseTasmota('tele/plug/LWT', 'Online'))[0].available).toBe(true);
    expect(devices(parseTasmota('tele/plug/SENSOR', '{"ENERGY":'))[0].problems[0].kind).toBe('malformed');
    expect(parseTasmota('tele/plug/INFO1', '{}')).toEqual({ kind: 'ignored' });
    expect(parseTasmota('shellies/x/online', 'true')).toBeNull();
  });
});

describe('Shelly Gen1', () => {
  it('reads a Plug S: relay state with its command topic, power in W, energy in watt-minutes', () => {
    const msgs = fixture('shelly/plug-s/messages.json').map((m) => parseShellyGen1(m.topic, m.payload));
    const [relay, power, energy, over, temp, online] = msgs;
    expect(devices(relay)[0].device).toMatchObject({ id: 'shellyplug-s-c8c9a3', model: 'shellyplug-s', manufacturer: 'Shelly' });
    expect(values(devices(relay)[0])).toEqual({ switch: 'on' });
    expect(devices(relay)[0].controls?.switch.topic).toBe('shellies/shellyplug-s-C8C9A3/relay/0/command');
    expect(values(devices(power)[0])).toEqual({ power: 52.3 });
    expect(kinds(devices(energy)[0])).toEqual({ energy: 'energy_total Wmin' });
    expect(values(devices(energy)[0])).toEqual({ energy: 23389 });
    expect(over).toEqual({ kind: 'ignored' });
    expect(temp).toEqual({ kind: 'ignored' });
    expect(devices(online)[0].available).toBe(true);
  });

  it('reads a 3EM phase: totals in Wh, returned energy as an export counter, channel-suffixed keys', () => {
    const msgs = fixture('shelly/3em/messages.json').flatMap((m) => devices(parseShellyGen1(m.topic, m.payload)));
    const all = Object.assign({}, ...msgs.map(values));
    expect(all).toEqual({ power_1: -812.4, energy_1: 152345.7, energy_returned_1: 98000.1, voltage_1: 231.05, current_1: 3.52, power_factor_1: -0.99 });
    expect(Object.assign({}, ...msgs.map(kinds))).toMatchObject({ energy_1: 'energy_total Wh', energy_returned_1: 'energy_total Wh out' });
  });

  it('counts an unknown topic under the device and a non-number as a wrong type', () => {
    expect(parseShellyGen1('shellies/shelly1-ABCDEF/relay/0/bogus', '1')).toMatchObject({ kind: 'unknown', deviceId: 'shelly1-abcdef' });
    const [msg] = devices(parseShellyGen1('shellies/shelly1-ABCDEF/relay/0/power', 'lots'));
    expect(msg.readings).toEqual([]);
    expect(msg.problems[0].kind).toBe('wrong_type');
  });
});

describe('Shelly Gen2+', () => {
  it('reads switch status: apower, voltage, current, aenergy.total in Wh, output with the RPC command', () => {
    const [m] = fixture('shelly/plus1pm/status-switch0.json');
    const [msg] = devices(parseShellyGen2(m.topic, m.payload));
    expect(msg.device).toMatchObject({ id: 'shellyplus1pm-44179394d4d4', model: 'shellyplus1pm' });
    expect(values(msg)).toEqual({ power: 12.3, voltage: 230.5, current: 0.053, energy: 456.7, switch: 'on' });
    expect(kinds(msg).energy).toBe('energy_total Wh');
    const rpc = JSON.parse(msg.controls!.switch.payload('turn_off')!) as Record<string, unknown>;
    expect(msg.controls!.switch.topic).toBe('shellyplus1pm-44179394d4d4/rpc');
    expect(rpc).toMatchObject({ method: 'Switch.Set', params: { id: 0, on: false } });
  });

  it('reports only what a NotifyStatus carries, at its ts; off without apower means 0 W', () => {
    const [m] = fixture('shelly/plus1pm/notify-status.json');
    const [msg] = devices(parseShellyGen2(m.topic, m.payload));
    expect(values(msg)).toEqual({ switch: 'off', power: 0 });
    expect(msg.readings.every((r) => r.at === 1712000123450)).toBe(true);
  });

  it('subtracts returned energy from aenergy for import and reports it as an export counter', () => {
    const [msg] = devices(parseShellyGen2('shellyplus1pm-aa/status/switch:1', JSON.stringify({ id: 1, apower: -100, aenergy: { total: 1000 }, ret_aenergy: { total: 300 } })));
    expect(values(msg)).toEqual({ power_1: -100, energy_returned_1: 300, energy_1: 700 });
  });

  it('reads EM1 and EM1Data channels of a Pro EM', () => {
    const [a] = fixture('shelly/pro-em/em1-1.json');
    const [b] = fixture('shelly/pro-em/em1data-1.json');
    expect(values(devices(parseShellyGen2(a.topic, a.payload))[0])).toEqual({ power_1: 501.8, voltage_1: 234.9, current_1: 2.598, frequency_1: 50, power_factor_1: 0.84 });
    const [data] = devices(parseShellyGen2(b.topic, b.payload));
    expect(values(data)).toEqual({ energy_1: 1234567.8, energy_returned_1: 4321 });
    expect(kinds(data)).toEqual({ energy_1: 'energy_total Wh', energy_returned_1: 'energy_total Wh out' });
  });

  it('reads three-phase EM and EMData', () => {
    const [em] = devices(parseShellyGen2('shellypro3em-1/status/em:0', JSON.stringify({ id: 0, a_act_power: 100, b_act_power: 200, c_act_power: -50, a_voltage: 230, total_act_power: 250, total_current: 2.1 })));
    expect(values(em)).toEqual({ power: 250, current: 2.1, power_a: 100, voltage_a: 230, power_b: 200, power_c: -50 });
    const [data] = devices(parseShellyGen2('shellypro3em-1/status/emdata:0', JSON.stringify({ id: 0, total_act: 5000.5, total_act_ret: 10 })));
    expect(values(data)).toEqual({ energy: 5000.5, energy_returned: 10 });
  });

  it('ignores components it does not record and topics that are not Gen2', () => {
    expect(parseShellyGen2('shellyplus1-1/status/sys', '{}')).toEqual({ kind: 'ignored' });
    expect(parseShellyGen2('shellyplus1-1/status/input:0', '{}')).toEqual({ kind: 'ignored' });
    expect(parseShellyGen2('shellies/x/online', 'true')).toBeNull();
    expect(parseShellyGen2('a/b/c/d', '{}')).toBeNull();
    expect(devices(parseShellyGen2('shellyplus1-1/online', 'false'))[0].available).toBe(false);
  });
});

describe('zigbee2mqtt', () => {
  it('reads a Tuya TS011F plug: power W, energy kWh, voltage, current, state ON with the /set command', () => {
    const [m] = fixture('zigbee2mqtt/tuya-ts011f/state.json');
    const [msg] = devices(parseZigbee2mqtt(m.topic, m.payload));
    expect(msg.device.id).toBe('0xa4c138f1e2d3b4c5');
    expect(values(msg)).toEqual({ power: 68, energy: 616.25, voltage: 242, current: 0.47, switch: 'on' });
    expect(kinds(msg).energy).toBe('energy_total kWh');
    expect(msg.controls?.switch.topic).toBe('zigbee2mqtt/0xa4c138f1e2d3b4c5/set');
    expect(msg.controls?.switch.payload('turn_off')).toBe('{"state":"OFF"}');
  });

  it('reads availability in both forms, skips nulls, ignores the bridge and our own /set', () => {
    expect(devices(parseZigbee2mqtt('zigbee2mqtt/kitchen/plug/availability', '{"state":"offline"}'))[0]).toMatchObject({ device: { id: 'kitchen_plug' }, available: false });
    expect(devices(parseZigbee2mqtt('zigbee2mqtt/plug/availability', 'online'))[0].available).toBe(true);
    expect(values(devices(parseZigbee2mqtt('zigbee2mqtt/plug', '{"power":null,"energy":1.5}'))[0])).toEqual({ energy: 1.5 });
    expect(parseZigbee2mqtt('zigbee2mqtt/bridge/state', '{"state":"online"}')).toEqual({ kind: 'ignored' });
    expect(parseZigbee2mqtt('zigbee2mqtt/plug/set', '{"state":"ON"}')).toEqual({ kind: 'ignored' });
    // A light with a state but nothing metered is not ours.
    expect(devices(parseZigbee2mqtt('zigbee2mqtt/lamp', '{"state":"ON","brightness":200}'))[0].entities).toEqual([]);
  });
});

describe('metering simulators', () => {
  const opts = { topic: 'energy/+/reading', kind: 'energy_total' as const, unit: 'kWh' as const };
  it('reads both payload shapes with ISO, Unix-second and Unix-millisecond timestamps', () => {
    const [a, b, c] = fixture('simulator/json/readings.json').map((m) => devices(parseSimulator(m.topic, m.payload, opts))[0]);
    expect(a.device.id).toBe('meter-7');
    expect(a.readings).toEqual([{ key: 'energy', value: 1532.25, at: Date.parse('2026-01-05T10:15:00Z') }]);
    expect(b.readings).toEqual([{ key: 'energy', value: 17.5, at: 1767608100000 }]);
    expect(c.readings).toEqual([{ key: 'power', value: 2.5, at: 1767608100000 }]);
    expect(kinds(c)).toEqual({ power: 'power kW' });
  });

  it('refuses a local time without an offset and a missing value, naming why', () => {
    const [a] = devices(parseSimulator('energy/m/reading', '{"timestamp":"2026-01-05T10:15:00","device_id":"m","measurement_value":1}', opts));
    expect(a.readings).toEqual([]);
    expect(a.problems[0].kind).toBe('wrong_type');
    const [b] = devices(parseSimulator('energy/m/reading', '{"device_id":"m"}', opts));
    expect(b.problems[0]).toMatchObject({ kind: 'malformed', detail: 'no measurement_value or value' });
    expect(parseSimulator('energy/m/other', '{}', opts)).toBeNull();
  });
});

describe('generic mappings', () => {
  it('takes the value from a JSON pointer or a field path, applies the scale, fills the device from the wildcard', () => {
    const ptr = compileMapping({ topic: 'home/+/tele', device: 'meter_{1}', key: 'power', kind: 'power', unit: 'W', value: '/ENERGY/Power', scale: 1000 });
    const field = compileMapping({ topic: 'home/+/tele', device: 'meter_{1}', key: 'energy', kind: 'energy_total', unit: 'kWh', value: 'meters[1].total' });
    const [a, b] = devices(parseMapped('home/Cellar/tele', JSON.stringify({ ENERGY: { Power: 1.5 }, meters: [{}, { total: 12.5 }] }), [ptr, field]));
    expect(a.device.id).toBe('meter_cellar');
    expect(values(a)).toEqual({ power: 1500 });
    expect(values(b)).toEqual({ energy: 12.5 });
  });

  it('reads a plain number payload and reports a missing value', () => {
    const m = compileMapping({ topic: 'x/+/w', key: 'power', kind: 'power' });
    expect(values(devices(parseMapped('x/a/w', ' 42.5 ', [m]))[0])).toEqual({ power: 42.5 });
    expect(devices(parseMapped('x/a/w', 'abc', [m]))[0].problems[0].kind).toBe('wrong_type');
    expect(parseMapped('y/a/w', '1', [m])).toBeNull();
  });

  it('refuses a path it cannot read', () => {
    expect(() => compileMapping({ topic: 'x', key: 'p', kind: 'power', value: 'a..b' })).toThrow(/cannot read the path/);
  });
});
