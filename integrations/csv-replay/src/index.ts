/**
 * csv-replay: replays a CSV of readings on the hub clock — time column plus value columns mapped
 * to device entities — at a speed factor, optionally looping; `preset: demo` plays the bundled
 * demo household. See schema.ts for the options and timeline.ts for where rows land in time.
 *
 * setup() loads and checks the whole file first (a bad file is a ConfigError naming the line and
 * column), registers the devices and entities as data from the mapping, reports the backfill (or,
 * at speed 0, the whole file) before it returns, then plays the rest in the background until
 * stop().
 */
import { defineIntegration, type IntegrationContext, type IntegrationInstance } from '@joulehub/core/sdk';
import { resolveConfig, type RawReplayConfig } from './config.js';
import { configSchema } from './schema.js';
import { loadTable } from './table.js';
import { Timeline } from './timeline.js';
import { Replay } from './replay.js';

export type { RawReplayConfig as CsvReplayConfig } from './config.js';
export { DEMO_FILE } from './presets.js';

async function setup(ctx: IntegrationContext, options: RawReplayConfig): Promise<IntegrationInstance> {
  const config = resolveConfig(options, ctx.configDir);
  const table = await loadTable(config.file, {
    timeColumn: config.timeColumn,
    delimiter: config.delimiter,
    columns: config.columns.map((c) => ({ column: c.column, kind: c.entity.kind, path: c.path })),
  });

  for (const device of config.devices) await ctx.devices.upsert(device);
  for (const c of config.columns) await ctx.entities.register(c.deviceId, c.entity);

  const timeline = new Timeline(table.times, {
    speed: config.speed, loop: config.loop, align: config.align, backfillMs: config.backfillMs, startedAt: ctx.clock.now(),
  });
  const stopping = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stopping.signal]);
  const replay = new Replay(
    table,
    config.columns.map((c) => ({ deviceId: c.deviceId, key: c.entity.key, kind: c.entity.kind })),
    timeline,
    { clock: ctx.clock, signal, report: (deviceId, key, value, at) => ctx.report(deviceId, key, value, at) },
  );
  ctx.log.info({
    file: config.file, rows: table.times.length, columns: config.columns.length, speed: config.speed,
    loop: config.loop, align: config.align, backfillMs: config.backfillMs,
  }, 'replaying');

  await replay.backfill();
  const running = replay.live().then(
    () => { if (replay.stats.finished) ctx.log.info({ rows: replay.stats.rowsReplayed }, 'replay finished'); },
    (err: unknown) => { ctx.log.error({ err }, 'replay failed'); },
  );

  return {
    async stop() {
      stopping.abort();
      await running;
    },
    diagnostics() {
      const { rowsReplayed, loops, lastTimestamp, finished } = replay.stats;
      return {
        file: config.file,
        rows_in_file: table.times.length,
        rows_replayed: rowsReplayed,
        loops,
        last_timestamp: lastTimestamp === null ? null : new Date(lastTimestamp).toISOString(),
        finished,
        speed: config.speed,
      };
    },
  };
}

export default defineIntegration<RawReplayConfig>({
  manifest: {
    id: 'csv-replay',
    name: 'CSV replay',
    version: '0.1.0',
    sdk: '^1.0.0',
    iotClass: 'file',
    docs: 'Replays a CSV of readings on the hub clock. Options: file, time_column, columns (CSV column → device, key, kind, unit, role), devices, speed, loop, align, backfill; preset "demo" plays the bundled demo household.',
  },
  configSchema,
  setup,
});
