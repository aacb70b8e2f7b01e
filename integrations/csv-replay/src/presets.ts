/**
 * Presets as data. 'demo' is the bundled household (demo/household.csv, made by
 * scripts/generate-demo.ts): six devices, one week at 1-minute resolution, replayed in real time in
 * a loop with a day of history at start, so a fresh `npm start -- --demo` has live readings and
 * energy at once.
 */
import { fileURLToPath } from 'node:url';
import type { RawColumn, RawDevice, RawReplayConfig } from './config.js';

export const DEMO_FILE = fileURLToPath(new URL('../demo/household.csv', import.meta.url));

const demoColumns: RawColumn[] = [
  { column: 'fridge_w', device: 'fridge', key: 'power', kind: 'power', unit: 'W', role: 'load', name: 'Fridge power' },
  { column: 'washing_machine_w', device: 'washing_machine', key: 'power', kind: 'power', unit: 'W', role: 'load', name: 'Washing machine power' },
  { column: 'heat_pump_w', device: 'heat_pump', key: 'power', kind: 'power', unit: 'W', role: 'heat_pump', name: 'Heat pump power' },
  { column: 'ev_charger_w', device: 'ev_charger', key: 'power', kind: 'power', unit: 'W', role: 'ev', name: 'Charging power' },
  { column: 'pv_w', device: 'pv_inverter', key: 'power', kind: 'power', unit: 'W', role: 'pv', flow: 'out', name: 'PV production' },
  { column: 'grid_w', device: 'grid_meter', key: 'power', kind: 'power', unit: 'W', role: 'grid', name: 'Grid power (import > 0)' },
  { column: 'grid_import_kwh', device: 'grid_meter', key: 'energy_import', kind: 'energy_total', unit: 'kWh', role: 'grid', flow: 'in', name: 'Grid import counter' },
  { column: 'grid_export_kwh', device: 'grid_meter', key: 'energy_export', kind: 'energy_total', unit: 'kWh', role: 'grid', flow: 'out', name: 'Grid export counter' },
];

const demoDevices: Record<string, RawDevice> = {
  fridge: {
    name: 'Fridge', description: 'Fridge-freezer; the compressor cycles at 80–120 W about 40 % of the time.',
    address: 'Kitchen', max_power_w: 400, max_hourly_kwh: 0.2,
  },
  washing_machine: {
    name: 'Washing machine', description: 'Front loader: heating at ~2 kW, drum motor ~300 W; one wash a week on a delayed start.',
    address: 'Utility room', max_power_w: 2600, max_hourly_kwh: 2.5,
  },
  heat_pump: {
    name: 'Heat pump', description: 'Air-to-water heat pump for heating and hot water, 0.6–3 kW depending on the weather.',
    address: 'Garden, north wall', max_power_w: 3500, max_hourly_kwh: 3.5,
  },
  ev_charger: {
    name: 'EV charger', description: '11 kW wallbox; evening charging sessions on some days.',
    address: 'Garage', max_power_w: 11500, max_hourly_kwh: 11.5,
  },
  pv_inverter: {
    name: 'PV inverter', description: '8 kWp south-facing roof array.',
    address: 'Roof (inverter in the cellar)', max_power_w: 8000,
  },
  grid_meter: {
    name: 'Grid meter', description: 'Two-way smart meter at the grid connection: power (import > 0, export < 0) and import/export counters.',
    address: 'Cellar, meter cabinet', max_power_w: 30000,
  },
};

export const PRESETS: Record<string, RawReplayConfig> = {
  demo: {
    file: DEMO_FILE,
    time_column: 'time',
    columns: demoColumns,
    devices: demoDevices,
    speed: 1,
    loop: true,
    align: 'now',
    backfill: '24h',
  },
};
