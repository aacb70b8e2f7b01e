/**
 * A real hub (fresh PostgreSQL database, ManualClock) with a fake switchable-device integration and
 * the automation engine running the given rules. Commands are recorded (and confirmed back as the
 * switch's new state, as a real device would); `failCommands` makes the next N fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHub, type JoulehubHub } from '../../../core/src/hub/hub.js';
import { ManualClock } from '../../../core/src/hub/clock.js';
import { silentLogger } from '../../../core/src/hub/logger.js';
import type { HubConfig } from '../../../core/src/hub/types.js';
import { defineIntegration } from '../../../core/src/sdk/define.js';
import { NotReadyError } from '../../../core/src/sdk/errors.js';
import type { Command, DeviceInfo, EntityInfo } from '../../../core/src/sdk/types.js';
import { createTestDatabase, type TestDatabase } from '../../../core/test/support/db.js';
import type { AutomationEngine } from '../src/engine.js';

export const MIN = 60_000;
export const HOUR = 3_600_000;

export interface FakeDevice extends DeviceInfo {
  entities?: EntityInfo[];
}

export const DEFAULT_ENTITIES: EntityInfo[] = [
  { key: 'switch', kind: 'switch' },
  { key: 'power', kind: 'power', unit: 'W' },
];

export interface RunRow { rule_id: string; result: string; trigger: { type: string; time: string; explanation: string }; actions: { action: string; ok: boolean; attempts?: number; error?: string }[]; explanation: string | null; error: string | null; started_at: Date }

export interface EngineHarness {
  hub: JoulehubHub;
  clock: ManualClock;
  db: TestDatabase;
  engine: AutomationEngine;
  commands: (Command & { at: string })[];
  /** The next `n` commands fail (the device does not answer). */
  failCommands(n: number): void;
  report(entityId: string, value: number | 'on' | 'off' | null, at?: number | string): void;
  setAvailable(deviceId: string, available: boolean): void;
  /** Advances the clock in steps (default a minute), letting firings finish their I/O after each. */
  advance(ms: number, step?: number): Promise<void>;
  /** Flushes readings (ledger + readings_recorded) and lets the engine's checks finish. */
  flush(): Promise<void>;
  runs(ruleId?: string): Promise<RunRow[]>;
  notifications(): Promise<{ user_id: string | null; device_id: string | null; rule_id: string | null; title: string; message: string; level: string; created_at: Date }[]>;
  /** Stops the hub and starts another on the same database and clock (a restart). */
  restart(): Promise<void>;
  /** Commands as `HH:MM command entity` in the hub's zone-free UTC form. */
  log(): string[];
  close(): Promise<void>;
}

export const settle = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

export async function startEngine(dbUrl: string, opts: {
  now: string;
  tz?: string;
  devices?: FakeDevice[];
  rules?: Record<string, unknown>[];
}): Promise<EngineHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'jh-auto-'));
  const db = await createTestDatabase(dbUrl);
  const clock = new ManualClock(opts.now);
  const commands: (Command & { at: string })[] = [];
  let failing = 0;
  let ctxRef: { report(deviceId: string, key: string, value: number | 'on' | 'off' | null, at?: number | Date): void; setAvailable(d: string, a: boolean, key?: string): void } | undefined;
  const devices = opts.devices ?? [{ id: 'heater', name: 'Heater', address: 'Living room', maxHourlyKwh: 1 }];
  const fake = defineIntegration({
    manifest: { id: 'fake', name: 'Fake devices', version: '0.1.0', sdk: '^1.0.0', iotClass: 'local_push' },
    configSchema: { type: 'object' },
    async setup(ctx) {
      ctxRef = ctx;
      for (const d of devices) {
        const { entities, ...info } = d;
        await ctx.devices.upsert(info);
        for (const e of entities ?? DEFAULT_ENTITIES) await ctx.entities.register(d.id, e);
      }
      return {
        stop() {},
        onCommand(cmd) {
          commands.push({ ...cmd, at: new Date(clock.now()).toISOString() });
          if (failing > 0) {
            failing--;
            throw new NotReadyError('FAKE_TIMEOUT', 'device did not answer');
          }
          if (cmd.command === 'turn_on' || cmd.command === 'turn_off') ctx.report(cmd.deviceId, cmd.key, cmd.command === 'turn_on' ? 'on' : 'off');
        },
      };
    },
  });
  const config: HubConfig = {
    port: 0, host: '127.0.0.1', dataDir: dir, tz: opts.tz ?? 'UTC', logLevel: 'silent', configDir: dir,
    integrations: [{ id: 'fake', name: 'fake' }], demo: false,
    ...(opts.rules ? { automations: opts.rules } : {}),
  };
  const boot = async () => {
    const hub = await createHub(config, { clock, databaseUrl: db.url, log: silentLogger(), statePersistMs: HOUR, loadIntegration: async () => fake as never });
    await hub.start();
    await settle();
    const engine = hub.automations as AutomationEngine;
    if (!engine) throw new Error('the automation engine did not start');
    return { hub, engine };
  };
  const h: EngineHarness = {
    ...(await boot()), clock, db, commands,
    async restart() {
      await h.hub.stop();
      Object.assign(h, await boot());
    },
    failCommands(n) { failing = n; },
    report(entityId, value, at) {
      const [deviceId, key] = entityId.split('.');
      ctxRef!.report(deviceId!, key!, value, at === undefined ? undefined : new Date(at));
    },
    setAvailable(deviceId, available) { ctxRef!.setAvailable(deviceId, available); },
    async advance(ms, step = MIN) {
      const end = clock.now() + ms;
      while (clock.now() < end) {
        await clock.advance(Math.min(step, end - clock.now()));
        await h.engine.idle();
      }
    },
    async flush() {
      await h.hub.flush();
      await settle();
      await h.engine.idle();
    },
    async runs(ruleId) {
      let q = h.hub.db.selectFrom('automation_runs').selectAll();
      if (ruleId) q = q.where('rule_id', '=', ruleId);
      return (await q.orderBy('id').execute()) as unknown as RunRow[];
    },
    async notifications() {
      return h.hub.db.selectFrom('notifications').selectAll().orderBy('id').execute() as never;
    },
    log() {
      return commands.map((c) => `${c.at.slice(11, 16)} ${c.command}${c.params?.level ? `(${String(c.params.level)})` : ''} ${c.entityId}`);
    },
    async close() {
      await h.hub.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
