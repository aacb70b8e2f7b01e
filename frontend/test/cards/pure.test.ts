/**
 * The cards' pure side: config validation with readable messages, stub configs, periods in a time
 * zone, data shaping for the charts, the editor's form model and the dashboard's undo model.
 */
import { describe, expect, it } from 'vitest';
import { validateCardConfig, CardConfigError } from '../../src/cards/validate.js';
import { periodRange, soFarAndBefore, trendPercent, localDateTime, bucketLabel } from '../../src/cards/periods.js';
import { fieldsOf, parseField, withOption } from '../../src/cards/editor/form-model.js';
import { DashboardModel, UNDO_LIMIT } from '../../src/dashboard/model.js';
import { elementNameFor, configTypeFor } from '../../src/cards/registry.js';
import { generateFirstDashboard } from '../../../core/src/dashboards/generate.js';
import type { Device, Entity } from '../../src/cards/types.js';

const cards = async () => ({
  gauge: (await import('../../src/cards/gauge-card.js')).GaugeCard,
  stat: (await import('../../src/cards/stat-card.js')).StatCard,
  'energy-bars': (await import('../../src/cards/energy-bars-card.js')).EnergyBarsCard,
  history: (await import('../../src/cards/history-card.js')).HistoryCard,
  pie: (await import('../../src/cards/pie-card.js')).PieCard,
  switch: (await import('../../src/cards/switch-card.js')).SwitchCard,
  'device-list': (await import('../../src/cards/device-list-card.js')).DeviceListCard,
  'energy-flow': (await import('../../src/cards/energy-flow-card.js')).EnergyFlowCard,
  notifications: (await import('../../src/cards/notifications-card.js')).NotificationsCard,
});

const problemsOf = (schema: Record<string, unknown>, config: unknown): string[] => {
  try {
    validateCardConfig(schema, config);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(CardConfigError);
    return (err as CardConfigError).problems;
  }
};

const entity = (id: string, kind: string, role: string | null = null): Entity => ({
  id, device_id: id.split('.')[0], key: id.split('.')[1], kind, unit: kind === 'power' ? 'W' : null, name: null, role,
  source_unit: null, reports_on_change: false, max_gap_s: null, flow: 'in',
});
const device = (id: string, extra: Partial<Device> = {}): Device => ({
  id, name: `${id} name`, description: null, address: null, manufacturer: null, model: null, max_hourly_kwh: null,
  max_power_w: null, integration: null, created_at: '', updated_at: '', ...extra,
});

