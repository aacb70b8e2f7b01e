/**
 * Backtest: the rule's own runner, on a ManualClock over recorded history, with dry-run actions.
 * Samples of the entities the rule reads are replayed as state changes, and the ledger's
 * 15-minute energy is released bucket by bucket as `readings_recorded` — so the firings are those
 * the live engine makes on the same data. Saved energy: what a switched-off device used from the
 * switch-off until the rule switched it on again (an energy firing: until the end of its period;
 * otherwise at most until the end of the range).
 */
import { createEventBus, createScheduler, ManualClock, silentLogger, type BacktestResult, type Hub, type HubEvents } from '@joulehub/core';
import type { Env, EntityStateView, RunRecord } from './env.js';
import { referencedDevices, type Rule } from './rule.js';
import { RuleRunner, type Owner } from './runtime.js';

const BUCKET = 900_000;
const DAY = 86_400_000;

export interface BacktestHelpers {
  ownerMay(owner: Owner, deviceId: string): boolean;
  rule(id: string): Rule | undefined;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runBacktest(
  hub: Hub, rule: Rule, owner: Owner, range: { start: number; end: number }, helpers: BacktestHelpers,
): Promise<BacktestResult> {
  const { start, end } = range;
  const tz = rule.tz ?? hub.config.tz;
  const clock = new ManualClock(start);
  const log = silentLogger();
  const scheduler = createScheduler({ clock, log, timezone: hub.config.tz });
  const bus = createEventBus({ log });
  const own = scheduler.forOwner('backtest');

  // Entities the rule may read: every entity of the devices it names.
  const deviceIds = new Set(referencedDevices(rule).map((r) => r.device));
  const entityIds = [...deviceIds].flatMap((d) => hub.entities.list({ deviceId: d }).map((e) => e.id));
  if (rule.type === 'left_running' && rule.entity) entityIds.push(rule.entity);

  // Energy watched: over_consumption's devices (or every device with a maximum the owner may see), energy triggers.
  const energyDevices = new Set<string>();
  if (rule.type === 'over_consumption') {
    for (const d of hub.devices.list()) {
      if (rule.devices ? rule.devices.includes(d.id) : d.maxHourlyKwh !== undefined) energyDevices.add(d.id);
    }
  }
  for (const t of ((rule as { triggers?: { type: string; device?: string }[] }).triggers ?? [])) {
    if (t.type === 'energy' && t.device) energyDevices.add(t.device);
  }

  const energyCache = new Map<string, { start: number; kwh: number }[]>();
  const energyOf = async (deviceId: string) => {
    let rows = energyCache.get(deviceId);
    if (!rows) {
      // From a day before the range: a period that started before it still sees its whole energy.
      const res = await hub.energy.energy({ deviceId, start: new Date(start - DAY), end: new Date(end), interval: '15m', tz: 'UTC' });
      rows = res.map((r) => ({ start: Date.parse(r.datetime), kwh: r.value }));
      energyCache.set(deviceId, rows);
    }
    return rows;
  };
  for (const d of energyDevices) await energyOf(d);

  // States: the last sample before the range, then every sample in it.
  const states = new Map<string, EntityStateView>();
  const kindOf = (id: string) => hub.entities.get(id)?.kind;
  const view = (id: string, v: number | null): EntityStateView => (v === null
    ? { value: null, available: false }
    : { value: kindOf(id) === 'switch' ? (v ? 'on' : 'off') : v, available: true });
  const samples: { entity_id: string; time: Date; value: number | null }[] = [];
  if (entityIds.length) {
    const before = await hub.db.selectFrom('samples').select(['entity_id', 'time', 'value']).distinctOn('entity_id')
      .where('entity_id', 'in', entityIds).where('time', '<', new Date(start)).orderBy('entity_id').orderBy('time', 'desc').execute();
    for (const s of before) states.set(s.entity_id, view(s.entity_id, s.value));
    samples.push(...await hub.db.selectFrom('samples').select(['entity_id', 'time', 'value'])
      .where('entity_id', 'in', entityIds).where('time', '>=', new Date(start)).where('time', '<', new Date(end))
      .orderBy('time').orderBy('entity_id').execute());
  }

  const runs: RunRecord[] = [];
  const env: Env = {
    dryRun: true,
    clock,
    scheduler: own,
    tz: hub.config.tz,
    on: (event, fn) => bus.on('rule', event, fn),
    offAll: () => bus.offOwner('rule'),
    state: (id) => states.get(id),
    device: (id) => hub.devices.get(id),
    devices: () => hub.devices.list(),
    entity: (id) => hub.entities.get(id),
    entities: (deviceId) => hub.entities.list({ deviceId }),
    async energy15m(deviceId, s, e) {
      // Only buckets complete at the simulated now, as the live ledger would have them.
      const rows = await energyOf(deviceId);
      return rows.filter((r) => r.start >= s && r.start < e && r.start + BUCKET <= clock.now());
    },
    command: async () => ({ ok: true, detail: 'dry run' }),
    notify: async () => ({ ok: true, detail: 'dry run' }),
    record: async (run) => {
      runs.push(run);
    },
    paused: async () => undefined,
    async runRule(ruleId, _owner, depth, signal) {
      const other = helpers.rule(ruleId);
      if (!other) return { ok: false, error: `no rule "${ruleId}"` };
      const runner = new RuleRunner(other, owner, env);
      const f = { type: 'run', time: clock.now(), explanation: 'run by another rule' };
      const run: RunRecord = {
        ruleId, owner: owner.id, startedAt: clock.now(), finishedAt: null, trigger: { type: 'run', time: clock.now(), explanation: f.explanation },
        conditions: [], actions: [], result: 'done', explanation: '', error: null, switches: [],
      };
      await runner.execute(runner.plan(f), run, signal, f, depth);
      return run.result === 'done' ? { ok: true } : { ok: false, error: run.error ?? run.result };
    },
    ownerMay: (o, deviceId) => helpers.ownerMay(o, deviceId),
    failed: () => undefined,
  };

  const runner = new RuleRunner({ ...rule, enabled: true } as Rule, owner, env);
  runner.start();

  // The timeline: samples, and ledger buckets becoming complete.
  const energyEntities = [...energyDevices].flatMap((d) => hub.entities.list({ deviceId: d }).map((e) => e.id));
  const times = new Set<number>(samples.map((s) => (s.time as Date).getTime()));
  if (energyEntities.length) for (let t = Math.ceil(start / BUCKET) * BUCKET; t <= end; t += BUCKET) times.add(t);
  let i = 0;
  for (const t of [...times].sort((a, b) => a - b)) {
    await clock.set(t);
    for (; i < samples.length && (samples[i]!.time as Date).getTime() === t; i++) {
      const s = samples[i]!;
      const prev = states.get(s.entity_id);
      const next = view(s.entity_id, s.value);
      states.set(s.entity_id, next);
      const entity = hub.entities.get(s.entity_id);
      if (!entity) continue;
      if ((prev?.available ?? true) !== next.available) {
        bus.emit('availability_changed', { entityId: s.entity_id, deviceId: entity.deviceId, available: next.available, at: t });
      }
      if (!prev || prev.value !== next.value || prev.available !== next.available) {
        const payload: HubEvents['state_changed'] = {
          entityId: s.entity_id, deviceId: entity.deviceId, kind: entity.kind, value: next.value, previous: prev?.value ?? null, at: t, available: next.available,
        };
        bus.emit('state_changed', payload);
      }
    }
    if (energyEntities.length && t % BUCKET === 0) {
      bus.emit('readings_recorded', { entityIds: energyEntities, from: t - BUCKET, to: t, count: 1 });
    }
    await settle();
    await runner.idle();
  }
  await clock.set(end);
  await settle();
  await runner.idle();
  runner.stop();
  own.stop();

  const firings = runs.filter((r) => r.result !== 'skipped').sort((a, b) => a.trigger.time - b.trigger.time || a.startedAt - b.startedAt);

  // Saved energy of every switch-off, until the rule switched the device on again.
  let saved = 0;
  const switches = runs.flatMap((r) => r.switches).sort((a, b) => a.at - b.at);
  const seen = new Set<string>();
  for (const [k, sw] of switches.entries()) {
    if (sw.on) continue;
    const key = `${sw.deviceId}@${sw.at}`;
    if (seen.has(key)) continue; // several switch entities of one device: count its energy once
    seen.add(key);
    const nextOn = switches.slice(k + 1).find((x) => x.deviceId === sw.deviceId && x.on);
    const until = Math.min(nextOn?.at ?? end, sw.until ?? end, end);
    // Already off (a second switch-off before any switch-on) saves nothing more.
    const prevOff = switches.slice(0, k).reverse().find((x) => x.deviceId === sw.deviceId);
    if (prevOff && !prevOff.on && prevOff.at !== sw.at && (prevOff.until ?? end) > sw.at) continue;
    for (const b of await energyOf(sw.deviceId)) {
      const overlap = Math.min(b.start + BUCKET, until) - Math.max(b.start, sw.at);
      if (overlap > 0) saved += b.kwh * (overlap / BUCKET);
    }
  }

  return {
    firings: firings.map((r) => ({
      time: new Date(r.trigger.time).toISOString(),
      explanation: r.explanation,
      actions: r.actions.map((a) => a.action),
    })),
    saved_kwh: Math.round(saved * 1e6) / 1e6,
  };
}
