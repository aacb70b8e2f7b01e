/**
 * What a rule runner needs from the world. The live engine builds it over the hub; a backtest
 * builds it over recorded history on a ManualClock with dry-run actions — the same runner code
 * drives both, so live runs and replays fire alike.
 */
import type { Clock, HubDevice, HubEntity, HubEvents, Scheduler } from '@joulehub/core';
import type { Level } from './rule.js';

export interface EntityStateView { value: number | string | null; available: boolean }

export interface ActionOutcome { ok: boolean; attempts?: number; detail?: string; error?: string }

export interface NotifyRequest {
  owner: string | null;
  ruleId: string;
  deviceId?: string;
  level: Level;
  title: string;
  message: string;
  webhook?: string;
}

/** One firing's record: what triggered it, the conditions evaluated, the actions and outcomes. */
export interface RunRecord {
  ruleId: string;
  owner: string | null;
  startedAt: number;
  finishedAt: number | null;
  /** When the trigger happened (for energy triggers the end of the 15-minute bucket that crossed the limit). */
  trigger: { type: string; time: number; explanation: string; key?: string };
  conditions: { condition: string; result: boolean }[];
  actions: { action: string; ok: boolean; attempts?: number; detail?: string; error?: string }[];
  result: 'done' | 'failed' | 'skipped' | 'paused' | 'cancelled';
  explanation: string;
  error: string | null;
  /** Switch-offs (and ons) this run made, for the backtest's saved energy. */
  switches: { deviceId: string; on: boolean; at: number; until?: number }[];
}

export interface Env {
  readonly dryRun: boolean;
  readonly clock: Clock;
  readonly scheduler: Scheduler & { stop(): void };
  readonly tz: string;
  on<E extends 'state_changed' | 'availability_changed' | 'readings_recorded'>(event: E, fn: (p: HubEvents[E]) => void): () => void;
  offAll(): void;
  state(entityId: string): EntityStateView | undefined;
  device(id: string): HubDevice | undefined;
  devices(): HubDevice[];
  entity(id: string): HubEntity | undefined;
  entities(deviceId: string): HubEntity[];
  /** kWh per 15-minute bucket of the device in [start, end), as known now. */
  energy15m(deviceId: string, start: number, end: number): Promise<{ start: number; kwh: number }[]>;
  /** Sends (live, with retries) or records (dry run) a command. */
  command(
    entityId: string, command: 'turn_on' | 'turn_off' | 'toggle' | 'set_level', params: Record<string, unknown> | undefined,
    /** Waits between retries, on the rule's clock. */
    pause: (ms: number) => Promise<void>,
  ): Promise<ActionOutcome>;
  notify(n: NotifyRequest): Promise<ActionOutcome>;
  record(run: RunRecord): Promise<void>;
  /** Tells the owner a rule was paused (rate limit) and keeps it paused. */
  paused(ruleId: string, reason: string): Promise<void>;
  /** Runs another rule's actions (the `run` action). */
  runRule(ruleId: string, owner: string | null, depth: number, signal: AbortSignal): Promise<ActionOutcome>;
  /** Whether the rule's owner may see and control the device. */
  ownerMay(owner: { id: string | null; role: string | null }, deviceId: string): boolean;
  /** A background check failed (logged; the rule keeps running). */
  failed(err: unknown, what: string): void;
}
