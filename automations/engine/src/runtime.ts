/**
 * A rule at run time: arms its triggers on the Env (scheduler, bus events, energy checks), and on
 * a firing evaluates the conditions, applies the rate limit and the mode, and runs the actions,
 * recording the run. Built-in rule types are compiled to triggers + conditions + actions here.
 */
import { primaryEnergyEntity, type HubDevice } from '@joulehub/core';
import { nextPeriodStart, periodStart } from '@joulehub/core/energy';
import { describeCondition, evalCondition, sameState, stateValue } from './conditions.js';
import type { ActionOutcome, Env, RunRecord } from './env.js';
import type { Action, Condition, Level, PowerLevel, Rule, Trigger, Weekday, Window } from './rule.js';
import { WEEKDAYS } from './rule.js';
import { cronAt, hhmm, insideWeekly, localHours, nextSunEvent, sortWindows } from './time.js';

const BUCKET = 900_000;
const fmtKwh = (k: number) => `${Math.round(k * 1000) / 1000} kWh`;

/** What set a rule off. */
export interface Firing {
  type: string;
  time: number;
  explanation: string;
  deviceId?: string;
  /** For energy firings: the end of the period (switch-offs are counted as saving until then). */
  periodEnd?: number;
  /** Extra facts for built-in actions (the period's energy …). */
  facts?: Record<string, string | number>;
  /** Identifies a once-per-period firing (`device@periodStart`), recorded so a restart does not repeat it. */
  key?: string;
}

/** Actions plus the internal ones built-in types use. */
type PlannedAction =
  | (Action & { until?: number; deviceId?: string })
  | { type: 'alarm'; first_s: number; every_s: number; repeat: number; title: string; message: string; level: Level };

export interface Owner { id: string | null; role: string | null }

/** Crossing of an energy limit within one period, from 15-minute buckets: pure. */
export function energyCrossing(
  buckets: readonly { start: number; kwh: number }[], limit: number, periodEnd: number,
): { time: number; kwh: number } | undefined {
  let sum = 0;
  for (const b of [...buckets].sort((a, c) => a.start - c.start)) {
    sum += b.kwh;
    // Six decimals, as the ledger reports: float noise must not make 0.2 "exceed" 0.2.
    if (Math.round(sum * 1e6) / 1e6 > limit) return { time: Math.min(b.start + BUCKET, periodEnd), kwh: Math.round(sum * 1e6) / 1e6 };
  }
  return undefined;
}

function periodOf(t: number, period: 'hour' | 'day', tz: string): [number, number] {
  // Local hours and days as the ledger cuts them (DST days of 23 and 25 hours, +05:45 zones).
  const start = periodStart(t, period, tz);
  return [start, nextPeriodStart(start, period, tz)];
}

/**
 * "10:00–11:00" for an hour, the local date for a day; on the autumn DST night the two 02:00 hours
 * carry their UTC offsets ("02:00–02:00" would say nothing).
 */
export function periodLabel(start: number, end: number, period: 'hour' | 'day', tz: string): string {
  if (period === 'day') return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(start));
  const from = hhmm(localHours(start, tz));
  const to = hhmm(localHours(end, tz));
  if (end - start === 3_600_000 && (Number(to.slice(0, 2)) - Number(from.slice(0, 2)) + 24) % 24 === 1) return `${from}–${to}`;
  const offset = (t: number) => new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'shortOffset' }).formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value ?? '';
  return `${from} ${offset(start)}–${to} ${offset(end)}`;
}

export class RuleRunner {
  /** Runs in progress per subject (a device, a period; '' for the rule as a whole). */
  private readonly runs = new Map<string, { task: Promise<void>; abort: AbortController }>();
  private queue: Promise<void> = Promise.resolve();
  private recent: number[] = [];
  private stopped = false;
  private pausedReason: string | undefined;
  private webhookFire: (() => void) | undefined;
  private readonly fired = new Set<string>();
  /** Energy checks in progress (serialized, so one period cannot fire twice). */
  private work: Promise<void> = Promise.resolve();