describe('card config validation', () => {
  it('names each problem the way a dashboard author can fix it', async () => {
    const { gauge, 'energy-bars': bars, switch: sw, pie } = await cards();
    expect(problemsOf(gauge.configSchema, { type: 'gauge', entity: 'fridge.power', max: 0, colour: 'red' }))
      .toEqual(['unknown option "colour"', 'max: must be greater than 0']);
    expect(problemsOf(gauge.configSchema, { type: 'gauge' })).toEqual(['set "entity" (one power entity) or "entities" (several, summed)']);
    expect(problemsOf(gauge.configSchema, { type: 'gauge', entity: 'Fridge Power' })[0]).toMatch(/^entity: "Fridge Power" is not valid \(an entity id such as fridge\.power\)$/);
    expect(problemsOf(bars.configSchema, { type: 'energy-bars', devices: [], interval: 'week' }))
      .toEqual(['devices: needs at least 1 item', 'interval: must be one of "15m", "hour", "day", "month"']);
    expect(problemsOf(sw.configSchema, { type: 'switch' })).toEqual(['missing required option "entity"']);
    expect(problemsOf(pie.configSchema, { type: 'pie', period: 'custom', start: '2026-11-01' })).toContain('missing required option "end"');
    expect(problemsOf(bars.configSchema, { type: 'energy-bars', devices: ['a', 'B C'] })[0]).toMatch(/^devices\[1\]: "B C" is not valid/);
  });

  it('fills in defaults and leaves the caller\'s object alone', async () => {
    const { gauge } = await cards();
    const input = { type: 'gauge', entity: 'fridge.power' };
    expect(validateCardConfig(gauge.configSchema, input)).toEqual({ type: 'gauge', entity: 'fridge.power', min: 0, max: 3600 });
    expect(input).toEqual({ type: 'gauge', entity: 'fridge.power' });
  });

  it('a card\'s setConfig throws the readable message (the dashboard shows it as an error card)', async () => {
    const { gauge, pie } = await cards();
    expect(() => new gauge().setConfig({ type: 'gauge', entity: 'a.power', min: 10, max: 5 })).toThrow('gauge card: max (5) must be greater than min (10)');
    expect(() => new gauge().setConfig({ type: 'gauge', entity: 'a.power', max: -1 })).toThrow('gauge card: max: must be greater than 0');
    expect(() => new pie().setConfig({ type: 'pie', period: 'custom', start: '2026-12-01', end: '2026-11-01' })).toThrow(/start \(2026-12-01\) must be before end/);
  });

  it('every stub config is valid for its card, with and without entities', async () => {
    const all = await cards();
    const entities = [entity('grid.power', 'power', 'grid'), entity('pv.power', 'power', 'pv'), entity('fridge.power', 'power', 'load'), entity('plug.switch', 'switch'), entity('meter.energy', 'energy_total')];
    const devices = [device('grid'), device('pv'), device('fridge', { max_power_w: 900 }), device('plug'), device('meter')];
    for (const [type, cls] of Object.entries(all)) {
      for (const [e, d] of [[entities, devices], [[], []]] as const) {
        const stub = cls.getStubConfig([...e], [...d]);
        expect(stub.type, type).toBe(type);
        expect(problemsOf(cls.configSchema, stub), `${type} ${JSON.stringify(stub)}`).toEqual([]);
      }
    }
    expect(all.gauge.getStubConfig(entities, devices)).toMatchObject({ entity: 'fridge.power', name: 'fridge name', max: 900 });
    expect(all['energy-flow'].getStubConfig(entities, devices)).toMatchObject({ grid: 'grid.power', pv: 'pv.power' });
    expect(all.switch.getStubConfig(entities, devices)).toMatchObject({ entity: 'plug.switch' });
  });

  it('every card of a dashboard the hub generates is valid for its card', async () => {
    const all = await cards() as Record<string, { configSchema: Record<string, unknown> }>;
    const { layout } = generateFirstDashboard({
      devices: [{ id: 'grid', name: 'Grid' }, { id: 'pv', name: 'PV' }, { id: 'plug', name: 'Plug', maxPowerW: 2000 }],
      entities: [
        { id: 'grid.power', deviceId: 'grid', kind: 'power', role: 'grid' }, { id: 'pv.power', deviceId: 'pv', kind: 'power', role: 'pv' },
        { id: 'plug.power', deviceId: 'plug', kind: 'power', role: null }, { id: 'plug.switch', deviceId: 'plug', kind: 'switch', role: null },
      ],
    });
    expect(new Set(layout.cards.map((c) => c.config.type))).toEqual(new Set(Object.keys(all)));
    for (const c of layout.cards) expect(problemsOf(all[c.config.type].configSchema, c.config), JSON.stringify(c.config)).toEqual([]);
    const empty = generateFirstDashboard({ devices: [], entities: [] }).layout.cards;
    for (const c of empty) expect(problemsOf(all[c.config.type].configSchema, c.config)).toEqual([]);
  });
});

describe('card types and elements', () => {
  it('maps config types to elements and back', () => {
    expect(elementNameFor('gauge')).toBe('jh-gauge-card');
    expect(elementNameFor('custom:acme-meter')).toBe('acme-meter');
    expect(elementNameFor('custom:nodash')).toBeUndefined();
    expect(elementNameFor('nope')).toBeUndefined();
    expect(configTypeFor('jh-energy-bars-card')).toBe('energy-bars');
    expect(configTypeFor('acme-meter')).toBe('custom:acme-meter');
  });
});

describe('periods in the user\'s time zone', () => {
  const at = Date.parse('2026-03-29T22:30:00Z'); // 00:30 on 30 March in Berlin (CEST), 29 March in UTC
  it('cuts today, the week, the month and the year in the zone', () => {
    expect(periodRange('today', 'Europe/Berlin', at)).toEqual({ start: '2026-03-30', end: '2026-03-31' });
    expect(periodRange('today', 'UTC', at)).toEqual({ start: '2026-03-29', end: '2026-03-30' });
    expect(periodRange('yesterday', 'Europe/Berlin', at)).toEqual({ start: '2026-03-29', end: '2026-03-30' });
    expect(periodRange('week', 'Europe/Berlin', at)).toEqual({ start: '2026-03-24', end: '2026-03-31' });
    expect(periodRange('month', 'Europe/Berlin', at)).toEqual({ start: '2026-03-01', end: '2026-04-01' });
    expect(periodRange('month', 'UTC', Date.parse('2026-12-15T00:00:00Z'))).toEqual({ start: '2026-12-01', end: '2027-01-01' });
    expect(periodRange('year', 'UTC', at)).toEqual({ start: '2026-01-01', end: '2027-01-01' });
    expect(localDateTime('Asia/Kathmandu', Date.parse('2026-01-01T00:00:00Z'))).toBe('2026-01-01T05:45:00');
  });

  it('compares today with yesterday until the same time, and the month with the last one until the same day', () => {
    expect(soFarAndBefore('today', 'Europe/Berlin', at)).toEqual({
      current: { start: '2026-03-30', end: '2026-03-30T00:30:00' },
      previous: { start: '2026-03-29', end: '2026-03-29T00:30:00' },
    });
    // 31 March: February has no 31st, so the comparison is the whole of February.
    expect(soFarAndBefore('month', 'UTC', Date.parse('2026-03-31T12:00:00Z')).previous).toEqual({ start: '2026-02-01', end: '2026-03-01T00:00:00' });
    expect(soFarAndBefore('month', 'UTC', Date.parse('2026-03-10T12:00:00Z')).previous).toEqual({ start: '2026-02-01', end: '2026-02-10T12:00:00' });
    expect(trendPercent(12, 10)).toBeCloseTo(20);
    expect(trendPercent(5, 0)).toBeUndefined();
  });

  it('labels buckets in the zone', () => {
    expect(bucketLabel('2026-03-29T23:00:00Z', 'hour', 'en-GB', 'Europe/Berlin')).toBe('01:00');
    expect(bucketLabel('2026-03-29T22:00:00Z', 'day', 'en-GB', 'Europe/Berlin')).toBe('30 Mar');
  });
});

