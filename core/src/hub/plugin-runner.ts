/**
 * Runs integration instances and keeps the hub alive whatever they do. Each instance gets one
 * context whose scheduler, bus listeners and AbortSignal are its own, so stopping it clears them.
 * Failures come in the Home Assistant kinds: NotReadyError → `not_ready`, retried with exponential
 * backoff on the hub clock (1 s … 5 min); ConfigError → `config_error`, reported, not retried; any
 * other throw — at setup, from a scheduled task, a bus listener or onCommand — → logged with the
 * instance id, `failed`, the instance stopped and retried with backoff. Other instances never notice.
 * start() waits for a first setup at most startWaitMs, so none can hold up the hub.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { ConfigError, JoulehubError, NotReadyError } from '../sdk/errors.js';
import type {
  Command, CredentialVerifier, IntegrationContext, IntegrationDefinition, IntegrationInstance, IntegrationStatus, ReportValue,
} from '../sdk/types.js';
import type { Database } from '../storage/schema.js';
import type { HubEventBus } from './bus.js';
import type { HubClock } from './clock.js';
import type { HubDeviceRegistry } from './device-registry.js';
import { entityId as toEntityId, type HubEntityRegistry } from './entity-registry.js';
import { HubError } from './errors.js';
import { createKvStore } from './kv-store.js';
import { redactBySchema } from './logger.js';
import { loadIntegration, validateInstanceConfig } from './plugin-loader.js';
import type { HubScheduler, OwnedScheduler } from './scheduler.js';
import type { IntegrationConfig, IntegrationInstanceStatus } from './types.js';

export const BACKOFF_MIN_MS = 1_000;
export const BACKOFF_MAX_MS = 5 * 60_000;

/** Delay before retry number `attempt` (1-based): 1 s, 2 s, 4 s … capped at 5 min. */
const DEFAULT_START_WAIT_MS = 60_000;

export function backoffDelay(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempt - 1));
}

/** What the runner needs from the ingest pipeline. */
export interface RunnerIngest {
  report(entityId: string, value: ReportValue, at?: number | Date): void;
  setAvailable(entityIds: string[], available: boolean, at?: number): void;
}

export interface PluginRunnerOptions {
  log: Logger;
  clock: HubClock;
  scheduler: HubScheduler;
  bus: HubEventBus;
  db: Kysely<Database>;
  devices: HubDeviceRegistry;
  entities: HubEntityRegistry;
  ingest: RunnerIngest;
  configDir: string;
  /** The hub's check of device logins, handed to integrations as ctx.credentials (auth/device-credentials.ts). */
  credentials?: CredentialVerifier;
  /** Replaces package loading (tests hand definitions in directly). */
  load?: (entry: IntegrationConfig) => Promise<IntegrationDefinition>;
  /**
   * How long start() waits for one instance's first setup (real time, default 60 s). A setup still
   * running then goes on in the background — the hub starts, the instance stays `starting` until
   * it finishes — so an integration waiting for a device that never answers cannot hold up the
   * hub, and a slow one (a large file to load) is not cut off.
   */
  startWaitMs?: number;
}

interface Run {
  gen: number;
  owner: string;
  abort: AbortController;
  scheduler: OwnedScheduler;
  startedAt: number;
  instance?: IntegrationInstance;
}

interface Slot {
  entry: IntegrationConfig;
  instanceId: string;
  status: IntegrationStatus;
  error?: string;
  attempts: number;
  gen: number;
  def?: IntegrationDefinition;
  config?: Record<string, unknown>;
  run?: Run;
  cancelRetry?: () => void;
  nextRetryAt?: number;
}

const ownerOf = (instanceId: string) => `integration:${instanceId}`;

/**
 * By class, or by name for an integration that bundles its own copy of the SDK (a second class
 * object with the same meaning).
 */
