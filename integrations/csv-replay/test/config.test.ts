import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@joulehub/core/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration, resolveConfig, type RawReplayConfig } from '../src/config.js';
import { DEMO_FILE } from '../src/presets.js';
import { DEFAULTS } from '../src/schema.js';
import { loadTable } from '../src/table.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'jh-replay-config-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plug: RawReplayConfig = {
  file: 'plug.csv',
  columns: [
    { column: 'plug_w', device: 'plug', key: 'power', kind: 'power', unit: 'W' },
    { column: 'plug_kwh', device: 'plug', key: 'energy', kind: 'energy_total', unit: 'kWh' },
  ],
};

/** The ConfigError `fn` throws (fails the test when it throws something else or nothing). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

async function configErrorAsync(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('csv-replay options', () => {
  it('resolves a mapping against the config directory, with defaults', () => {
    const c = resolveConfig(plug, dir);
    expect(c).toMatchObject({ file: join(dir, 'plug.csv'), timeColumn: 'time', speed: 1, loop: false, align: 'now', backfillMs: 0 });
    expect(c.devices).toEqual([{ id: 'plug', name: 'plug' }]);
    expect(c.columns.map((col) => [col.column, col.deviceId, col.entity])).toEqual([
      ['plug_w', 'plug', { key: 'power', kind: 'power', unit: 'W' }],
      ['plug_kwh', 'plug', { key: 'energy', kind: 'energy_total', unit: 'kWh' }],
    ]);
  });

  it("fills everything in for preset 'demo', and options left at their defaults do not override it", () => {
    // What ajv hands over with useDefaults: every option present, at its default.
    const c = resolveConfig({ ...DEFAULTS, preset: 'demo', columns: [], devices: {} }, dir);
    expect(c).toMatchObject({ file: DEMO_FILE, speed: 1, loop: true, align: 'now', backfillMs: 24 * 3_600_000 });
    expect(c.devices.map((d) => d.id)).toEqual(['fridge', 'washing_machine', 'heat_pump', 'ev_charger', 'pv_inverter', 'grid_meter']);
    expect(c.devices.every((d) => d.name && d.description && d.address)).toBe(true);
    // An option the user did set wins.
    expect(resolveConfig({ preset: 'demo', speed: 60, devices: { fridge: { name: 'Kühlschrank' } } }, dir)).toMatchObject({
      speed: 60, loop: true, devices: expect.arrayContaining([expect.objectContaining({ id: 'fridge', name: 'Kühlschrank', address: 'Kitchen' })]),
    });
  });

  it.each([
    [{ columns: plug.columns }, 'CSV_REPLAY_NO_FILE', 'file'],
    [{ file: 'x.csv' }, 'CSV_REPLAY_NO_COLUMNS', 'columns'],
    [{ ...plug, preset: 'mansion' }, 'CSV_REPLAY_UNKNOWN_PRESET', 'preset'],
    [{ ...plug, columns: [{ ...plug.columns![0]!, unit: 'kWh' }] }, 'CSV_REPLAY_BAD_UNIT', 'columns[0].unit'],
    [{ ...plug, columns: [plug.columns![0]!, { ...plug.columns![1]!, kind: 'watts' }] }, 'CSV_REPLAY_BAD_MAPPING', 'columns[1].kind'],
    [{ ...plug, columns: [{ ...plug.columns![0]!, device: 'My Plug' }] }, 'CSV_REPLAY_BAD_MAPPING', 'columns[0].device'],
    [{ ...plug, columns: [{ ...plug.columns![0]!, column: 'time' }] }, 'CSV_REPLAY_BAD_MAPPING', 'columns[0].column'],
    [{ ...plug, columns: [plug.columns![0]!, { ...plug.columns![0]!, column: 'other' }] }, 'CSV_REPLAY_DUPLICATE_ENTITY', 'columns[1]'],
    [{ ...plug, devices: { plugg: { name: 'typo' } } }, 'CSV_REPLAY_UNUSED_DEVICE', 'devices.plugg'],
    [{ ...plug, devices: { plug: { max_power_w: -5 } } }, 'CSV_REPLAY_BAD_DEVICE', 'devices.plug.max_power_w'],
    [{ ...plug, speed: -1 }, 'CSV_REPLAY_BAD_SPEED', 'speed'],
    [{ ...plug, speed: 0, loop: true }, 'CSV_REPLAY_LOOP_WITHOUT_PACE', 'loop'],
    [{ ...plug, backfill: 'yesterday' }, 'CSV_REPLAY_BAD_BACKFILL', 'backfill'],
    [{ ...plug, align: 'sun' as 'now' }, 'CSV_REPLAY_BAD_OPTION', 'align'],
  ] as [RawReplayConfig, string, string][])('refuses %j with %s naming %s', (raw, code, path) => {
    const err = configError(() => resolveConfig(raw, dir));
    expect(err.code).toBe(code);
    expect(err.details.path).toBe(path);
    expect(err.message.startsWith(`${path}: `)).toBe(true);
  });

  it('reads durations', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1d12h')).toBe(1.5 * 86_400_000);
    expect(parseDuration('90 min')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('2 weeks')).toBeUndefined();
    expect(parseDuration('h')).toBeUndefined();
  });
});

describe('csv-replay file', () => {
  const columns = [{ column: 'plug_w', kind: 'power' as const, path: 'columns[0]' }, { column: 'relay', kind: 'switch' as const, path: 'columns[1]' }];
  const write = (name: string, lines: string[]): string => {
    const path = join(dir, name);
    writeFileSync(path, lines.join('\n') + '\n');
    return path;
  };
  const load = (path: string, over: { timeColumn?: string; delimiter?: string } = {}) =>
    loadTable(path, { timeColumn: 'time', delimiter: ',', columns, ...over });

  it('loads times and values; empty cells are no reading; comments and blank lines are skipped', async () => {
    const path = write('ok.csv', [
      '# exported from the plug', 'time,plug_w,relay,ignored', '2025-04-07T00:00:00Z,12.5,on,x', '',
      '2025-04-07T02:01:00+02:00,,OFF,y', '2025-04-07T00:02:00Z,-3,1,z',
    ]);
    const t = await load(path);
    expect([...t.times]).toEqual([0, 1, 2].map((m) => Date.UTC(2025, 3, 7, 0, m)));
    expect([...t.values[0]!]).toEqual([12.5, Number.NaN, -3]);
    expect([...t.values[1]!]).toEqual([1, 0, 1]);
  });

  it('reads other delimiters', async () => {
    const t = await load(write('semi.csv', ['time;plug_w;relay', '2025-04-07T00:00:00Z;7;off']), { delimiter: ';' });
    expect([...t.values[0]!]).toEqual([7]);
  });

  it('names the path of a missing file', async () => {
    const err = await configErrorAsync(load(join(dir, 'missing.csv')));
    expect(err).toMatchObject({ code: 'CSV_REPLAY_FILE_NOT_FOUND', details: { path: 'file', file: join(dir, 'missing.csv') } });
    expect(err.message).toContain(join(dir, 'missing.csv'));
  });

  it.each([
    ['a missing column', ['time,plug_w', '2025-04-07T00:00:00Z,1'], 'CSV_REPLAY_MISSING_COLUMN', { path: 'columns[1].column', column: 'relay' }, /no column "relay"/],
    ['a missing time column', ['when,plug_w,relay'], 'CSV_REPLAY_MISSING_COLUMN', { path: 'time_column' }, /no time column "time"/],
    ['a time without offset', ['time,plug_w,relay', '2025-04-07T00:00:00Z,1,on', '2025-04-07T00:01:00,1,on'], 'CSV_REPLAY_BAD_TIME', { line: 3, column: 'time' }, /line 3, column "time"/],
    ['a value that is no number', ['time,plug_w,relay', '2025-04-07T00:00:00Z,1,on', '2025-04-07T00:01:00Z,1 kW,on'], 'CSV_REPLAY_BAD_VALUE', { line: 3, column: 'plug_w' }, /line 3, column "plug_w": "1 kW" is not a number/],
    ['a switch value that is not on/off', ['time,plug_w,relay', '2025-04-07T00:00:00Z,1,maybe'], 'CSV_REPLAY_BAD_VALUE', { line: 2, column: 'relay' }, /is not on\/off/],
    ['rows out of order', ['time,plug_w,relay', '2025-04-07T00:01:00Z,1,on', '2025-04-07T00:00:00Z,1,on'], 'CSV_REPLAY_UNSORTED', { line: 3 }, /line 3/],
    ['a row with too many fields', ['time,plug_w,relay', '2025-04-07T00:00:00Z,1,on,extra'], 'CSV_REPLAY_PARSE', { line: 2 }, /line 2/],
    ['no rows', ['time,plug_w,relay'], 'CSV_REPLAY_EMPTY', {}, /no rows/],
  ])('refuses %s with the line and column', async (_what, lines, code, details, message) => {
    const err = await configErrorAsync(load(write(`bad-${code}-${lines.length}.csv`, lines)));
    expect(err.code).toBe(code);
    expect(err.details).toMatchObject(details);
    expect(err.message).toMatch(message);
  });
});
