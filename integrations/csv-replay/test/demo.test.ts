import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeDb } from '../../../core/test/support/db.js';
import { DEMO_COLUMNS, DEMO_MINUTES, DEMO_START, generateDemoHousehold } from '../scripts/demo-household.js';
import { DEMO_FILE } from '../src/presets.js';
import { HOUR, MIN, startReplay, type ReplayHarness } from './support.js';

const committed = readFileSync(DEMO_FILE, 'utf8');

function table(text: string): Record<string, number[]> & { time: number[] } {
  const [header, ...rows] = text.trimEnd().split('\n');
  const names = header!.split(',');
  const cols: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const row of rows) {
    row.split(',').forEach((cell, i) => cols[names[i]!]!.push(i === 0 ? Date.parse(cell) : Number(cell)));
  }
  return cols as Record<string, number[]> & { time: number[] };
}

/** Runs of consecutive minutes where `pred` holds, as [start index, length]. */
function runs(values: number[], pred: (v: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < values.length; i++) {
    if (!pred(values[i]!)) continue;
    const start = i;
    while (i + 1 < values.length && pred(values[i + 1]!)) i++;
    out.push([start, i - start + 1]);
  }
  return out;
}

describe('the demo household', () => {
  const d = table(committed);

  it('is reproduced byte for byte by the generator', () => {
    expect(generateDemoHousehold()).toBe(committed);
  });

  it('is one week at one-minute resolution', () => {
    expect(Object.keys(d)).toEqual([...DEMO_COLUMNS]);
    expect(d.time).toHaveLength(DEMO_MINUTES);
    expect(d.time[0]).toBe(DEMO_START);
    expect(d.time.every((t, i) => t === DEMO_START + i * MIN)).toBe(true);
    expect(committed.length).toBeLessThan(700_000);
  });

  it('has a fridge cycling at 80–120 W about 40 % of the time', () => {
    const on = d.fridge_w.filter((w) => w > 10);
    expect(on.length / DEMO_MINUTES).toBeGreaterThan(0.35);
    expect(on.length / DEMO_MINUTES).toBeLessThan(0.45);
    expect(Math.min(...on)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...on)).toBeLessThanOrEqual(125);
    const cycles = runs(d.fridge_w, (w) => w > 10).slice(0, -1); // the last one is cut off by the end of the week
    expect(cycles.every(([, len]) => len >= 12 && len <= 18)).toBe(true);
  });

  it('has a few washing cycles with ~2 kW heating, a ~300 W motor and standby during a delayed start', () => {
    const heating = runs(d.washing_machine_w, (w) => w > 1500).filter(([, len]) => len >= 5);
    expect(heating.length).toBeGreaterThanOrEqual(3);
    expect(heating.length).toBeLessThanOrEqual(5);
    const motor = d.washing_machine_w.filter((w) => w >= 200 && w <= 400);
    expect(motor.length).toBeGreaterThan(100);
    const standby = runs(d.washing_machine_w, (w) => w >= 2 && w <= 20).filter(([, len]) => len >= 60);
    expect(standby.length).toBeGreaterThanOrEqual(1);
  });

  it('has a heat pump between 0.5 and 3 kW when running, working harder in the cold night and morning', () => {
    const running = d.heat_pump_w.filter((w) => w > 100);
    expect(Math.min(...running)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...running)).toBeLessThanOrEqual(3000);
    const utcHour = (i: number) => new Date(d.time[i]!).getUTCHours();
    const mean = (pred: (h: number) => boolean) => {
      const v = d.heat_pump_w.filter((_, i) => pred(utcHour(i)));
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    expect(mean((h) => h >= 5 && h < 8)).toBeGreaterThan(mean((h) => h >= 12 && h < 15));
  });

  it('charges the EV on some evenings at 7–11 kW for a few hours', () => {
    const sessions = runs(d.ev_charger_w, (w) => w > 1000);
    expect(sessions.length).toBeGreaterThanOrEqual(3);
    expect(sessions.length).toBeLessThanOrEqual(5);
    for (const [start, len] of sessions) {
      expect(len).toBeGreaterThanOrEqual(60);
      expect(len).toBeLessThanOrEqual(5 * 60);
      const hour = new Date(d.time[start]!).getUTCHours();
      expect(hour).toBeGreaterThanOrEqual(15); // 17:00 local or later
      expect(hour).toBeLessThanOrEqual(19);
      const bulk = d.ev_charger_w.slice(start, start + len - 20);
      expect(Math.min(...bulk)).toBeGreaterThan(7000);
      expect(Math.max(...bulk)).toBeLessThan(11_100);
    }
  });

  it('produces PV in daylight only, following a bell curve', () => {
    d.pv_w.forEach((w, i) => {
      const h = new Date(d.time[i]!).getUTCHours();
      if (h < 4 || h >= 19) expect(w).toBe(0);
    });
    const noon = d.pv_w.filter((_, i) => new Date(d.time[i]!).getUTCHours() === 11);
    const morning = d.pv_w.filter((_, i) => new Date(d.time[i]!).getUTCHours() === 6);
    expect(Math.max(...noon)).toBeGreaterThan(5000);
    expect(Math.max(...noon)).toBeLessThanOrEqual(8000);
    expect(Math.max(...morning)).toBeLessThan(Math.max(...noon) / 2);
  });

  it('meters the grid as household load minus PV, with counters that add up the import and export', () => {
    let exportMinutes = 0;
    for (let i = 0; i < DEMO_MINUTES; i++) {
      const devices = d.fridge_w[i]! + d.washing_machine_w[i]! + d.heat_pump_w[i]! + d.ev_charger_w[i]! - d.pv_w[i]!;
      const other = d.grid_w[i]! - devices; // lights, cooking … that no device reports
      expect(other).toBeGreaterThanOrEqual(100);
      expect(other).toBeLessThan(6000);
      if (d.grid_w[i]! < 0) exportMinutes++;
      if (i === 0) continue;
      const prev = d.grid_w[i - 1]!;
      expect(d.grid_import_kwh[i]! - d.grid_import_kwh[i - 1]!).toBeCloseTo(Math.max(prev, 0) / 60_000, 2);
      expect(d.grid_export_kwh[i]! - d.grid_export_kwh[i - 1]!).toBeCloseTo(Math.max(-prev, 0) / 60_000, 2);
    }
    expect(exportMinutes).toBeGreaterThan(600);
  });
});

