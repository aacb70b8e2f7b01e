/** A real hub on a fresh test database, driven by a ManualClock, with csv-replay loaded by id. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHub, type JoulehubHub } from '../../../core/src/hub/hub.js';
import { ManualClock } from '../../../core/src/hub/clock.js';
import { silentLogger } from '../../../core/src/hub/logger.js';
import type { HubConfig } from '../../../core/src/hub/types.js';
import { createTestDatabase, type TestDatabase } from '../../../core/test/support/db.js';

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const iso = (t: number | Date): string => new Date(t).toISOString().replace('.000Z', 'Z');

export interface ReplayHarness {
  hub: JoulehubHub;
  clock: ManualClock;
  db: TestDatabase;
  dir: string;
  /** Starts another hub on the same database and files (a restart). */
  restart(at: number | string): Promise<void>;
  /** Flushes, then [time, value] of every stored sample of the entity, oldest first. */
  samples(entityId: string): Promise<[string, number | null][]>;
  diagnostics(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startReplay(opts: {
  dbUrl: string;
  files?: Record<string, string>;
  config?: Record<string, unknown>;
  demo?: boolean;
  at: number | string;
}): Promise<ReplayHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'jh-replay-'));
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), text);
  const db = await createTestDatabase(opts.dbUrl);
  const config: HubConfig = {
    port: 0, host: '127.0.0.1', dataDir: dir, tz: 'UTC', logLevel: 'silent', configDir: dir,
    integrations: opts.config ? [{ id: 'csv-replay', name: 'replay', config: opts.config }] : [],
    demo: opts.demo ?? false,
  };
  const boot = async (at: number | string) => {
    const clock = new ManualClock(at);
    const hub = await createHub(config, { clock, databaseUrl: db.url, log: silentLogger() });
    await hub.start();
    return { hub, clock };
  };
  const h: ReplayHarness = {
    ...(await boot(opts.at)),
    db,
    dir,
    async restart(at) {
      await h.hub.stop();
      Object.assign(h, await boot(at));
    },
    async samples(entityId) {
      await h.hub.flush();
      const rows = await h.hub.db.selectFrom('samples').select(['time', 'value']).where('entity_id', '=', entityId).orderBy('time').execute();
      return rows.map((r) => [iso(r.time), r.value]);
    },
    async diagnostics() {
      return (await h.hub.diagnostics(opts.demo ? 'demo' : 'replay')) ?? {};
    },
    async close() {
      await h.hub.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** CSV text: a header and rows. */
export function csv(header: string, rows: (string | number)[][]): string {
  return [header, ...rows.map((r) => r.join(','))].join('\n') + '\n';
}
