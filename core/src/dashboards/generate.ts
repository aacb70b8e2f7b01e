/**
 * The first dashboard of a user, made from the devices they can see: a pure function of devices
 * and entities, so it is the same for the same install and easy to test. Every config it makes is
 * valid for the built-in card it names (frontend/test/cards checks that against the card schemas).
 */
import type { CardPlacement, DashboardLayout } from './layout.js';

export interface GenerateInput {
  devices: readonly { id: string; name: string; maxPowerW?: number }[];
  entities: readonly { id: string; deviceId: string; kind: string; role: string | null }[];
}

const MAX_GAUGES = 6;
const MAX_SWITCHES = 6;
const MAX_BAR_DEVICES = 8;

/** Gauge maximum: the device's own maximum power, else a household plug's 3.6 kW. */
const DEFAULT_GAUGE_MAX_W = 3600;

export function generateFirstDashboard(input: GenerateInput): { title: string; layout: DashboardLayout } {
  const cards: CardPlacement[] = [];
  let n = 0;
  const add = (w: number, config: CardPlacement['config']) => cards.push({ id: `c${++n}`, w, config });

  const devices = [...input.devices].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const byDevice = new Map<string, GenerateInput['entities'][number][]>();
  for (const e of input.entities) {
    const list = byDevice.get(e.deviceId) ?? [];
    list.push(e);
    byDevice.set(e.deviceId, list);
  }
  const powerOf = (deviceId: string) => byDevice.get(deviceId)?.find((e) => e.kind === 'power');
  const roleEntity = (role: string) => input.entities.find((e) => e.kind === 'power' && e.role === role)?.id;

  const flow = { grid: roleEntity('grid'), pv: roleEntity('pv'), battery: roleEntity('battery') };
  if (flow.grid || flow.pv || flow.battery) {
    const config: CardPlacement['config'] = { type: 'energy-flow' };
    for (const [k, v] of Object.entries(flow)) if (v) config[k] = v;
    add(6, config);
  }

  const metered = devices.filter((d) => powerOf(d.id));
  for (const d of metered.slice(0, MAX_GAUGES)) {
    add(3, { type: 'gauge', entity: powerOf(d.id)!.id, name: d.name, max: d.maxPowerW ?? DEFAULT_GAUGE_MAX_W });
  }

  if (metered.length > 0) {
    add(12, { type: 'history', entities: metered.slice(0, 4).map((d) => powerOf(d.id)!.id), hours: 24, name: 'Power, last 24 hours' });
  }

  const withEnergy = devices.filter((d) => byDevice.get(d.id)?.some((e) => ['power', 'energy_total', 'energy_interval'].includes(e.kind)));
  if (withEnergy.length > 0) {
    add(6, { type: 'stat', stat: 'today_kwh', devices: withEnergy.slice(0, MAX_BAR_DEVICES).map((d) => d.id), name: 'Energy today' });
    add(12, { type: 'energy-bars', devices: withEnergy.slice(0, MAX_BAR_DEVICES).map((d) => d.id), interval: 'hour', period: 'today', stacked: true });
    add(6, { type: 'pie', period: 'today', donut: true });
  }

  const switches = devices.flatMap((d) => (byDevice.get(d.id) ?? []).filter((e) => e.kind === 'switch'));
  for (const s of switches.slice(0, MAX_SWITCHES)) add(3, { type: 'switch', entity: s.id });

  add(6, { type: 'device-list' });
  add(6, { type: 'notifications', limit: 5 });
  return { title: 'Home', layout: { cards } };
}
