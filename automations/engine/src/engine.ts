/**
 * The live engine: loads rules (joulehub.yaml, automations/*.yaml, the database), runs each on
 * its own scheduler owner and bus owner over the hub, records every run, and serves the API's
 * AutomationService (CRUD with ownership checks, runs, backtests, webhooks).
 */
import type {
  AutomationRunView, AutomationService, AutomationView, BacktestResult, Hub, HubScheduler,
} from '@joulehub/core';
import type { Env, RunRecord } from './env.js';
import { referencedDevices, ruleProblems, type Rule, type RuleProblem } from './rule.js';
import { RuleRunner, type Owner } from './runtime.js';
import { runBacktest } from './backtest.js';

/** The caller shape of core's auth/caller.ts (structural, so the engine needs no deep import). */
export interface CallerLike {
  kind: 'session' | 'token' | 'anonymous' | 'system';
  userId: string | null;
  role: 'admin' | 'user' | null;
  scopes: readonly string[];
  deviceIds?: readonly string[];
}

export interface EngineOptions {
  /** core's callerCanSeeDevice: the one ownership rule. */
  canSeeDevice(caller: CallerLike, device: { id: string; ownerId: string | null }): boolean;
  /** Command attempts (default 3) and the waits between them, ms of hub-clock time. */
  commandRetries?: number[];
  /** Longest backtest range (default 93 days). */
  maxBacktestDays?: number;
}

export type AutomationErrorCode = 'RULE_INVALID' | 'RULE_NOT_FOUND' | 'RULE_EXISTS' | 'RULE_READ_ONLY' | 'RULE_FORBIDDEN' | 'BACKTEST_RANGE';

export class AutomationError extends Error {
  override readonly name = 'AutomationError';
  constructor(readonly code: AutomationErrorCode, message: string, readonly problems?: RuleProblem[]) {
    super(message);
  }
}

interface Entry {
  rule: Rule;
  owner: Owner;
  source: 'config' | 'api';
  file?: string;
  line?: number;
  lines?: Record<string, number>;
  runner?: RuleRunner;
  paused: { reason: string; at: string } | null;
}

export function ownerCaller(owner: Owner): CallerLike {
  return owner.id === null
    ? { kind: 'system', userId: null, role: 'admin', scopes: ['read', 'write'] }
    : { kind: 'session', userId: owner.id, role: owner.role === 'admin' ? 'admin' : 'user', scopes: ['read', 'write'] };
}

const iso = (t: number | Date) => new Date(t).toISOString();

export class AutomationEngine implements AutomationService {
  private readonly entries = new Map<string, Entry>();
  private readonly log;
  private stopped = false;

  constructor(private readonly hub: Hub, private readonly opts: EngineOptions) {
    this.log = hub.log.child({ component: 'automations' });
  }