describe('chart data', () => {
  it('aligns several devices on the same buckets (stacked bars), a missing bucket being empty', async () => {
    const { alignSeries } = await import('../../src/cards/energy-bars-card.js');
    const out = alignSeries([
      { device: 'a', name: 'A', data: [{ datetime: '2026-01-01T01:00:00Z', value: 1 }, { datetime: '2026-01-01T02:00:00Z', value: 2 }] },
      { device: 'b', name: 'B', data: [{ datetime: '2026-01-01T00:00:00Z', value: 5 }, { datetime: '2026-01-01T02:00:00.000Z', value: 3 }] },
    ]);
    expect(out.buckets).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z']);
    expect(out.series.map((s) => s.values)).toEqual([[null, 1, 2], [5, null, 3]]);
  });

  it('keeps the largest slices and sums the rest as "Other"', async () => {
    const { toSlices } = await import('../../src/cards/pie-card.js');
    const rows = [{ device: 'a', kwh: 1 }, { device: 'b', kwh: 5 }, { device: 'c', kwh: 0 }, { device: 'd', kwh: 2 }, { device: 'e', kwh: 0.5 }];
    expect(toSlices(rows, (id) => id.toUpperCase(), 2)).toEqual([{ name: 'B', value: 5 }, { name: 'D', value: 2 }, { name: 'Other', value: 1.5 }]);
  });

  it('reads raw samples for short ranges and rollups for long ones', async () => {
    const { historySource } = await import('../../src/cards/history-card.js');
    expect(historySource(24)).toEqual({ kind: 'raw' });
    expect(historySource(48)).toEqual({ kind: 'raw' });
    expect(historySource(24 * 7)).toEqual({ kind: 'rollup', interval: 'hour', bucketHours: 1 });
    expect(historySource(24 * 365)).toEqual({ kind: 'rollup', interval: 'day', bucketHours: 24 });
  });

  it('derives the home from grid, solar and battery with the hub\'s sign convention', async () => {
    const { flows } = await import('../../src/cards/energy-flow-card.js');
    const f = flows({ grid: -500, pv: 2000, battery: -300 }); // exporting 500 W, charging 300 W
    expect(f.map((x) => [x.source, x.watts])).toEqual([['grid', -500], ['pv', 2000], ['battery', -300]]);
    expect(f.home).toBe(1200);
    expect(flows({ grid: 100, home: 90 }).home).toBe(90);
  });

  it('reads notifications of the hub\'s shape and near variants', async () => {
    const { toNotification } = await import('../../src/cards/notifications-card.js');
    expect(toNotification({ id: 'n1', title: 'Over consumption', message: 'fridge used 2 kWh', created_at: '2026-01-01T00:00:00Z', level: 'warning' }))
      .toEqual({ id: 'n1', title: 'Over consumption', message: 'fridge used 2 kWh', at: '2026-01-01T00:00:00Z', level: 'warning', read: false });
    expect(toNotification({ body: 'x', read_at: '2026-01-01T00:00:00Z' }, 3)).toMatchObject({ id: 'n3', title: 'Notification', message: 'x', read: true });
  });
});

