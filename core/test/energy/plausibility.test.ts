import { describe, expect, it } from 'vitest';
import { checkPlausibility } from '../../src/energy/index.js';

const T = Date.UTC(2025, 0, 1);
const MIN = 60_000;

describe('plausibility guard', () => {
  it('rejects sentinel values for every kind', () => {
    expect(checkPlausibility('power', 65535)).toBe('sentinel value 65535');
    expect(checkPlausibility('energy_total', 2147483647)).toBe('sentinel value 2147483647');
    expect(checkPlausibility('energy_total', 21474836.47)).toBe('sentinel value 21474836.47');
    expect(checkPlausibility('voltage', 4294967295)).toBe('sentinel value 4294967295');
    expect(checkPlausibility('voltage', Number.NaN)).toBe('not a number');
    expect(checkPlausibility('current', Number.POSITIVE_INFINITY)).toMatch(/infinite/);
    expect(checkPlausibility('current', Number.NEGATIVE_INFINITY)).toMatch(/infinite/);
  });

  it('recognises a sentinel before unit conversion', () => {
    // 65535 Wh from a register arrives as 65.535 kWh; the raw value gives it away.
    expect(checkPlausibility('energy_total', 65.535, { raw: 65535 })).toBe('sentinel value 65535');
  });

  it('accepts ordinary values and unavailability', () => {
    expect(checkPlausibility('power', 1500)).toBeNull();
    expect(checkPlausibility('power', -4200)).toBeNull();
    expect(checkPlausibility('voltage', 231.4)).toBeNull();
    expect(checkPlausibility('energy_total', 12345.6)).toBeNull();
    expect(checkPlausibility('power', null)).toBeNull();
  });

  it('rejects power above the device maximum, in either direction', () => {
    expect(checkPlausibility('power', 91_200)).toBe('power 91.2 kW is above the device maximum of 60 kW');
    expect(checkPlausibility('power', -61_000)).toMatch(/above the device maximum of 60 kW/);
    expect(checkPlausibility('power', 5000, { maxPowerW: 3680 })).toBe('power 5 kW is above the device maximum of 3.68 kW');
    expect(checkPlausibility('power', 60_000)).toBeNull();
  });

  it('rejects a counter rise that implies more than the maximum power since the previous reading', () => {
    const prev = { t: T, v: 1000 };
    // 1.52 kWh in one minute = 91.2 kW.
    expect(checkPlausibility('energy_total', 1001.52, { prev, at: T + MIN })).toBe('implies 91.2 kW, above the device maximum of 60 kW');
    expect(checkPlausibility('energy_total', 1000.5, { prev, at: T + MIN })).toBeNull();
    // Without a previous reading there is nothing to compare.
    expect(checkPlausibility('energy_total', 1001.52, { at: T + MIN })).toBeNull();
    // A drop is a reset or a glitch for the ledger, not a rate problem.
    expect(checkPlausibility('energy_total', 3, { prev, at: T + MIN })).toBeNull();
  });

  it('rejects interval energy that is negative or implies more than the maximum power', () => {
    expect(checkPlausibility('energy_interval', -0.5)).toBe('negative interval energy -0.5 kWh');
    const prev = { t: T, v: 1 };
    expect(checkPlausibility('energy_interval', 20, { prev, at: T + 15 * MIN })).toBe('implies 80 kW, above the device maximum of 60 kW');
    expect(checkPlausibility('energy_interval', 2, { prev, at: T + 15 * MIN })).toBeNull();
    expect(checkPlausibility('energy_interval', 20)).toBeNull();
  });

  it('rejects a power factor outside -1…1', () => {
    expect(checkPlausibility('power_factor', 1.5)).toMatch(/power factor 1.5/);
    expect(checkPlausibility('power_factor', -0.8)).toBeNull();
  });
});
