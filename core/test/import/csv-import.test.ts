import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createEventBus } from '../../src/hub/bus.js';
import { HubDeviceRegistry } from '../../src/hub/device-registry.js';
import { HubEntityRegistry } from '../../src/hub/entity-registry.js';
import { silentLogger } from '../../src/hub/logger.js';
import { ImportError, importCsv, type ImportDeps } from '../../src/import/csv-import.js';
import { createTestDatabase, describeDb, type TestDatabase } from '../support/db.js';

const T0 = Date.UTC(2025, 3, 7);
const MIN = 60_000;
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'jh-import-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function csvFile(lines: string[]): string {
  const path = join(dir, `readings-${++fileNo}.csv`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Two days of 5-minute kW readings cycling 0.5, 1, 1.5, 2, 2.5, 3 kW. */
function powerFile(): { path: string; rows: number; kwh: number } {
  const lines = ['datetime,value'];
  const n = 2 * 24 * 12;
  let kwh = 0;
  for (let i = 0; i < n; i++) {
    const kw = 0.5 * ((i % 6) + 1);
    lines.push(`${iso(T0 + i * 5 * MIN)},${kw}`);
    if (i < n - 1) kwh += kw * (5 / 60); // the last reading's hold is open (added at query time, not stored)
  }
  return { path: csvFile(lines), rows: n, kwh };
}

describeDb('joulehub import (CSV through COPY)', (target) => {
  let t: TestDatabase;
  let deps: ImportDeps;

  beforeEach(async () => {
    t = await createTestDatabase(target.url);
    const log = silentLogger();
    const bus = createEventBus({ log });
    const devices = await HubDeviceRegistry.load({ db: t.db, bus, log });
    const entities = await HubEntityRegistry.load({ db: t.db, bus, log, devices });
    await devices.upsert({ id: 'meter', name: 'Meter' }, null);
    deps = { db: t.db, devices, entities, log };
  });
  afterEach(async () => { await t.drop(); });

  async function ledgerKwh(entityId: string): Promise<number> {
    const { rows } = await sql<{ kwh: number | null }>`select sum(kwh) as kwh from energy_15m where entity_id = ${entityId}`.execute(t.db);
    return Number(rows[0]?.kwh ?? 0);
  }
  async function sampleCount(entityId: string): Promise<number> {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from samples where entity_id = ${entityId}`.execute(t.db);
    return rows[0]!.n;
  }

  it('imports kW readings as <device>.power in watts, and the ledger holds their energy', async () => {
    const f = powerFile();
    const progress: [number, number][] = [];
    const r = await importCsv(deps, f.path, { deviceId: 'meter', units: 'kW', onProgress: (done, total) => progress.push([done, total]) });

    expect(r).toMatchObject({ entityId: 'meter.power', kind: 'power', rows: f.rows, quarantined: 0, skipped: 0, problems: [] });
    expect(r.from).toEqual(new Date(T0));
    expect(r.to).toEqual(new Date(T0 + (f.rows - 1) * 5 * MIN));
    expect(deps.entities.get('meter.power')).toMatchObject({ kind: 'power', deviceId: 'meter' });
    const first = await t.db.selectFrom('samples').select(['time', 'value']).where('entity_id', '=', 'meter.power').orderBy('time').limit(2).execute();
    expect(first.map((s) => s.value)).toEqual([500, 1000]);
    expect(await ledgerKwh('meter.power')).toBeCloseTo(f.kwh, 9);
    expect(progress.at(-1)?.[0]).toBe(progress.at(-1)?.[1]);
  });

  it('changes no total when the same file is imported twice', async () => {
    const f = powerFile();
    await importCsv(deps, f.path, { deviceId: 'meter', units: 'kw' });
    const before = { kwh: await ledgerKwh('meter.power'), samples: await sampleCount('meter.power') };
    const again = await importCsv(deps, f.path, { deviceId: 'meter', units: 'KW' });
    expect(again.rows).toBe(f.rows);
    expect({ kwh: await ledgerKwh('meter.power'), samples: await sampleCount('meter.power') }).toEqual(before);
  });

  it('imports a cumulative kWh meter as energy_total and an interval Wh series as energy', async () => {
    const counter = csvFile(['time,value', ...[100, 100.5, 101.25, 103].map((v, i) => `${iso(T0 + i * 15 * MIN)},${v}`)]);
    const r1 = await importCsv(deps, counter, { deviceId: 'meter', units: 'kWh', reading: 'cumulative' });
    expect(r1).toMatchObject({ entityId: 'meter.energy_total', kind: 'energy_total', rows: 4 });
    expect(await ledgerKwh('meter.energy_total')).toBeCloseTo(3, 9);

    const interval = csvFile(['datetime,value', ...[250, 500, 750].map((v, i) => `${iso(T0 + i * 60 * MIN)},${v}`)]);
    const r2 = await importCsv(deps, interval, { deviceId: 'meter', units: 'wh' });
    expect(r2).toMatchObject({ entityId: 'meter.energy', kind: 'energy_interval', rows: 3 });
    // The last interval's period is open until a later reading closes it; the first two are exact.
    expect(await ledgerKwh('meter.energy')).toBeCloseTo(0.75, 9);
  });

  const withBadRows = () => csvFile([
    'datetime,value',
    `${iso(T0)},1`,
    '2025-04-07T00:05:00,2', // no offset
    `${iso(T0 + 10 * MIN)},-3`,
    `${iso(T0 + 15 * MIN)},abc`,
    '',
    `${iso(T0 + 20 * MIN)},4`,
    '2025-02-30T00:00:00Z,5',
    `${iso(T0 + 25 * MIN)},`,
  ]);
  const expectedProblems = [
    { line: 3, reason: expect.stringContaining('"2025-04-07T00:05:00" is not an ISO 8601 date-time with an offset') },
    { line: 4, reason: 'value -3 is negative' },
    { line: 5, reason: 'value "abc" is not a number' },
    { line: 8, reason: expect.stringContaining('"2025-02-30T00:00:00Z"') },
    { line: 9, reason: 'missing value' },
  ];

  it('skips bad rows, reporting each by line and reason, and stores every good one', async () => {
    const r = await importCsv(deps, withBadRows(), { deviceId: 'meter', units: 'kW' });
    expect(r).toMatchObject({ rows: 2, skipped: 5, problems: expectedProblems });
    expect(await sampleCount('meter.power')).toBe(2);
    // 1 kW from 00:00 to the next good reading at 00:20.
    expect(await ledgerKwh('meter.power')).toBeCloseTo(20 / 60, 9);
  });

  it('with strict stores nothing when a row is bad, and names every bad line', async () => {
    const err = await importCsv(deps, withBadRows(), { deviceId: 'meter', units: 'kW', strict: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).code).toBe('IMPORT_BAD_ROWS');
    expect((err as ImportError).message).toMatch(/^5 bad rows, nothing imported: line 3: time "2025-04-07T00:05:00" is not/);
    expect((err as ImportError).details.problems).toEqual(expectedProblems);
    expect(await sampleCount('meter.power')).toBe(0);

    const f = powerFile();
    const progress: [number, number][] = [];
    expect((await importCsv(deps, f.path, { deviceId: 'meter', units: 'kW', strict: true, onProgress: (d, total) => progress.push([d, total]) })).rows).toBe(f.rows);
    expect(progress.at(-1)).toEqual([progress.at(-1)![1], progress.at(-1)![1]]);
  });

  it('quarantines implausible readings with a reason, once, however often the file is imported', async () => {
    await deps.devices.update('meter', { maxPowerW: 5000 });
    const path = csvFile(['datetime,value', `${iso(T0)},1`, `${iso(T0 + MIN)},65535`, `${iso(T0 + 2 * MIN)},7`, `${iso(T0 + 3 * MIN)},2`]);
    const r = await importCsv(deps, path, { deviceId: 'meter', units: 'kW' });
    expect(r).toMatchObject({ rows: 2, quarantined: 2 });
    await importCsv(deps, path, { deviceId: 'meter', units: 'kW' });
    const q = await t.db.selectFrom('quarantine').select(['time', 'raw', 'reason']).orderBy('time').execute();
    expect(q.map((row) => [row.time.getTime(), row.raw])).toEqual([[T0 + MIN, '65535'], [T0 + 2 * MIN, '7']]);
    expect(q[0]!.reason).toMatch(/sentinel/);
    expect(q[1]!.reason).toMatch(/above the device maximum/);
    // 1 kW held from 00:00 until the next stored reading at 00:03.
    expect(await ledgerKwh('meter.power')).toBeCloseTo(1 * (3 / 60), 9);
  });

  it('reads a BOM, CRLF line ends, no final newline and quoted fields; an unclosed quote names its line', async () => {
    const path = join(dir, `quoted-${Math.random()}.csv`);
    writeFileSync(path, '\uFEFFdatetime,value\r\n2025-04-07T00:00:00Z,1\r\n\r\n2025-04-07T00:15:00Z,"2"\r\n"2025-04-07T00:30:00Z",x\r\n2025-04-07T00:45:00Z,1');
    const r = await importCsv(deps, path, { deviceId: 'meter', units: 'kW' });
    expect(r).toMatchObject({ rows: 3, skipped: 1, problems: [{ line: 5, reason: 'value "x" is not a number' }] });
    // 1 kW for 15 minutes, then 2 kW for 30 minutes (held over the bad line).
    expect(await ledgerKwh('meter.power')).toBeCloseTo(0.25 + 1, 9);
    // The same without quotes (read without csv-parse) gives the same result.
    writeFileSync(path, '\uFEFFdatetime,value\r\n2025-04-07T00:00:00Z,1\r\n\r\n2025-04-07T00:15:00Z,2\r\n2025-04-07T00:30:00Z,x\r\n2025-04-07T00:45:00Z,1');
    expect(await importCsv(deps, path, { deviceId: 'meter', units: 'kW' })).toMatchObject({ rows: 3, skipped: 1, problems: [{ line: 5, reason: 'value "x" is not a number' }] });
    expect(await ledgerKwh('meter.power')).toBeCloseTo(0.25 + 1, 9);
    const broken = join(dir, `broken-${Math.random()}.csv`);
    writeFileSync(broken, 'datetime,value\n2025-04-07T00:00:00Z,1\n2025-04-07T00:15:00Z,"2\n2025-04-07T00:30:00Z,3\n');
    await expect(importCsv(deps, broken, { deviceId: 'meter', units: 'kW' })).rejects.toMatchObject({ code: 'IMPORT_PARSE', message: expect.stringContaining('line ') });
  });

  it('reads headerless files and picks named columns from wider ones', async () => {
    const headerless = csvFile([`${iso(T0)},1000`, `${iso(T0 + 60 * MIN)},2000`]);
    expect((await importCsv(deps, headerless, { deviceId: 'meter', units: 'W' })).rows).toBe(2);

    const wide = csvFile(['id;ts;kw;note', `1;${iso(T0 + 120 * MIN)};3;a`].map((l) => l.replaceAll(';', ',')));
    const r = await importCsv(deps, wide, { deviceId: 'meter', units: 'kW', timeColumn: 'TS', valueColumn: 'kw' });
    expect(r).toMatchObject({ rows: 1, from: new Date(T0 + 120 * MIN) });

    const ambiguous = csvFile(['ts,a,b', `${iso(T0)},1,2`]);
    await expect(importCsv(deps, ambiguous, { deviceId: 'meter', units: 'kW' })).rejects.toMatchObject({ code: 'IMPORT_BAD_COLUMNS' });
    await expect(importCsv(deps, wide, { deviceId: 'meter', units: 'kW', valueColumn: 'watts' })).rejects.toThrow(/no column "watts"/);
  });

  it('refuses an unknown device unless asked to create it, unknown units and a missing file', async () => {
    const f = powerFile();
    await expect(importCsv(deps, f.path, { deviceId: 'garage', units: 'kW' })).rejects.toMatchObject({ code: 'IMPORT_UNKNOWN_DEVICE', message: expect.stringContaining('"garage"') });
    const r = await importCsv(deps, f.path, { deviceId: 'garage', units: 'kW', createDevice: true });
    expect(r.entityId).toBe('garage.power');
    expect(deps.devices.get('garage')).toMatchObject({ name: 'garage', integration: null });

    await expect(importCsv(deps, f.path, { deviceId: 'meter', units: 'volts' })).rejects.toMatchObject({ code: 'IMPORT_BAD_UNITS' });
    await expect(importCsv(deps, f.path, { deviceId: 'meter', units: 'kW', reading: 'cumulative' })).rejects.toMatchObject({ code: 'IMPORT_BAD_UNITS' });
    await expect(importCsv(deps, join(dir, 'nope.csv'), { deviceId: 'meter', units: 'kW' })).rejects.toMatchObject({
      code: 'IMPORT_FILE_NOT_FOUND', message: expect.stringContaining('nope.csv'),
    });
  });

  it('streams a file of many rows (more than one COPY chunk), unsorted lines included, into the right totals', async () => {
    const n = 205_000;
    const lines = ['datetime,value'];
    for (let i = 0; i < n; i++) lines.push(`${iso(T0 + i * MIN)},${(i % 4) + 1}`);
    // Swap two lines: order in the file must not matter.
    [lines[10], lines[20]] = [lines[20]!, lines[10]!];
    const path = csvFile(lines);
    const r = await importCsv(deps, path, { deviceId: 'meter', units: 'W' });
    expect(r.rows).toBe(n);
    let wh = 0;
    for (let i = 0; i < n - 1; i++) wh += ((i % 4) + 1) / 60;
    expect(await ledgerKwh('meter.power')).toBeCloseTo(wh / 1000, 9);
    expect(await sampleCount('meter.power')).toBe(n);
  });
});