const TUESDAY_NOON = '2025-06-03T12:00:00Z';
const DEVICES = ['fridge', 'washing_machine', 'heat_pump', 'ev_charger', 'pv_inverter', 'grid_meter'];

describeDb('the demo preset on a real hub', (target) => {
  let h: ReplayHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('registers six devices and has a day of energy for each at once, then live readings every minute', async () => {
    h = await startReplay({ dbUrl: target.url, at: TUESDAY_NOON, demo: true });
    expect(h.hub.integrations()).toEqual([expect.objectContaining({ instanceId: 'demo', integrationId: 'csv-replay', status: 'running' })]);
    expect(h.hub.devices.list().map((d) => d.id).sort()).toEqual([...DEVICES].sort());
    for (const d of h.hub.devices.list()) {
      expect(d).toMatchObject({ integration: 'demo', name: expect.any(String), description: expect.any(String), address: expect.any(String) });
    }
    expect(h.hub.entities.get('pv_inverter.power')).toMatchObject({ role: 'pv', flow: 'out' });
    expect(h.hub.entities.get('grid_meter.energy_import')).toMatchObject({ kind: 'energy_total', role: 'grid' });

    await h.hub.flush();
    const now = Date.parse(TUESDAY_NOON);
    const day = { start: new Date(now - 24 * HOUR), end: new Date(now), interval: 'hour' as const, tz: 'Europe/Berlin' };
    const kwh: Record<string, number> = {};
    for (const deviceId of DEVICES) {
      const rows = await h.hub.energy.energy({ ...day, deviceId });
      kwh[deviceId] = rows.reduce((s, r) => s + r.value, 0);
      expect(rows.length, deviceId).toBeGreaterThan(0);
      expect(kwh[deviceId], deviceId).toBeGreaterThan(0);
    }
    // The file's Monday afternoon and night: a sunny day, a wash, an evening charge.
    expect(kwh.pv_inverter).toBeGreaterThan(20);
    expect(kwh.ev_charger).toBeGreaterThan(10);
    expect(kwh.fridge).toBeGreaterThan(0.5);
    expect(kwh.fridge).toBeLessThan(1.5);

    // The grid import counter never falls (no meter reset for the ledger), and equals the energy.
    const counter = await h.samples('grid_meter.energy_import');
    expect(counter).toHaveLength(24 * 60 + 1);
    expect(counter.every(([, v], i) => i === 0 || v! >= counter[i - 1]![1]!)).toBe(true);
    expect(kwh.grid_meter).toBeCloseTo(counter.at(-1)![1]! - counter[0]![1]!, 5);

    await h.clock.advance(2 * MIN);
    expect((await h.samples('fridge.power')).slice(-3).map(([t]) => t)).toEqual(['2025-06-03T12:00:00Z', '2025-06-03T12:01:00Z', '2025-06-03T12:02:00Z']);
    expect(await h.diagnostics()).toMatchObject({ rows_replayed: 24 * 60 + 3, loops: 0, last_timestamp: '2025-06-03T12:02:00.000Z' });
  });
});
