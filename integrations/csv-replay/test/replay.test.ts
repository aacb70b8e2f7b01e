import { afterEach, expect, it } from 'vitest';
import { describeDb } from '../../../core/test/support/db.js';
import { csv, HOUR, iso, MIN, startReplay, type ReplayHarness } from './support.js';

const FILE_START = Date.UTC(2024, 0, 1); // a Monday
const NOW = '2025-06-01T12:00:00Z';

/** Five rows a minute apart; the power cell of the third row is empty (no reading then). */
const PLUG = csv('time,plug_w,plug_kwh', [
  ['2024-01-01T00:00:00Z', 100, 10],
  ['2024-01-01T00:01:00Z', 200, 10.002],
  ['2024-01-01T00:02:00Z', '', 10.005],
  ['2024-01-01T00:03:00Z', 400, 10.008],
  ['2024-01-01T00:04:00Z', 500, 10.015],
]);
const PLUG_COLUMNS = [
  { column: 'plug_w', device: 'plug', key: 'power', kind: 'power', unit: 'W' },
  { column: 'plug_kwh', device: 'plug', key: 'energy', kind: 'energy_total', unit: 'kWh' },
];

/** One day, hourly: power (h + 1) × 10 W and a counter at 100 + h kWh. */
const DAY = csv('time,w,kwh', Array.from({ length: 24 }, (_, h) => [iso(FILE_START + h * HOUR), (h + 1) * 10, 100 + h]));
const DAY_COLUMNS = [
  { column: 'w', device: 'meter', key: 'power', kind: 'power', unit: 'W' },
  { column: 'kwh', device: 'meter', key: 'energy_total', kind: 'energy_total', unit: 'kWh' },
];