function isKind(err: unknown, cls: typeof NotReadyError | typeof ConfigError): boolean {
  return err instanceof cls || (err instanceof Error && err.name === cls.name && typeof (err as { code?: unknown }).code === 'string');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PluginRunner {
  private readonly slots = new Map<string, Slot>();
  private stopped = false;

  constructor(private readonly opts: PluginRunnerOptions) {}

  /** Starts every enabled entry; resolves when each has had its first attempt (whatever its outcome). */
  async start(entries: IntegrationConfig[]): Promise<void> {
    const fresh: Slot[] = [];
    for (const entry of entries) {
      if (entry.enabled === false) continue;
      const instanceId = entry.name ?? entry.id;
      if (this.slots.has(instanceId)) {
        this.opts.log.error({ instanceId }, 'two integration instances share a name; the second is not started');
        continue;
      }
      const slot: Slot = { entry, instanceId, status: 'starting', attempts: 0, gen: 0 };
      this.slots.set(instanceId, slot);
      this.opts.bus.emit('integration_status', { instanceId, status: 'starting' });
      fresh.push(slot);
    }
    await Promise.all(fresh.map((slot) => this.waitAtMost(slot, this.prepareAndRun(slot))));
  }

  private async waitAtMost(slot: Slot, first: Promise<void>): Promise<void> {
    const ms = this.opts.startWaitMs ?? DEFAULT_START_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      first.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), ms); }),
    ]);
    clearTimeout(timer);
    if (late) {
      this.opts.log.warn({ instanceId: slot.instanceId, integration: slot.entry.id, waitedMs: ms },
        `integration ${slot.instanceId} is still setting up after ${ms / 1000} s; the hub goes on without waiting for it`);
    }
  }

  list(): IntegrationInstanceStatus[] {
    return [...this.slots.values()].map((s) => {
      const st: IntegrationInstanceStatus = { instanceId: s.instanceId, integrationId: s.entry.id, status: s.status, attempts: s.attempts };
      if (s.error !== undefined) st.error = s.error;
      if (s.nextRetryAt !== undefined) st.nextRetryAt = new Date(s.nextRetryAt).toISOString();
      return st;
    });
  }

  /** Diagnostics of a running instance (empty when it offers none). */
  async diagnostics(instanceId: string): Promise<Record<string, unknown> | undefined> {
    const slot = this.slots.get(instanceId);
    const instance = slot?.run?.instance;
    if (!instance) return undefined;
    return (await instance.diagnostics?.()) ?? {};
  }

  /** Stops every instance and cancels pending retries. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.slots.values()].map(async (slot) => {
      slot.cancelRetry?.();
      slot.cancelRetry = undefined;
      slot.nextRetryAt = undefined;
      slot.gen++;
      await this.teardown(slot);
      this.setStatus(slot, 'stopped');
    }));
  }

  /** Routes a command to the instance owning the entity's device. */
  async sendCommand(command: Command): Promise<void> {
    const device = this.opts.devices.get(command.deviceId);
    const slot = device?.integration ? this.slots.get(device.integration) : undefined;
    const run = slot?.run;
    const instance = run?.instance;
    if (!slot) {
      throw new HubError('NOT_COMMANDABLE', `${command.entityId} belongs to no integration that accepts commands`, { entityId: command.entityId });
    }
    if (!run || !instance || slot.status !== 'running') {
      throw new HubError('COMMAND_FAILED', `integration ${slot.instanceId} is ${slot.status}${slot.error ? ` (${slot.error})` : ''}`, { entityId: command.entityId, instanceId: slot.instanceId });
    }
    if (!instance.onCommand) {
      throw new HubError('NOT_COMMANDABLE', `integration ${slot.instanceId} does not accept commands`, { entityId: command.entityId, instanceId: slot.instanceId });
    }
    try {
      await instance.onCommand(command);
    } catch (err) {
      // A coded error is the device's answer (unreachable, refused); anything else is a bug in the integration.
      const coded = err instanceof JoulehubError || isKind(err, NotReadyError) || isKind(err, ConfigError);
      if (!coded) this.fail(slot, run.gen, err, 'onCommand');
      throw new HubError('COMMAND_FAILED', `${command.command} on ${command.entityId} failed: ${message(err)}`, {
        entityId: command.entityId, instanceId: slot.instanceId, ...(coded ? { cause: (err as JoulehubError).code } : {}),
      });
    }
  }

  /** The bus tells us about a throwing listener; an instance's own listener fails that instance. */
  onListenerError(owner: string, event: string, err: unknown): void {
    for (const slot of this.slots.values()) {
      if (slot.run && slot.run.owner === owner) this.fail(slot, slot.run.gen, err, `listener ${event}`);
    }
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  private async prepareAndRun(slot: Slot): Promise<void> {
    try {
      slot.def = await (this.opts.load ?? ((e) => loadIntegration(e, { configDir: this.opts.configDir })))(slot.entry);
      slot.config = validateInstanceConfig(slot.def, slot.entry);
    } catch (err) {
      // A missing package, an SDK mismatch or invalid options: the user must act; retrying cannot help.
      slot.attempts++;
      this.opts.log.error({ instanceId: slot.instanceId, integration: slot.entry.id, err: { message: message(err) } }, 'integration not started');
      this.setStatus(slot, 'config_error', message(err));
      return;
    }
    await this.runOnce(slot);
  }

  private async runOnce(slot: Slot): Promise<void> {
    if (this.stopped) return;
    slot.cancelRetry = undefined;
    slot.nextRetryAt = undefined;
    const gen = ++slot.gen;
    const owner = ownerOf(slot.instanceId);
    const abort = new AbortController();
    const scheduler = this.opts.scheduler.forOwner(owner, {
      onError: (err, task) => this.fail(slot, gen, err, task),
    });
    const run: Run = { gen, owner, abort, scheduler, startedAt: this.opts.clock.now() };
    slot.run = run;
    this.setStatus(slot, 'starting');
    const log = this.opts.log.child({ integration: slot.entry.id, instanceId: slot.instanceId });
    log.debug({ config: redactBySchema(slot.config, slot.def!.configSchema), attempt: slot.attempts + 1 }, 'integration setup');
    try {
      const instance = await slot.def!.setup(this.context(slot, run, log), structuredClone(slot.config!));
      if (slot.gen !== gen) {
        // Stopped (or failed from a task) while setup ran: undo what setup started.
        await this.stopInstance(slot, instance);
        return;
      }
      run.instance = instance;
      this.setStatus(slot, 'running');
      log.info({ attempt: slot.attempts + 1 }, 'integration running');
    } catch (err) {
      if (slot.gen !== gen) return;
      slot.gen++;
      await this.teardown(slot);
      this.afterFailure(slot, err, 'setup', log, run.startedAt);
    }
  }

  /** A running instance threw (task, listener, onCommand): stop it and retry with backoff. */
  private fail(slot: Slot, gen: number, err: unknown, where: string): void {
    if (slot.gen !== gen || this.stopped) return;
    slot.gen++;
    const startedAt = slot.run?.startedAt ?? this.opts.clock.now();
    const log = this.opts.log.child({ integration: slot.entry.id, instanceId: slot.instanceId });
    void this.teardown(slot).then(() => this.afterFailure(slot, err, where, log, startedAt));
  }

  private afterFailure(slot: Slot, err: unknown, where: string, log: Logger, startedAt: number): void {
    if (this.stopped) return;
    // An instance that ran well for a while starts its backoff from the beginning again.
    if (this.opts.clock.now() - startedAt >= BACKOFF_MAX_MS) slot.attempts = 0;
    slot.attempts++;
    this.markUnavailable(slot);
    if (isKind(err, ConfigError)) {
      log.error({ err, code: (err as ConfigError).code, where }, 'integration needs configuration; not retrying');
      this.setStatus(slot, 'config_error', message(err));
      return;
    }
    const delay = backoffDelay(slot.attempts);
    if (isKind(err, NotReadyError)) {
      const e = err as NotReadyError;
      log.warn({ code: e.code, details: e.details, where, attempt: slot.attempts, retryInMs: delay }, `integration not ready: ${e.message}`);
      this.setStatus(slot, 'not_ready', message(err));
    } else {
      log.error({ err, where, attempt: slot.attempts, retryInMs: delay }, 'integration failed; stopped and retrying');
      this.setStatus(slot, 'failed', message(err));
    }
    slot.nextRetryAt = this.opts.clock.now() + delay;
    slot.cancelRetry = this.opts.clock.setTimer(slot.nextRetryAt, () => this.runOnce(slot));
  }

  /** Clears everything the current run registered: signal, tasks, listeners, then instance.stop(). */
  private async teardown(slot: Slot): Promise<void> {
    const run = slot.run;
    if (!run) return;
    slot.run = undefined;
    run.abort.abort(new NotReadyError('INTEGRATION_STOPPED', `integration ${slot.instanceId} stopped`));
    run.scheduler.stop();
    this.opts.bus.offOwner(run.owner);
    if (run.instance) await this.stopInstance(slot, run.instance);
  }

  private async stopInstance(slot: Slot, instance: IntegrationInstance): Promise<void> {
    try {
      await instance.stop();
    } catch (err) {
      this.opts.log.warn({ err, instanceId: slot.instanceId }, 'integration stop() threw');
    }
  }

  private markUnavailable(slot: Slot): void {
    const ids = this.opts.devices.ownedBy(slot.instanceId)
      .flatMap((d) => this.opts.entities.list({ deviceId: d.id }).map((e) => e.id));
    if (ids.length) this.opts.ingest.setAvailable(ids, false);
  }

  private setStatus(slot: Slot, status: IntegrationStatus, error?: string): void {
    const changed = slot.status !== status || slot.error !== error;
    slot.status = status;
    if (status === 'running' || status === 'starting') slot.error = undefined;
    else slot.error = error;
    if (changed) {
      this.opts.bus.emit('integration_status', { instanceId: slot.instanceId, status, ...(slot.error ? { error: slot.error } : {}) });
    }
  }

  // --- the context handed to setup -------------------------------------------------------------------

  private context(slot: Slot, run: Run, log: Logger): IntegrationContext {
    const { clock, devices, entities, ingest, bus } = this.opts;
    const live = () => slot.gen === run.gen;
    return {
      instanceId: slot.instanceId,
      log,
      clock: {
        now: () => clock.now(),
        // Sleeps end when the instance stops, so a retry loop inside an integration cannot outlive it.
        sleep: (ms, signal) => clock.sleep(ms, signal ? AbortSignal.any([signal, run.abort.signal]) : run.abort.signal),
      },
      scheduler: run.scheduler,
      bus: {
        on: (_owner, event, fn) => (live() ? bus.on(run.owner, event, fn) : () => undefined),
      },
      kv: createKvStore(this.opts.db, slot.instanceId),
      signal: run.abort.signal,
      configDir: this.opts.configDir,
      ...(this.opts.credentials ? { credentials: this.opts.credentials } : {}),
      devices: {
        upsert: async (info) => {
          await devices.upsert(info, slot.instanceId);
        },
      },
      entities: {
        register: async (deviceId, info) => {
          await entities.register(deviceId, info);
        },
      },
      report: (deviceId, key, value, at) => {
        if (!live()) {
          log.debug({ deviceId, key }, 'report from a stopped instance dropped');
          return;
        }
        ingest.report(toEntityId(deviceId, key), value, at);
      },
      setAvailable: (deviceId, available, key) => {
        if (!live()) return;
        const ids = key !== undefined
          ? [toEntityId(deviceId, key)].filter((id) => entities.get(id))
          : entities.list({ deviceId }).map((e) => e.id);
        if (ids.length) ingest.setAvailable(ids, available);
      },
    };
  }
}
