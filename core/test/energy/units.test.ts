import { describe, expect, it } from 'vitest';
import { kindForBatch, parseUnit, toCanonical, UnitError } from '../../src/energy/index.js';

describe('units', () => {
  it('parses unit strings case-insensitively', () => {
    expect(parseUnit('kwh')).toBe('kWh');
    expect(parseUnit('KW')).toBe('kW');
    expect(parseUnit(' w ')).toBe('W');
    expect(parseUnit('WMIN')).toBe('Wmin');
    expect(parseUnit('ma')).toBe('mA');
    expect(parseUnit('mwh')).toBe('MWh');
    expect(parseUnit('')).toBe('');
  });

  it('rejects an unknown unit with a message naming it', () => {
    expect(() => parseUnit('furlong')).toThrow(UnitError);
    expect(() => parseUnit('furlong')).toThrow(/unknown unit "furlong"/);
  });

  it('converts power to W', () => {
    expect(toCanonical('power', 1500)).toBe(1500);
    expect(toCanonical('power', 1500, 'W')).toBe(1500);
    expect(toCanonical('power', 1.5, 'kW')).toBe(1500);
    expect(toCanonical('power', 2, 'MW')).toBe(2_000_000);
    expect(toCanonical('power', -3, 'kw')).toBe(-3000);
  });

  it('converts energy to kWh, including Shelly watt-minutes', () => {
    for (const kind of ['energy_total', 'energy_interval'] as const) {
      expect(toCanonical(kind, 12)).toBe(12);
      expect(toCanonical(kind, 1500, 'Wh')).toBeCloseTo(1.5, 12);
      expect(toCanonical(kind, 3, 'MWh')).toBe(3000);
      expect(toCanonical(kind, 60_000, 'Wmin')).toBeCloseTo(1, 12);
      expect(toCanonical(kind, 90, 'Wmin')).toBeCloseTo(0.0015, 12);
    }
  });

  it('converts current, voltage, frequency and power factor', () => {
    expect(toCanonical('current', 250, 'mA')).toBeCloseTo(0.25, 12);
    expect(toCanonical('current', 3, 'A')).toBe(3);
    expect(toCanonical('voltage', 230, 'v')).toBe(230);
    expect(toCanonical('frequency', 50, 'HZ')).toBe(50);
    expect(toCanonical('power_factor', 95, '%')).toBeCloseTo(0.95, 12);
    expect(toCanonical('power_factor', 0.9)).toBe(0.9);
    expect(toCanonical('switch', 1)).toBe(1);
  });

  it('refuses a unit impossible for the kind, saying which units work', () => {
    expect(() => toCanonical('power', 1, 'kWh')).toThrow(UnitError);
    expect(() => toCanonical('power', 1, 'kWh')).toThrow('unit "kWh" cannot express power (use W, kW, MW)');
    expect(() => toCanonical('energy_total', 1, 'W')).toThrow(/cannot express energy_total/);
    expect(() => toCanonical('voltage', 1, 'A')).toThrow(/cannot express voltage/);
    expect(() => toCanonical('switch', 1, 'W')).toThrow(/takes no unit/);
    expect(() => toCanonical('power', 1, 'Hz')).toThrow(expect.objectContaining({ code: 'UNIT_INVALID_FOR_KIND' }));
  });

  it('maps a batch unit and reading type to a kind', () => {
    expect(kindForBatch('W')).toEqual({ kind: 'power', unit: 'W' });
    expect(kindForBatch('kw', 'interval')).toEqual({ kind: 'power', unit: 'kW' });
    expect(kindForBatch('kWh')).toEqual({ kind: 'energy_interval', unit: 'kWh' });
    expect(kindForBatch('WH', 'interval')).toEqual({ kind: 'energy_interval', unit: 'Wh' });
    expect(kindForBatch('kwh', 'cumulative')).toEqual({ kind: 'energy_total', unit: 'kWh' });
    expect(() => kindForBatch('kW', 'cumulative')).toThrow(/needs an energy unit/);
    expect(() => kindForBatch('V')).toThrow(/neither a power nor an energy unit/);
    expect(() => kindForBatch('parsec')).toThrow(/unknown unit/);
  });
});
