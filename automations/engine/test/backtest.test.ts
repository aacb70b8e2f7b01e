/**
 * The demo household's week (integrations/csv-replay), replayed live on a ManualClock with rules
 * running, then backtested over the same week: the backtest lists exactly the live firings, at the
 * same times, with the same actions (as "would …"), and sends no command.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHub, type JoulehubHub } from '../../../core/src/hub/hub.js';
import { ManualClock } from '../../../core/src/hub/clock.js';
import { silentLogger } from '../../../core/src/hub/logger.js';
import { SYSTEM } from '../../../core/src/auth/caller.js';
import { createTestDatabase, describeDb, type TestDatabase } from '../../../core/test/support/db.js';
import type { AutomationEngine } from '../src/engine.js';
import { HOUR } from './support.js';

const START = Date.parse('2025-04-07T00:00:00Z'); // the demo week's first row (a Monday)
const WEEK = 7 * 24 * HOUR;

const RULES = [
  { id: 'budget', type: 'over_consumption', devices: ['heat_pump', 'ev_charger', 'washing_machine'], limit_kwh: 1.5 },
  { id: 'ev-high', triggers: [{ type: 'numeric', entity: 'ev_charger.power', above: 9000, for_s: 600, hysteresis: 1000 }], actions: [{ type: 'notify', message: 'EV above 9 kW for 10 minutes' }] },
  { id: 'washer-left', type: 'left_running', device: 'washing_machine', start_w: 25, stop_w: 22, min_on_s: 120, min_off_s: 300, max_run_s: 3600, usual_hours: [[7, 22]] },
  { id: 'evening-pump', triggers: [{ type: 'cron', cron: '0 18 * * *' }], conditions: [{ type: 'numeric', entity: 'heat_pump.power', above: 1000 }], actions: [{ type: 'notify', message: 'heat pump busy at six' }] },
];

describeDb('automations: backtest of the demo week equals its live replay', (target) => {
  let db: TestDatabase;
  let hub: JoulehubHub;
  let dir: string;
  let live: Record<string, { time: string; actions: string[] }[]>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'jh-demo-week-'));
    db = await createTestDatabase(target.url);
    const clock = new ManualClock(START);
    hub = await createHub({
      port: 0, host: '127.0.0.1', dataDir: dir, tz: 'UTC', logLevel: 'silent', configDir: dir, demo: false,
      integrations: [{ id: 'csv-replay', name: 'demo', config: { preset: 'demo', speed: 1, align: 'file', backfill: '0s' } }],
      automations: RULES,
    }, { clock, databaseUrl: db.url, log: silentLogger(), statePersistMs: 6 * HOUR });
    await hub.start();
    const engine = hub.automations as AutomationEngine;
    // Live: the week, a quarter-hour at a time, readings flushed as the recorder would.
    for (let t = 0; t < WEEK; t += HOUR / 4) {
      await clock.advance(HOUR / 4);
      await engine.idle();
      if ((t / (HOUR / 4)) % 4 === 3) {
        await hub.flush();
        await engine.idle();
      }
    }
    await hub.flush();
    await engine.idle();
    live = {};
    for (const rule of RULES) {
      const runs = await engine.runs(rule.id, SYSTEM, { limit: 1000 });
      // The preset loops: a row at exactly START + WEEK starts its second pass, outside the backtest's [start, end).
      live[rule.id] = runs.filter((r) => r.result !== 'skipped' && Date.parse((r.trigger as { time: string }).time) < START + WEEK).reverse().map((r) => ({
        time: (r.trigger as { time: string }).time,
        actions: (r.actions as { action: string }[]).map((a) => a.action),
      }));
    }
  }, 600_000);

  afterAll(async () => {
    await hub?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(RULES.map((r) => r.id))('%s: same firings live and in the backtest', async (id) => {
    const engine = hub.automations as AutomationEngine;
    const result = await engine.backtest(id, { start: new Date(START), end: new Date(START + WEEK) }, SYSTEM);
    const backtest = result.firings.map((f) => ({ time: f.time, actions: f.actions.map((a) => a.replace(/^would /, '')) }));
    expect(live[id]!.length).toBeGreaterThan(0); // the week gives each rule something to do
    expect(backtest).toEqual(live[id]);
    for (const f of result.firings) expect(f.explanation.length).toBeGreaterThan(10);
  });
});