  async start(): Promise<void> {
    const config = this.hub.config;
    (config.automations ?? []).forEach((raw, i) => {
      const src = config.automationSources?.[i];
      const where = src ? `${src.file}:${src.line}` : `automations[${i}]`;
      const problems = ruleProblems(raw);
      if (problems.length) {
        for (const p of problems) this.log.error({ rule: raw.id }, `${src ? `${src.file}:${src.lines[p.path] ?? src.line}` : where}: ${src?.path ?? `automations[${i}]`}.${p.path} ${p.message}; rule not loaded`);
        return;
      }
      const rule = raw as unknown as Rule;
      if (this.entries.has(rule.id)) {
        this.log.error(`${where}: rule id "${rule.id}" is used twice; the second is not loaded`);
        return;
      }
      for (const ref of referencedDevices(rule)) {
        if (!this.hub.devices.get(ref.device)) {
          this.log.warn(`${src ? `${src.file}:${src.lines[ref.path] ?? src.line}` : where}: ${src?.path ?? ''}.${ref.path} names device "${ref.device}", which does not exist (yet)`);
        }
      }
      this.entries.set(rule.id, {
        rule, owner: { id: null, role: 'admin' }, source: 'config', paused: null,
        ...(src ? { file: src.file, line: src.line, lines: src.lines } : {}),
      });
    });
    const rows = await this.hub.db.selectFrom('automations').selectAll().execute();
    for (const row of rows) {
      const rule = row.definition as Rule;
      if (this.entries.has(row.id)) {
        this.log.error({ rule: row.id }, 'a stored rule has the id of a rule in the config files; the stored one is not run');
        continue;
      }
      this.entries.set(row.id, {
        rule, owner: { id: row.owner_id, role: row.owner_role }, source: 'api',
        paused: row.paused_reason ? { reason: row.paused_reason, at: iso(row.paused_at as Date) } : null,
      });
    }
    // The owner's role as the user store has it now (a demoted admin's rules lose the other devices;
    // a deleted user's rules act on nothing).
    for (const entry of this.entries.values()) await this.refreshOwner(entry);
    // Energy firings already made in the last two days (once per device and period, across restarts).
    const since = new Date(this.hub.clock.now() - 2 * 86_400_000);
    const done = await this.hub.db.selectFrom('automation_runs').select(['rule_id', 'trigger'])
      .where('started_at', '>=', since).where('result', 'in', ['done', 'failed', 'cancelled']).execute();
    for (const row of done) {
      const key = (row.trigger as { key?: unknown }).key;
      if (typeof key === 'string') {
        const set = this.firedKeys.get(row.rule_id) ?? new Set<string>();
        set.add(key);
        this.firedKeys.set(row.rule_id, set);
      }
    }
    for (const entry of this.entries.values()) this.startEntry(entry);
    this.log.info({ rules: this.entries.size }, 'automation engine started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.entries.values()) this.stopEntry(entry);
  }

  // --- running ------------------------------------------------------------------------------------

  private readonly firedKeys = new Map<string, Set<string>>();

  private async refreshOwner(entry: Entry): Promise<void> {
    if (entry.owner.id === null) return;
    try {
      const user = await this.hub.auth.users.get(entry.owner.id);
      entry.owner = { id: entry.owner.id, role: user?.role ?? null };
    } catch (err) {
      this.log.warn({ err, rule: entry.rule.id }, 'could not look up the rule owner; keeping the stored role');
    }
  }

  private startEntry(entry: Entry): void {
    if (this.stopped) return;
    const env = this.liveEnv(entry);
    entry.runner = new RuleRunner(entry.rule, entry.owner, env, this.firedKeys.get(entry.rule.id));
    try {
      entry.runner.start(entry.paused?.reason);
    } catch (err) {
      this.log.error({ err, rule: entry.rule.id }, 'rule could not start');
    }
  }

  private stopEntry(entry: Entry): void {
    entry.runner?.stop();
    entry.runner = undefined;
    const owner = `automation:${entry.rule.id}`;
    this.hub.bus.offOwner(owner);
    (this.hub.scheduler as HubScheduler).stopOwner?.(owner);
  }

  ownerMay(owner: Owner, deviceId: string): boolean {
    const device = this.hub.devices.get(deviceId);
    return device ? this.opts.canSeeDevice(ownerCaller(owner), device) : false;
  }

  private liveEnv(entry: Entry): Env {
    const hub = this.hub;
    const ownerKey = `automation:${entry.rule.id}`;
    const hs = hub.scheduler as HubScheduler;
    const scheduler = hs.forOwner(ownerKey, { onError: (err) => this.log.error({ err, rule: entry.rule.id }, 'rule task failed') });
    const retries = this.opts.commandRetries ?? [1_000, 5_000];
    const engine = this;
    return {
      dryRun: false,
      clock: hub.clock,
      scheduler,
      tz: hub.config.tz,
      on: (event, fn) => hub.bus.on(ownerKey, event, fn),
      offAll: () => hub.bus.offOwner(ownerKey),
      state(id) {
        const s = hub.states.get(id);
        if (!s) return undefined;
        return { value: s.kind === 'switch' ? s.text : s.value, available: s.available };
      },
      device: (id) => hub.devices.get(id),
      devices: () => hub.devices.list(),
      entity: (id) => hub.entities.get(id),
      entities: (deviceId) => hub.entities.list({ deviceId }),
      async energy15m(deviceId, start, end) {
        const rows = await hub.energy.energy({ deviceId, start: new Date(start), end: new Date(end), interval: '15m', tz: 'UTC' });
        return rows.map((r) => ({ start: Date.parse(r.datetime), kwh: r.value }));
      },
      async command(entityId, command, params, pause) {
        let last = '';
        for (let attempt = 1; ; attempt++) {
          try {
            await hub.sendCommand({ entityId, command, ...(params ? { params } : {}) });
            return { ok: true, attempts: attempt };
          } catch (err) {
            last = err instanceof Error ? err.message : String(err);
            engine.log.warn({ err, rule: entry.rule.id, entityId, attempt }, 'automation command failed');
            const wait = retries[attempt - 1];
            if (wait === undefined) return { ok: false, attempts: attempt, error: last };
            await pause(wait);
          }
        }
      },
      async notify(n) {
        const res = await hub.notifications.notify({
          owner: n.owner, ruleId: n.ruleId, level: n.level, title: n.title, message: n.message,
          ...(n.deviceId ? { deviceId: n.deviceId } : {}), ...(n.webhook ? { webhook: n.webhook } : {}),
        });
        if (res.webhook && !res.webhook.ok) return { ok: false, error: `webhook: ${res.webhook.error ?? `HTTP ${res.webhook.status}`}` };
        return { ok: true, ...(res.webhook ? { detail: `webhook HTTP ${res.webhook.status}` } : {}) };
      },
      record: (run) => this.record(run),
      paused: async (ruleId, reason) => {
        entry.paused = { reason, at: iso(hub.clock.now()) };
        this.log.warn({ rule: ruleId, reason }, 'automation rule paused');
        if (entry.source === 'api') {
          await hub.db.updateTable('automations').set({ paused_reason: reason, paused_at: new Date(hub.clock.now()) }).where('id', '=', ruleId).execute();
        }
        await hub.notifications.notify({
          owner: entry.owner.id, ruleId, level: 'critical', title: `Rule ${entry.rule.name ?? ruleId} paused`,
          message: `Rule "${ruleId}" ${reason} and was paused; change it (or re-enable it) to run it again.`,
        });
      },
      runRule: (ruleId, owner, depth, signal) => this.runOther(ruleId, owner, depth, signal),
      ownerMay: (owner, deviceId) => this.ownerMay(owner, deviceId),
      failed: (err, what) => this.log.error({ err, rule: entry.rule.id }, `${what} failed`),
    };
  }

  /** Resolves when every rule's pending checks and running actions are done. */
  async idle(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.runner?.idle()));
  }

  private async runOther(ruleId: string, owner: string | null, depth: number, signal: AbortSignal) {
    const target = this.entries.get(ruleId);
    if (!target?.runner) return { ok: false, error: `no running rule "${ruleId}"` };
    if (owner !== null && target.owner.id !== owner) return { ok: false, error: `rule "${ruleId}" belongs to someone else` };
    const now = this.hub.clock.now();
    const f = { type: 'run', time: now, explanation: `run by another rule` };
    const run: RunRecord = {
      ruleId, owner: target.owner.id, startedAt: now, finishedAt: null, trigger: { type: 'run', time: now, explanation: f.explanation },
      conditions: [], actions: [], result: 'done', explanation: f.explanation, error: null, switches: [],
    };
    await target.runner.execute(target.runner.plan(f), run, signal, f, depth);
    run.finishedAt = this.hub.clock.now();
    run.explanation = [f.explanation, ...run.actions.map((a) => a.action)].join('; ');
    await this.record(run);
    return run.result === 'done' ? { ok: true } : { ok: false, error: run.error ?? run.result };
  }

  private async record(run: RunRecord): Promise<void> {
    if (run.trigger.key && run.result !== 'skipped' && run.result !== 'paused') {
      const set = this.firedKeys.get(run.ruleId) ?? new Set<string>();
      set.add(run.trigger.key);
      this.firedKeys.set(run.ruleId, set);
    }
    try {
      await this.hub.db.insertInto('automation_runs').values({
        rule_id: run.ruleId,
        owner_id: run.owner,
        started_at: new Date(run.startedAt),
        finished_at: run.finishedAt === null ? null : new Date(run.finishedAt),
        trigger: JSON.stringify({ ...run.trigger, time: iso(run.trigger.time) }),
        conditions: JSON.stringify(run.conditions),
        actions: JSON.stringify(run.actions),
        result: run.result,
        explanation: run.explanation,
        error: run.error,
      }).execute();
    } catch (err) {
      this.log.error({ err, rule: run.ruleId }, 'recording an automation run failed');
    }
  }

  // --- the API ------------------------------------------------------------------------------------

  private visible(entry: Entry, caller: CallerLike): boolean {
    if (caller.kind === 'system' || caller.role === 'admin') return true;
    return caller.userId !== null && entry.owner.id === caller.userId;
  }

  private view(entry: Entry): AutomationView {
    return {
      id: entry.rule.id,
      owner_id: entry.owner.id,
      source: entry.source,
      ...(entry.file ? { file: entry.file } : {}),
      ...(entry.line ? { line: entry.line } : {}),
      paused: entry.paused,
      definition: entry.rule as unknown as Record<string, unknown>,
    };
  }

  private require(id: string, caller: CallerLike): Entry {
    const entry = this.entries.get(id);
    if (!entry || !this.visible(entry, caller)) throw new AutomationError('RULE_NOT_FOUND', `No automation "${id}"`);
    return entry;
  }

  /** Schema, devices that exist, and devices the owner may see and control. */
  private check(definition: unknown, owner: Owner, caller?: CallerLike): Rule {
    const problems = ruleProblems(definition);
    if (problems.length) throw new AutomationError('RULE_INVALID', `The rule is invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
    const rule = definition as Rule;
    const missing: RuleProblem[] = [];
    for (const ref of referencedDevices(rule)) {
      if (!this.hub.devices.get(ref.device)) missing.push({ path: ref.path, message: `names no device "${ref.device}"` });
      else if (!this.ownerMay(owner, ref.device) || (caller && !this.opts.canSeeDevice(caller, this.hub.devices.get(ref.device)!))) {
        throw new AutomationError('RULE_FORBIDDEN', `Device "${ref.device}" (${ref.path}) is not yours to automate`);
      }
    }
    if (missing.length) throw new AutomationError('RULE_INVALID', missing.map((p) => `${p.path} ${p.message}`).join('; '), missing);
    return rule;
  }

  list(caller: CallerLike): AutomationView[] {
    return [...this.entries.values()].filter((e) => this.visible(e, caller))
      .sort((a, b) => (a.rule.id < b.rule.id ? -1 : 1)).map((e) => this.view(e));
  }

  get(id: string, caller: CallerLike): AutomationView | undefined {
    const entry = this.entries.get(id);
    return entry && this.visible(entry, caller) ? this.view(entry) : undefined;
  }

  async create(definition: Record<string, unknown>, caller: CallerLike): Promise<AutomationView> {
    const owner: Owner = caller.kind === 'system' ? { id: null, role: 'admin' } : { id: caller.userId, role: caller.role };
    const rule = this.check(definition, owner, caller);
    if (this.entries.has(rule.id)) throw new AutomationError('RULE_EXISTS', `An automation "${rule.id}" already exists`);
    await this.hub.db.insertInto('automations').values({
      id: rule.id, owner_id: owner.id, owner_role: owner.role, definition: JSON.stringify(rule),
      created_at: new Date(this.hub.clock.now()), updated_at: new Date(this.hub.clock.now()),
    }).execute();
    const entry: Entry = { rule, owner, source: 'api', paused: null };
    this.entries.set(rule.id, entry);
    this.startEntry(entry);
    return this.view(entry);
  }

  async update(id: string, patch: Record<string, unknown>, caller: CallerLike): Promise<AutomationView> {
    const entry = this.require(id, caller);
    if (entry.source === 'config') throw new AutomationError('RULE_READ_ONLY', `Automation "${id}" is defined in ${entry.file ?? 'the config file'}; change it there`);
    const merged: Record<string, unknown> = { ...(entry.rule as unknown as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    if (merged.id !== id) throw new AutomationError('RULE_INVALID', 'id cannot change', [{ path: 'id', message: 'cannot change' }]);
    const rule = this.check(merged, entry.owner, caller);
    await this.hub.db.updateTable('automations')
      .set({ definition: JSON.stringify(rule), paused_reason: null, paused_at: null, updated_at: new Date(this.hub.clock.now()) })
      .where('id', '=', id).execute();
    this.stopEntry(entry);
    entry.rule = rule;
    entry.paused = null;
    this.startEntry(entry);
    return this.view(entry);
  }

  async remove(id: string, caller: CallerLike): Promise<void> {
    const entry = this.require(id, caller);
    if (entry.source === 'config') throw new AutomationError('RULE_READ_ONLY', `Automation "${id}" is defined in ${entry.file ?? 'the config file'}; remove it there`);
    this.stopEntry(entry);
    this.entries.delete(id);
    await this.hub.db.deleteFrom('automations').where('id', '=', id).execute();
  }

  async runs(id: string, caller: CallerLike, opts: { limit?: number } = {}): Promise<AutomationRunView[]> {
    this.require(id, caller);
    const rows = await this.hub.db.selectFrom('automation_runs').selectAll().where('rule_id', '=', id)
      .orderBy('started_at', 'desc').orderBy('id', 'desc').limit(opts.limit ?? 100).execute();
    return rows.map((r) => ({
      id: String(r.id), rule_id: r.rule_id, started_at: iso(r.started_at as Date), finished_at: r.finished_at ? iso(r.finished_at as Date) : null,
      trigger: r.trigger, conditions: r.conditions, actions: r.actions, result: r.result, explanation: r.explanation, error: r.error,
    }));
  }

  async webhook(id: string, caller: CallerLike): Promise<void> {
    const entry = this.require(id, caller);
    if (!entry.runner?.webhook()) throw new AutomationError('RULE_INVALID', `Automation "${id}" has no webhook trigger (or is disabled or paused)`, [{ path: 'triggers', message: 'has no webhook trigger' }]);
  }

  async backtest(id: string, range: { start: Date; end: Date }, caller: CallerLike): Promise<BacktestResult> {
    const entry = this.require(id, caller);
    const start = range.start.getTime();
    const end = Math.min(range.end.getTime(), this.hub.clock.now());
    const maxDays = this.opts.maxBacktestDays ?? 93;
    if (!(end > start)) throw new AutomationError('BACKTEST_RANGE', 'end must be after start (and start before now)');
    if (end - start > maxDays * 86_400_000) throw new AutomationError('BACKTEST_RANGE', `a backtest covers at most ${maxDays} days`);
    return runBacktest(this.hub, entry.rule, entry.owner, { start, end }, {
      ownerMay: (owner, deviceId) => this.ownerMay(owner, deviceId),
      rule: (ruleId) => this.entries.get(ruleId)?.rule,
    });
  }
}

export function createAutomationEngine(hub: Hub, opts: EngineOptions): AutomationEngine {
  return new AutomationEngine(hub, opts);
}