describeDb('csv-replay on a ManualClock', (target) => {
  let h: ReplayHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('reports each row when the clock reaches it, in order, carrying current hub times (speed 1, align now)', async () => {
    h = await startReplay({ dbUrl: target.url, at: NOW, files: { 'plug.csv': PLUG }, config: { file: 'plug.csv', columns: PLUG_COLUMNS } });
    expect(h.hub.entities.get('plug.power')).toMatchObject({ kind: 'power', deviceId: 'plug' });
    expect(await h.samples('plug.power')).toEqual([['2025-06-01T12:00:00Z', 100]]);

    await h.clock.advance(MIN);
    expect(await h.samples('plug.power')).toEqual([['2025-06-01T12:00:00Z', 100], ['2025-06-01T12:01:00Z', 200]]);

    await h.clock.advance(MIN - 1);
    expect(await h.samples('plug.energy')).toHaveLength(2);
    await h.clock.advance(1);
    // The empty power cell reports nothing; the counter still reads.
    expect(await h.samples('plug.power')).toHaveLength(2);
    expect((await h.samples('plug.energy')).at(-1)).toEqual(['2025-06-01T12:02:00Z', 10.005]);

    await h.clock.advance(10 * MIN);
    expect(await h.samples('plug.power')).toEqual([
      ['2025-06-01T12:00:00Z', 100], ['2025-06-01T12:01:00Z', 200], ['2025-06-01T12:03:00Z', 400], ['2025-06-01T12:04:00Z', 500],
    ]);
    expect(await h.diagnostics()).toMatchObject({ rows_replayed: 5, loops: 0, last_timestamp: '2025-06-01T12:04:00.000Z', finished: true });
  });

  it("runs N times faster at speed N and keeps the file's own timestamps with align 'file'", async () => {
    h = await startReplay({
      dbUrl: target.url, at: NOW, files: { 'plug.csv': PLUG }, config: { file: 'plug.csv', columns: PLUG_COLUMNS, speed: 60, align: 'file' },
    });
    expect(await h.samples('plug.power')).toEqual([['2024-01-01T00:00:00Z', 100]]);
    await h.clock.advance(999);
    expect(await h.samples('plug.power')).toHaveLength(1);
    await h.clock.advance(1);
    expect(await h.samples('plug.power')).toEqual([['2024-01-01T00:00:00Z', 100], ['2024-01-01T00:01:00Z', 200]]);
    await h.clock.advance(3_000);
    expect((await h.samples('plug.energy')).map(([t]) => t)).toEqual([0, 1, 2, 3, 4].map((m) => iso(FILE_START + m * MIN)));
  });

  it('compresses time at speed N with align now: readings are stamped when the clock reaches them', async () => {
    h = await startReplay({ dbUrl: target.url, at: NOW, files: { 'plug.csv': PLUG }, config: { file: 'plug.csv', columns: PLUG_COLUMNS, speed: 4 } });
    await h.clock.advance(MIN);
    expect(await h.samples('plug.energy')).toEqual([
      ['2025-06-01T12:00:00Z', 10], ['2025-06-01T12:00:15Z', 10.002], ['2025-06-01T12:00:30Z', 10.005],
      ['2025-06-01T12:00:45Z', 10.008], ['2025-06-01T12:01:00Z', 10.015],
    ]);
  });

  it('loops: the file starts over after its span plus one step, and counters keep rising', async () => {
    const three = csv('time,plug_w,plug_kwh', [[iso(FILE_START), 1, 10], [iso(FILE_START + MIN), 2, 11], [iso(FILE_START + 2 * MIN), 3, 12]]);
    h = await startReplay({
      dbUrl: target.url, at: NOW, files: { 'three.csv': three },
      config: { file: 'three.csv', columns: PLUG_COLUMNS, speed: 60, align: 'file', loop: true },
    });
    await h.clock.advance(7_000);
    const power = await h.samples('plug.power');
    expect(power.map(([t]) => t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((m) => iso(FILE_START + m * MIN)));
    expect(power.map(([, v]) => v)).toEqual([1, 2, 3, 1, 2, 3, 1, 2]);
    // +2 kWh over 2 minutes of file, so +3 kWh per 3-minute pass: no fall for the ledger to read as a reset.
    expect((await h.samples('plug.energy')).map(([, v]) => v)).toEqual([10, 11, 12, 13, 14, 15, 16, 17]);
    expect(await h.diagnostics()).toMatchObject({ rows_replayed: 8, loops: 2, finished: false });
  });

  it('lays a looped file over the calendar with align now: the time of day is kept, backfill gives history at once', async () => {
    const at = Date.parse('2025-06-01T12:30:00Z');
    h = await startReplay({
      dbUrl: target.url, at, files: { 'day.csv': DAY },
      config: { file: 'day.csv', columns: DAY_COLUMNS, loop: true, backfill: '3h' },
    });
    const days = Math.floor((at - FILE_START) / (24 * HOUR));
    const counter = (hour: number, day = days) => 100 + hour + day * 24; // the counter rises 24 kWh per looped day
    expect(await h.samples('meter.power')).toEqual([
      ['2025-06-01T10:00:00Z', 110], ['2025-06-01T11:00:00Z', 120], ['2025-06-01T12:00:00Z', 130],
    ]);
    expect((await h.samples('meter.energy_total')).map(([, v]) => v)).toEqual([counter(10), counter(11), counter(12)]);

    await h.clock.advance(30 * MIN - 1);
    expect(await h.samples('meter.power')).toHaveLength(3);
    await h.clock.advance(1);
    expect((await h.samples('meter.power')).at(-1)).toEqual(['2025-06-01T13:00:00Z', 140]);

    // Across midnight into the next pass: power starts the day again, the counter goes on rising by 1 kWh an hour.
    await h.clock.advance(12 * HOUR);
    expect((await h.samples('meter.power')).slice(-3)).toEqual([['2025-06-01T23:00:00Z', 240], ['2025-06-02T00:00:00Z', 10], ['2025-06-02T01:00:00Z', 20]]);
    expect((await h.samples('meter.energy_total')).slice(-3).map(([, v]) => v)).toEqual([counter(23), counter(0, days + 1), counter(1, days + 1)]);
    expect(counter(0, days + 1)).toBe(counter(23) + 1);
  });

  it('re-sends identical readings for the same times after a restart, so no total changes', async () => {
    h = await startReplay({
      dbUrl: target.url, at: '2025-06-01T12:00:00Z', files: { 'day.csv': DAY },
      config: { file: 'day.csv', columns: DAY_COLUMNS, loop: true, backfill: '6h' },
    });
    await h.clock.advance(2 * HOUR);
    const range = { deviceId: 'meter', start: new Date('2025-06-01T06:00:00Z'), end: new Date('2025-06-01T14:00:00Z'), interval: 'hour' as const, tz: 'UTC' };
    const before = await h.samples('meter.energy_total');
    const energyBefore = await h.hub.energy.energy(range);
    expect(energyBefore.reduce((s, r) => s + r.value, 0)).toBeCloseTo(8, 9);
    await h.restart('2025-06-01T15:00:00Z');
    const after = await h.samples('meter.energy_total');
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map(([t]) => t).at(-1)).toBe('2025-06-01T15:00:00Z');
    expect(await h.hub.energy.energy(range)).toEqual(energyBefore);
  });

  it('reports the whole file at once at speed 0, shifted to end now', async () => {
    h = await startReplay({ dbUrl: target.url, at: NOW, files: { 'plug.csv': PLUG }, config: { file: 'plug.csv', columns: PLUG_COLUMNS, speed: 0 } });
    expect((await h.samples('plug.energy')).map(([t]) => t)).toEqual(
      [-4, -3, -2, -1, 0].map((m) => iso(Date.parse(NOW) + m * MIN)),
    );
    expect(await h.diagnostics()).toMatchObject({ rows_replayed: 5, finished: true });
  });

  it('stops promptly while waiting for the next row', async () => {
    h = await startReplay({
      dbUrl: target.url, at: NOW, files: { 'day.csv': DAY }, config: { file: 'day.csv', columns: DAY_COLUMNS, loop: true },
    });
    const pendingBefore = h.clock.pending().length;
    await h.hub.stop(); // the replay sleeps on the hub clock; stop must not wait for it
    expect(h.clock.pending().length).toBeLessThan(pendingBefore);
    expect(h.hub.integrations()[0]).toMatchObject({ instanceId: 'replay', status: 'stopped' });
  });

  it('reports a bad file as a configuration error naming the line and column', async () => {
    const bad = csv('time,plug_w,plug_kwh', [[iso(FILE_START), 1, 10], [iso(FILE_START + MIN), 'n/a', 11]]);
    h = await startReplay({ dbUrl: target.url, at: NOW, files: { 'bad.csv': bad }, config: { file: 'bad.csv', columns: PLUG_COLUMNS } });
    const [status] = h.hub.integrations();
    expect(status).toMatchObject({ instanceId: 'replay', status: 'config_error' });
    expect(status!.error).toMatch(/line 3, column "plug_w": "n\/a" is not a number/);
  });

  it('reports a missing file as a configuration error naming its path', async () => {
    h = await startReplay({ dbUrl: target.url, at: NOW, config: { file: 'nowhere/readings.csv', columns: PLUG_COLUMNS } });
    const [status] = h.hub.integrations();
    expect(status).toMatchObject({ status: 'config_error' });
    expect(status!.error).toContain(`${h.dir}/nowhere/readings.csv`);
  });
});