  constructor(readonly rule: Rule, readonly owner: Owner, private readonly env: Env, fired?: Iterable<string>) {
    for (const key of fired ?? []) this.fired.add(key);
  }

  get tz(): string {
    return this.rule.tz ?? this.env.tz;
  }

  get paused(): string | undefined {
    return this.pausedReason;
  }

  /** Arms every trigger (a disabled or paused rule arms nothing). */
  start(pausedReason?: string): void {
    this.pausedReason = pausedReason;
    if (this.rule.enabled === false || pausedReason) return;
    const r = this.rule;
    switch (r.type ?? 'custom') {
      case 'custom':
      case 'shutdown':
      case 'startup':
        for (const t of (r as { triggers: Trigger[] }).triggers) this.armTrigger(t);
        break;
      case 'alarm': {
        const a = r as Extract<Rule, { type: 'alarm' }>;
        if (a.triggers?.length) for (const t of a.triggers) this.armTrigger(t);
        else this.armStart('rule started');
        break;
      }
      case 'on_windows':
      case 'power_level':
        this.armWindows();
        break;
      case 'over_consumption': {
        const o = r as Extract<Rule, { type: 'over_consumption' }>;
        this.armEnergy(o.devices, o.period ?? 'hour', o.limit_kwh);
        break;
      }
      case 'left_running':
        this.armLeftRunning(r as Extract<Rule, { type: 'left_running' }>);
        break;
    }
  }

  /**
   * Resolves when pending checks are done and every firing in progress is finished or asleep on the
   * clock (a delay, a wait): what tests and backtests need before they move the clock on.
   */
  async idle(): Promise<void> {
    for (let i = 0; i < 5_000; i++) {
      await this.work;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.active === this.asleep) return;
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
  }

  private active = 0;
  private asleep = 0;