describe('editor form model', () => {
  it('draws a control per option from the schema and reads values back', async () => {
    const { 'energy-bars': bars } = await cards();
    const fields = fieldsOf(bars.configSchema);
    expect(fields.map((f) => [f.key, f.kind])).toEqual([['name', 'text'], ['devices', 'devices'], ['interval', 'enum'], ['period', 'enum'], ['stacked', 'boolean']]);
    expect(fields.find((f) => f.key === 'devices')?.required).toBe(true);
    expect(parseField({ key: 'max', kind: 'number', title: 'Maximum', required: false }, ' 2,5 ')).toBe(2.5);
    expect(() => parseField({ key: 'max', kind: 'number', title: 'Maximum', required: false }, 'lots')).toThrow('Maximum: "lots" is not a number');
    expect(parseField({ key: 'devices', kind: 'devices', title: 'Devices', required: true }, 'a, b c')).toEqual(['a', 'b', 'c']);
    expect(parseField({ key: 'name', kind: 'text', title: 'Title', required: false }, '  ')).toBeUndefined();
    expect(withOption({ type: 'x', a: 1, b: 2 }, 'a', undefined)).toEqual({ type: 'x', b: 2 });
  });
});

describe('dashboard model', () => {
  const doc = () => ({
    id: 'd1', title: 'Home', version: 3,
    cards: [{ id: 'c1', w: 4, config: { type: 'gauge', entity: 'a.power' } }, { id: 'c2', w: 6, config: { type: 'stat', entity: 'a.power' } }],
  });

  it('adds, moves, resizes, edits and removes cards, undoing each step in turn', () => {
    const m = new DashboardModel(doc());
    expect(m.dirty).toBe(false);
    const id = m.add({ type: 'switch', entity: 'p.switch' }, 3);
    expect(id).toBe('c3');
    m.move('c3', 0);
    m.resize('c1', 20, 0); // clamped to the grid
    m.setConfig('c2', { type: 'stat', entity: 'b.power' });
    m.remove('c1');
    m.rename('Living room');
    expect(m.cards.map((c) => c.id)).toEqual(['c3', 'c2']);
    expect(m.dirty).toBe(true);

    const steps: string[] = [];
    while (m.undo()) steps.push(JSON.stringify([m.title, m.cards.map((c) => [c.id, c.w, c.h ?? null, (c.config as unknown as { entity: string }).entity])]));
    expect(steps).toEqual([
      JSON.stringify(['Home', [['c3', 3, null, 'p.switch'], ['c2', 6, null, 'b.power']]]),
      JSON.stringify(['Home', [['c3', 3, null, 'p.switch'], ['c1', 12, 1, 'a.power'], ['c2', 6, null, 'b.power']]]),
      JSON.stringify(['Home', [['c3', 3, null, 'p.switch'], ['c1', 12, 1, 'a.power'], ['c2', 6, null, 'a.power']]]),
      JSON.stringify(['Home', [['c3', 3, null, 'p.switch'], ['c1', 4, null, 'a.power'], ['c2', 6, null, 'a.power']]]),
      JSON.stringify(['Home', [['c1', 4, null, 'a.power'], ['c2', 6, null, 'a.power'], ['c3', 3, null, 'p.switch']]]),
      JSON.stringify(['Home', [['c1', 4, null, 'a.power'], ['c2', 6, null, 'a.power']]]),
    ]);
    expect(m.dirty).toBe(false);
    expect(m.canUndo).toBe(false);
  });

  it('keeps untouched cards as the same objects (their elements do not re-render)', () => {
    const m = new DashboardModel(doc());
    const before = m.cards[1];
    m.resize('c1', 5);
    m.add({ type: 'pie' });
    m.move('c1', 1);
    expect(m.cards.find((c) => c.id === 'c2')).toBe(before);
  });

  it('a change that changes nothing is no undo step; history is bounded', () => {
    const m = new DashboardModel(doc());
    m.resize('c1', 4);
    m.move('c1', 0);
    m.rename('Home');
    expect(m.canUndo).toBe(false);
    for (let i = 0; i < UNDO_LIMIT + 20; i++) m.resize('c1', (i % 10) + 1);
    let n = 0;
    while (m.undo()) n++;
    expect(n).toBe(UNDO_LIMIT);
  });

  it('saves with the version it started from, then counts as saved; revert drops edits', () => {
    const m = new DashboardModel(doc());
    m.remove('c2');
    expect(m.toSave()).toEqual({ title: 'Home', version: 3, cards: [doc().cards[0]] });
    m.markSaved({ ...doc(), version: 4, cards: [doc().cards[0]] });
    expect(m.dirty).toBe(false);
    expect(m.toSave().version).toBe(4);
    m.rename('X');
    m.revert();
    expect(m.title).toBe('Home');
    expect(m.cards.map((c) => c.id)).toEqual(['c1']);
    expect(() => m.remove('nope')).toThrow('No card "nope" on this dashboard');
  });
});