  /** Waits on the clock, counted as asleep for idle(). */
  private async sleeping<T>(p: () => Promise<T>): Promise<T> {
    this.asleep++;
    try {
      return await p();
    } finally {
      this.asleep--;
    }
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.runs.values()) r.abort.abort(new Error('rule stopped'));
  }

  /** The webhook trigger (POST /api/v1/automations/{id}/webhook). */
  webhook(): boolean {
    if (!this.webhookFire) return false;
    this.webhookFire();
    return true;
  }

  // --- triggers -----------------------------------------------------------------------------------

  private armTrigger(t: Trigger): void {
    const env = this.env;
    switch (t.type) {
      case 'cron':
        env.scheduler.cron(t.cron, () => this.fire({ type: 'cron', time: env.clock.now(), explanation: `cron "${t.cron}" (${this.tz})` }), { timezone: this.tz });
        break;
      case 'sun': {
        const arm = () => {
          const next = nextSunEvent(env.clock.now(), this.tz, t.event, t.latitude, t.longitude, t.offset_min ?? 0);
          if (next === null) return;
          env.scheduler.after(next - env.clock.now(), async () => {
            const off = t.offset_min ? ` ${t.offset_min > 0 ? '+' : ''}${t.offset_min} min` : '';
            await this.fire({ type: 'sun', time: env.clock.now(), explanation: `${t.event}${off} at ${t.latitude},${t.longitude}` });
            arm();
          });
        };
        arm();
        break;
      }
      case 'state':
        env.on('state_changed', (e) => {
          if (e.entityId !== t.entity || !e.available) return;
          if (t.to !== undefined && !sameState(e.value, t.to)) return;
          if (t.from !== undefined && !sameState(e.previous, t.from)) return;
          void this.fire({ type: 'state', time: env.clock.now(), explanation: `${t.entity} changed ${String(e.previous)} → ${String(e.value)}` });
        });
        break;
      case 'numeric':
        this.armNumeric(t);
        break;
      case 'energy':
        this.armEnergy([t.device], t.period ?? 'hour', t.limit_kwh);
        break;
      case 'unavailable':
        this.armUnavailable(t);
        break;
      case 'webhook':
        this.webhookFire = () => void this.fire({ type: 'webhook', time: env.clock.now(), explanation: 'webhook called' });
        break;
    }
  }

  private armStart(why: string): void {
    this.env.scheduler.after(0, () => this.fire({ type: 'start', time: this.env.clock.now(), explanation: why }));
  }

  private armNumeric(t: Extract<Trigger, { type: 'numeric' }>): void {
    const env = this.env;
    const hyst = t.hysteresis ?? 0;
    const past = (v: number) => (t.above === undefined || v > t.above) && (t.below === undefined || v < t.below);
    // Back past the threshold by the hysteresis: the trigger may fire again.
    const reset = (v: number) => (t.above !== undefined && v <= t.above - hyst) || (t.below !== undefined && v >= t.below + hyst);
    const initial = stateValue(env.state(t.entity));
    let armed = typeof initial !== 'number' || !past(initial);
    let pending: { stop(): void } | undefined;
    const bound = `${t.above !== undefined ? ` > ${t.above}` : ''}${t.below !== undefined ? ` < ${t.below}` : ''}`;
    env.on('state_changed', (e) => {
      if (e.entityId !== t.entity) return;
      const v = e.available && typeof e.value === 'number' ? e.value : undefined;
      if (v === undefined || !past(v)) {
        pending?.stop();
        pending = undefined;
        if (v !== undefined && reset(v)) armed = true;
        return;
      }
      if (!armed || pending) return;
      const fire = () => {
        pending = undefined;
        armed = false;
        const now = stateValue(env.state(t.entity));
        void this.fire({ type: 'numeric', time: env.clock.now(), explanation: `${t.entity} = ${String(now)}${bound}${t.for_s ? ` for ${t.for_s} s` : ''}` });
      };
      if (t.for_s) pending = env.scheduler.after(t.for_s * 1000, fire);
      else fire();
    });
  }

  private armUnavailable(t: Extract<Trigger, { type: 'unavailable' }>): void {
    const env = this.env;
    const pending = new Map<string, { stop(): void }>();
    const matches = (entityId: string, deviceId: string) => (t.entity ? entityId === t.entity : t.device ? deviceId === t.device : true);
    env.on('availability_changed', (e) => {
      if (!matches(e.entityId, e.deviceId)) return;
      const key = t.entity ? e.entityId : e.deviceId;
      if (e.available) {
        pending.get(key)?.stop();
        pending.delete(key);
        return;
      }
      if (pending.has(key)) return;
      const fire = () => {
        pending.delete(key);
        const s = env.state(e.entityId);
        if (s && s.available) return;
        void this.fire({ type: 'unavailable', time: env.clock.now(), deviceId: e.deviceId, explanation: `${key} unavailable${t.for_s ? ` for ${t.for_s} s` : ''}` });
      };
      if (t.for_s) pending.set(key, env.scheduler.after(t.for_s * 1000, fire));
      else {
        pending.set(key, { stop() {} });
        fire();
        pending.set(key, { stop() {} }); // once until it is available again
      }
    });
  }

  /**
   * Energy of a device in the current clock hour/day above a limit (strict >), at most once per
   * device and period. Checked when readings are recorded — late ones for their own period.
   *
   * A 15-minute bucket is decided only once it is over: the firing's time is the end of the bucket
   * that crossed the limit, and its kWh is the period's energy as of that end, so the number is the
   * data's, not the moment of the check's. Live checks run whenever a recorder flush lands (its own
   * real-time timer), at any point of the clock; counting buckets as the energy service had them
   * then made a loaded hub report 1.757 kWh where the complete bucket — what a backtest, which
   * releases buckets at their ends, sees — held 1.787. Over means both:
   *  - the clock is past the bucket's end (a check mid-bucket saw it half-filled), and
   *  - the ledger has recorded the device's readings up to that end (`readings_recorded`'s `to`): a
   *    check handling an earlier flush after the clock moved on reads a ledger that stops short of
   *    the end while the energy service's open tail starts at newer samples already stored, so the
   *    minutes between are in neither. Interval readings are the exception: a reading is the energy
   *    of the time after it, so the one at a bucket's start already fills it.
   * A backtest releases buckets at their ends with `to` = the end, so both rules give its timeline.
   */
  private armEnergy(devices: string[] | undefined, period: 'hour' | 'day', limitKwh: number | undefined): void {
    const env = this.env;
    const limitOf = (d: HubDevice): number | undefined => limitKwh ?? (d.maxHourlyKwh !== undefined ? d.maxHourlyKwh * (period === 'day' ? 24 : 1) : undefined);
    const watched = (id: string) => {
      const d = env.device(id);
      if (!d) return undefined;
      if (devices ? !devices.includes(id) : limitOf(d) === undefined) return undefined;
      if (!env.ownerMay(this.owner, id)) return undefined;
      return d;
    };
    // Per device: the latest reading time the ledger has recorded (see above).
    const recorded = new Map<string, number>();
    env.on('readings_recorded', (e) => {
      const ids = new Set<string>();
      for (const entityId of e.entityIds) {
        const entity = env.entity(entityId);
        if (entity && watched(entity.deviceId)) ids.add(entity.deviceId);
      }
      if (ids.size === 0) return;
      for (const id of ids) recorded.set(id, Math.max(recorded.get(id) ?? -Infinity, e.to));
      // A reading also completes the energy before it (a counter's difference, an interval's spread):
      // look back a little, so a reading at 11:00 settles the 10:00 hour.
      const from = Math.min(e.from, env.clock.now()) - (period === 'hour' ? 2 * 3_600_000 : 1);
      this.work = this.work.then(async () => {
        for (const id of ids) {
          const d = watched(id);
          const limit = d ? limitOf(d) : undefined;
          if (!d || limit === undefined) continue;
          // Buckets ending by `over` are decided; the one the clock is in is still filling.
          const clockOver = Math.floor(env.clock.now() / BUCKET) * BUCKET;
          // The entity the device's energy is measured by (core's choice) decides whether readings are intervals.
          const over = primaryEnergyEntity(env.entities(id))?.kind === 'energy_interval' ? clockOver : Math.min(clockOver, recorded.get(id) ?? -Infinity);
          const first = periodOf(from, period, this.tz)[0];
          if (first >= over) continue;
          const buckets = (await env.energy15m(id, first, Math.ceil(over / BUCKET) * BUCKET)).filter((b) => b.start + BUCKET <= over);
          // Every period from the earliest reading up to now (late readings count in their own period).
          for (let [start, end] = periodOf(first, period, this.tz); start < over; [start, end] = periodOf(end, period, this.tz)) {
            const key = `${id}@${start}`;
            if (this.fired.has(key)) continue;
            const cross = energyCrossing(buckets.filter((b) => b.start >= start && b.start < end), limit, end);
            if (!cross) continue;
            this.fired.add(key);
            const span = periodLabel(start, end, period, this.tz);
            void this.fire({
              type: 'energy', time: cross.time, deviceId: id, periodEnd: end, key,
              explanation: `energy of ${id} ${span} = ${fmtKwh(cross.kwh)} by ${hhmm(localHours(cross.time, this.tz))} > ${fmtKwh(limit)}`,
              facts: { kwh: cross.kwh, limit, span, name: d.name, address: d.address ?? 'no address' },
            });
          }
        }
      }).catch((err: unknown) => env.failed(err, 'energy check'));
    });
  }

  /** on_windows and power_level: fire at every window edge (and at start inside a window). */
  private armWindows(): void {
    const env = this.env;
    const edges = new Map<string, Set<Weekday>>();
    const add = (h: number, d: Weekday) => {
      const key = String(Math.round(h * 60) / 60);
      if (!edges.has(key)) edges.set(key, new Set());
      edges.get(key)!.add(d);
    };
    for (const d of WEEKDAYS) {
      for (const [from, to] of this.windowsOn(d)) {
        if (from === to) continue;
        add(from, d);
        // A window crossing midnight ends on the next day.
        if (to > from) add(to, d);
        else add(to, WEEKDAYS[(WEEKDAYS.indexOf(d) + 1) % 7]!);
      }
    }
    for (const [h, days] of edges) {
      const pattern = cronAt(Number(h), [...days]);
      env.scheduler.cron(pattern, () => this.fire({ type: 'window', time: env.clock.now(), explanation: `window edge ${hhmm(Number(h))}` }), { timezone: this.tz });
    }
    const inside = this.currentWindow(env.clock.now());
    if (inside) {
      env.scheduler.after(0, () => this.fire({
        type: 'start', time: env.clock.now(), explanation: `started inside window ${hhmm(inside[0])}–${hhmm(inside[1])}`,
      }));
    }
  }

  private windowsOn(d: Weekday): Window[] {
    const r = this.rule;
    if (r.type === 'on_windows') {
      if (r.days && !r.days.includes(d)) return [];
      return sortWindows(Array.isArray(r.windows) ? r.windows : r.windows[d] ?? []);
    }
    if (r.type === 'power_level') {
      if (r.days && !r.days.includes(d)) return [];
      return sortWindows(r.windows).map((w) => [w.from, w.to] as Window);
    }
    return [];
  }

  private currentWindow(t: number): Window | undefined {
    return insideWeekly(t, this.tz, (d) => this.windowsOn(d));
  }

  private armLeftRunning(r: Extract<Rule, { type: 'left_running' }>): void {
    const env = this.env;
    const entity = r.entity ?? `${r.device}.power`;
    const startW = r.start_w ?? 25;
    const stopW = r.stop_w ?? 5;
    let phase: 'idle' | 'starting' | 'running' | 'stopping' = 'idle';
    let since = 0;
    let timer: { stop(): void } | undefined;
    let limitTimer: { stop(): void } | undefined;
    const clear = () => {
      timer?.stop();
      timer = undefined;
    };
    const running = (at: number) => {
      phase = 'running';
      since = at;
      const h = localHours(at, this.tz);
      if (r.usual_hours?.length && !r.usual_hours.some((w) => (w[0] === w[1]) || (w[0] < w[1] ? h >= w[0] && h < w[1] : h >= w[0] || h < w[1]))) {
        void this.fire({ type: 'left_running', time: env.clock.now(), deviceId: r.device, explanation: `${r.device} started at ${hhmm(h)}, outside its usual hours ${sortWindows(r.usual_hours).map((w) => `${hhmm(w[0])}–${hhmm(w[1])}`).join(', ')}` });
      }
      if (r.max_run_s) {
        limitTimer = env.scheduler.after(Math.max(0, at + r.max_run_s * 1000 - env.clock.now()), () => {
          limitTimer = undefined;
          if (phase !== 'running' && phase !== 'stopping') return;
          void this.fire({ type: 'left_running', time: env.clock.now(), deviceId: r.device, explanation: `${r.device} above ${stopW} W since ${hhmm(localHours(since, this.tz))}, longer than ${r.max_run_s} s` });
        });
      }
    };
    env.on('state_changed', (e) => {
      if (e.entityId !== entity) return;
      const v = e.available && typeof e.value === 'number' ? e.value : 0;
      const at = env.clock.now();
      if (phase === 'idle' && v > startW) {
        phase = 'starting';
        since = at;
        if (r.min_on_s ?? 120) timer = env.scheduler.after((r.min_on_s ?? 120) * 1000, () => { timer = undefined; running(since); });
        else running(at);
      } else if (phase === 'starting' && v <= startW) {
        // A short spike (or standby wobble) is not a cycle.
        clear();
        phase = 'idle';
      } else if (phase === 'running' && v < stopW) {
        phase = 'stopping';
        const stopAt = at;
        timer = env.scheduler.after((r.min_off_s ?? 60) * 1000, () => {
          timer = undefined;
          if (phase !== 'stopping') return;
          phase = 'idle';
          limitTimer?.stop();
          limitTimer = undefined;
          void stopAt;
        });
      } else if (phase === 'stopping' && v >= stopW) {
        clear();
        phase = 'running';
      }
    });
  }

  // --- firing -------------------------------------------------------------------------------------

  /** A trigger fired: conditions, rate limit, mode, actions; every firing is recorded. */
  async fire(f: Firing): Promise<void> {
    this.active++;
    try {
      await this.fireNow(f);
    } finally {
      this.active--;
    }
  }

  private async fireNow(f: Firing): Promise<void> {
    if (this.stopped || this.pausedReason) return;
    const env = this.env;
    const conditions = this.conditions();
    const ctx = { now: env.clock.now(), tz: this.tz, state: (id: string) => env.state(id) };
    const evaluated = conditions.map((c) => ({ condition: describeCondition(c), result: evalCondition(c, ctx) }));
    const base = (): RunRecord => ({
      ruleId: this.rule.id, owner: this.owner.id, startedAt: env.clock.now(), finishedAt: null,
      trigger: { type: f.type, time: f.time, explanation: f.explanation, ...(f.key ? { key: f.key } : {}) }, conditions: evaluated, actions: [],
      result: 'done', explanation: f.explanation, error: null, switches: [],
    });
    if (evaluated.some((c) => !c.result)) {
      const run = base();
      run.result = 'skipped';
      run.finishedAt = env.clock.now();
      run.explanation = `${f.explanation}; not run: ${evaluated.filter((c) => !c.result).map((c) => c.condition).join(', ')} is false`;
      await env.record(run);
      return;
    }
    // Safety: a rule firing faster than its limit is paused and reported.
    const now = env.clock.now();
    this.recent = this.recent.filter((t) => t > now - 3_600_000);
    const limit = this.rule.max_runs_per_hour ?? 30;
    if (this.recent.length >= limit) {
      this.pausedReason = `fired more than ${limit} times within an hour`;
      this.env.scheduler.stop();
      const run = base();
      run.result = 'paused';
      run.finishedAt = now;
      run.explanation = `${f.explanation}; rule paused: ${this.pausedReason}`;
      await env.record(run);
      await env.paused(this.rule.id, this.pausedReason);
      return;
    }
    this.recent.push(now);
    const mode = this.rule.mode ?? 'single';
    // Modes apply per subject: one device's over-consumption does not swallow another's.
    const subject = f.key ?? f.deviceId ?? '';
    const current = this.runs.get(subject);
    if (current && mode === 'single') return;
    if (current && mode === 'restart') current.abort.abort(new Error('restarted by a new trigger'));
    const controller = new AbortController();
    const entry = { task: Promise.resolve(), abort: controller };
    const go = async () => {
      const run = base();
      run.startedAt = env.clock.now();
      await this.execute(this.plan(f), run, controller.signal, f);
      // The actions are done: a new trigger may run while this one is still being recorded.
      if (this.runs.get(subject) === entry) this.runs.delete(subject);
      run.finishedAt = env.clock.now();
      run.explanation = [f.explanation, ...run.actions.map((a) => a.action)].join('; ');
      await env.record(run);
    };
    let task: Promise<void>;
    if (mode === 'queued') {
      const before = this.queue;
      // Waiting for the run ahead counts as asleep: that run may itself be waiting on the clock.
      task = (async () => {
        await this.sleeping(() => before);
        await go();
      })();
      this.queue = task.catch(() => undefined);
    } else task = go();
    entry.task = task;
    this.runs.set(subject, entry);
    try {
      await task;
    } finally {
      if (this.runs.get(subject) === entry) this.runs.delete(subject);
    }
  }

  private conditions(): Condition[] {
    const r = this.rule as { conditions?: Condition[] };
    return r.conditions ?? [];
  }

  /** The actions of a firing (built-in types compute theirs from the moment and the trigger). */
  plan(f: Firing): PlannedAction[] {
    const r = this.rule;
    const env = this.env;
    switch (r.type ?? 'custom') {
      case 'custom':
        return (r as { actions: Action[] }).actions;
      case 'on_windows': {
        const o = r as Extract<Rule, { type: 'on_windows' }>;
        const w = this.currentWindow(env.clock.now());
        return [{ type: 'switch', entity: o.entity, command: w ? 'turn_on' : 'turn_off' }];
      }
      case 'power_level': {
        const p = r as Extract<Rule, { type: 'power_level' }>;
        const h = localHours(env.clock.now(), this.tz);
        const w = this.currentWindow(env.clock.now());
        const level = w ? p.windows.find((x) => x.from === w[0] && x.to === w[1])?.level ?? p.outside ?? 'D0' : p.outside ?? 'D0';
        void h;
        return [{ type: 'set_level', entity: p.entity, level: level as PowerLevel }];
      }
      case 'shutdown':
      case 'startup': {
        const s = r as Extract<Rule, { type: 'shutdown' | 'startup' }>;
        const on = s.type === 'startup';
        const devices = (s.devices ?? env.devices().map((d) => d.id))
          .filter((id) => !(s.always_on ?? []).includes(id) && env.ownerMay(this.owner, id))
          .sort();
        return devices.flatMap((id) => env.entities(id).filter((e) => e.kind === 'switch')
          .map((e): PlannedAction => ({ type: 'switch', entity: e.id, command: on ? 'turn_on' : 'turn_off' })));
      }
      case 'alarm': {
        const a = r as Extract<Rule, { type: 'alarm' }>;
        return [{ type: 'alarm', first_s: a.after_s, every_s: a.interval_s ?? a.after_s, repeat: a.repeat ?? 0, title: a.title ?? a.name ?? a.id, message: a.message, level: a.level ?? 'warning' }];
      }
      case 'over_consumption': {
        const o = r as Extract<Rule, { type: 'over_consumption' }>;
        const id = f.deviceId!;
        const facts = f.facts ?? {};
        const out: PlannedAction[] = [{
          type: 'notify', level: o.level ?? 'warning', deviceId: id,
          title: `${facts.name ?? id} over its limit`,
          message: `${facts.name ?? id} (${id}, ${facts.address}) used ${facts.kwh} kWh in ${facts.span}, more than ${facts.limit} kWh`,
        }];
        if (o.switch_off) out.push(...this.switchesOf(id, 'turn_off', f.periodEnd));
        return out;
      }
      case 'left_running': {
        const l = r as Extract<Rule, { type: 'left_running' }>;
        const name = env.device(l.device)?.name ?? l.device;
        const out: PlannedAction[] = [{ type: 'notify', level: l.level ?? 'warning', deviceId: l.device, title: `${name} left running`, message: f.explanation }];
        if (l.switch_off) out.push(...this.switchesOf(l.device, 'turn_off'));
        return out;
      }
    }
    return [];
  }

  private switchesOf(deviceId: string, command: 'turn_on' | 'turn_off', until?: number): PlannedAction[] {
    return this.env.entities(deviceId).filter((e) => e.kind === 'switch')
      .map((e) => ({ type: 'switch' as const, entity: e.id, command, ...(until !== undefined ? { until } : {}) }));
  }

  /** Runs actions in order; a failing one is recorded and the rest still run. */
  async execute(actions: PlannedAction[], run: RunRecord, signal: AbortSignal, f?: Firing, depth = 0): Promise<void> {
    const env = this.env;
    const verb = env.dryRun ? 'would ' : '';
    for (const a of actions) {
      if (signal.aborted) {
        run.result = 'cancelled';
        run.actions.push({ action: `${a.type} not run`, ok: false, error: String((signal.reason as Error)?.message ?? 'cancelled') });
        continue;
      }
      let label: string = a.type;
      let outcome: ActionOutcome;
      try {
        switch (a.type) {
          case 'switch':
          case 'set_level': {
            const deviceId = a.entity.slice(0, a.entity.indexOf('.'));
            label = a.type === 'switch'
              ? `${verb}${a.command === 'turn_on' ? 'switch on' : a.command === 'turn_off' ? 'switch off' : 'toggle'} ${a.entity}`
              : `${verb}set ${a.entity} to ${a.level}`;
            if (!env.ownerMay(this.owner, deviceId)) {
              outcome = { ok: false, error: `the rule's owner may not control ${deviceId}` };
              break;
            }
            const pause = (ms: number) => this.sleeping(() => env.clock.sleep(ms, signal));
            outcome = a.type === 'switch'
              ? await env.command(a.entity, a.command, undefined, pause)
              : await env.command(a.entity, 'set_level', { level: a.level }, pause);
            if (outcome.ok && a.type === 'switch' && a.command !== 'toggle') {
              run.switches.push({ deviceId, on: a.command === 'turn_on', at: env.clock.now(), ...(a.until !== undefined ? { until: a.until } : {}) });
            }
            break;
          }
          case 'notify': {
            label = `${verb}notify "${a.message}"`;
            outcome = await env.notify({
              owner: this.owner.id, ruleId: this.rule.id, level: a.level ?? 'info', title: a.title ?? this.rule.name ?? this.rule.id, message: a.message,
              ...(a.deviceId ?? f?.deviceId ? { deviceId: a.deviceId ?? f?.deviceId } : {}), ...(a.webhook ? { webhook: a.webhook } : {}),
            });
            break;
          }
          case 'delay':
            label = `wait ${a.seconds} s`;
            await this.sleeping(() => env.clock.sleep(a.seconds * 1000, signal));
            outcome = { ok: true };
            break;
          case 'wait':
            label = `wait for ${a.entity} = ${String(a.state)}`;
            outcome = await this.sleeping(() => this.waitFor(a.entity, a.state, (a.timeout_s ?? 3600) * 1000, signal));
            break;
          case 'run':
            label = `run rule ${a.rule}`;
            outcome = depth >= 5 ? { ok: false, error: 'rules run each other more than 5 deep' } : await env.runRule(a.rule, this.owner.id, depth + 1, signal);
            break;
          case 'alarm': {
            label = `alarm "${a.message}"`;
            const times = a.repeat < 0 ? Infinity : a.repeat + 1;
            let n = 0;
            await this.sleeping(() => env.clock.sleep(a.first_s * 1000, signal));
            for (;;) {
              const res = await env.notify({ owner: this.owner.id, ruleId: this.rule.id, level: a.level, title: a.title, message: a.message });
              n++;
              run.actions.push({ action: `${verb}notify "${a.message}" (${n}${Number.isFinite(times) ? ` of ${times}` : ''})`, ...res });
              if (n >= times) break;
              await this.sleeping(() => env.clock.sleep(a.every_s * 1000, signal));
            }
            continue;
          }
        }
      } catch (err) {
        if (signal.aborted) {
          run.result = 'cancelled';
          run.actions.push({ action: label, ok: false, error: String((signal.reason as Error)?.message ?? 'cancelled') });
          continue;
        }
        outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      run.actions.push({ action: label, ...outcome });
      if (!outcome.ok && run.result === 'done') {
        run.result = 'failed';
        run.error = `${label}: ${outcome.error ?? 'failed'}`;
      }
    }
  }

  private waitFor(entity: string, state: string | number | boolean, timeoutMs: number, signal: AbortSignal): Promise<ActionOutcome> {
    const env = this.env;
    if (sameState(stateValue(env.state(entity)), state)) return Promise.resolve({ ok: true });
    return new Promise<ActionOutcome>((resolve) => {
      let done = false;
      const finish = (o: ActionOutcome) => {
        if (done) return;
        done = true;
        timer.stop();
        off();
        resolve(o);
      };
      const timer = env.scheduler.after(timeoutMs, () => finish({ ok: false, error: `${entity} did not become ${String(state)} within ${timeoutMs / 1000} s` }));
      const off = env.on('state_changed', (e) => {
        if (e.entityId === entity && sameState(stateValue(env.state(entity)), state)) finish({ ok: true });
      });
      signal.addEventListener('abort', () => finish({ ok: false, error: 'cancelled' }), { once: true });
    });
  }
}
