/**
 * The composition root: builds every part of a running hub from a HubConfig and hands each part
 * what it needs. Nothing here is a module-level singleton; two hubs can run in one process (tests).
 */
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Sample } from '../energy/types.js';
import type { Command, IntegrationDefinition, ReportValue } from '../sdk/types.js';
import { createDb, migrateToLatest } from '../storage/db.js';
import { listenRegistryChanges, type RegistryListener } from '../storage/registry-notify.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../storage/embedded.js';
import { createEnergyService } from '../storage/energy-queries.js';
import type { Database } from '../storage/schema.js';
import { AuthService, type AuthOptions } from '../auth/service.js';
import { deviceCredentials } from '../auth/device-credentials.js';
import { callerCanSeeDevice } from '../auth/caller.js';
import { createNotificationService } from '../notifications/service.js';
import { createEventBus, type HubEventBus } from './bus.js';
import { systemClock, type HubClock } from './clock.js';
import { HubDeviceRegistry } from './device-registry.js';
import { HubEntityRegistry } from './entity-registry.js';
import { HubError } from './errors.js';
import { Ingest, type IngestOptions } from './ingest.js';
import { createLogger } from './logger.js';
import { PluginRunner } from './plugin-runner.js';
import { createScheduler, type HubScheduler } from './scheduler.js';
import { HubStateStore } from './state-store.js';
import type {
  AutomationService, EnergyService, Hub, HubConfig, IntegrationConfig, IntegrationInstanceStatus, QuarantinedReading,
} from './types.js';

export interface CreateHubOptions {
  /** The hub clock (default the system clock; tests pass a ManualClock). */
  clock?: HubClock;
  /** Root logger (default a pino logger at config.logLevel on stdout). */
  log?: Logger;
  /** Database to use; wins over config.databaseUrl. Neither set: the embedded PostgreSQL server. */
  databaseUrl?: string;
  /** Replaces package loading of integrations (tests hand definitions in directly). */
  loadIntegration?: (entry: IntegrationConfig) => Promise<IntegrationDefinition>;
  /** Recorder tuning for benchmarks and tests. */
  recorder?: IngestOptions['recorder'];
  /** How often changed states are written to the database, ms of hub-clock time (default 5 s). */
  statePersistMs?: number;
  /** Session lifetime and login rate limit (tests shorten them). */
  auth?: AuthOptions;
  /** Run the automation engine (@joulehub/automations) from start() (default true). */
  automations?: boolean;
  /** How long start() waits for an integration's first setup (real time, default 60 s; tests shorten it). */
  integrationStartWaitMs?: number;
}

/** The demo household: csv-replay on its bundled preset (`--demo`). */
export const DEMO_INSTANCE: IntegrationConfig = { id: 'csv-replay', name: 'demo', config: { preset: 'demo' } };

/** Name of the MQTT instance the hub adds from the `mqtt` section. */
export const MQTT_INSTANCE_NAME = 'mqtt';

/**
 * The instances to start: the configured ones, plus the demo household (`--demo`) and the default
 * MQTT instance from the `mqtt` section — unless one is configured, the section says enabled: false,
 * or there is neither a URL nor an embedded broker port (MQTT_PORT=0: MQTT off).
 */
export function instanceEntries(config: HubConfig): IntegrationConfig[] {
  const entries = [...config.integrations];
  if (config.demo && !entries.some((e) => (e.name ?? e.id) === DEMO_INSTANCE.name)) {
    entries.push(structuredClone(DEMO_INSTANCE));
  }
  const mqtt = config.mqtt;
  const off = !mqtt || mqtt.enabled === false || (!mqtt.url && mqtt.port === 0);
  if (!off && !entries.some((e) => e.id === 'mqtt' || (e.name ?? e.id) === MQTT_INSTANCE_NAME)) {
    const { enabled: _enabled, source, ...options } = mqtt;
    entries.push({ id: 'mqtt', name: MQTT_INSTANCE_NAME, config: structuredClone(options), ...(source ? { source } : {}) });
  }
  return entries;
}

/** The concrete hub: the Hub contract plus a few handles for the CLI, bench and tests. */
export interface JoulehubHub extends Hub {
  readonly scheduler: HubScheduler;
  readonly bus: HubEventBus;
  readonly devices: HubDeviceRegistry;
  readonly entities: HubEntityRegistry;
  readonly states: HubStateStore;
  /** Where the database came from. */
  readonly database: { kind: 'embedded' | 'external'; url: string };
  recorderStatus(): ReturnType<Ingest['recorderStatus']>;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export async function createHub(config: HubConfig, opts: CreateHubOptions = {}): Promise<JoulehubHub> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const clock = opts.clock ?? systemClock();

  const url = opts.databaseUrl ?? config.databaseUrl;
  let embedded: EmbeddedPostgres | undefined;
  if (url) {
    log.info({ database: redactUrl(url) }, 'using the PostgreSQL server from DATABASE_URL');
  } else {
    log.info({ dataDir: path.join(config.dataDir, 'postgres') }, 'no DATABASE_URL: starting the embedded PostgreSQL server');
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  }
  const dbUrl = url ?? embedded!.url;
  const db: Kysely<Database> = createDb(dbUrl, { log });
  try {
    await migrateToLatest(db, log);
    return await assemble(config, opts, { log, clock, db, embedded, dbUrl });
  } catch (err) {
    await db.destroy().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
}

async function assemble(
  config: HubConfig,
  opts: CreateHubOptions,
  parts: { log: Logger; clock: HubClock; db: Kysely<Database>; embedded?: EmbeddedPostgres; dbUrl: string },
): Promise<JoulehubHub> {
  const { log, clock, db, embedded } = parts;
  let runner: PluginRunner | undefined;
  const bus = createEventBus({ log, onListenerError: (owner, event, err) => runner?.onListenerError(owner, event, err) });
  const scheduler = createScheduler({ clock, log, timezone: config.tz });

  let entities: HubEntityRegistry | undefined;
  let states: HubStateStore | undefined;
  const devices = await HubDeviceRegistry.load({
    db, bus, log,
    onDeleted: (deviceId, entityIds) => {
      entities?.forgetDevice(deviceId);
      states?.forget(entityIds);
    },
  });
  entities = await HubEntityRegistry.load({ db, bus, log, devices });
  const entityRegistry = entities;
  states = await HubStateStore.load(db, log, (id) => entityRegistry.get(id));
  const stateStore = states;
  log.info({ devices: devices.list().length, entities: entities.list().length, states: states.all().length }, 'registries loaded');

  const ingest = new Ingest({
    db, log, clock, bus, devices, entities, states,
    spoolDir: path.join(config.dataDir, 'spool'),
    ...(opts.recorder ? { recorder: opts.recorder } : {}),
  });
  const energy: EnergyService = createEnergyService({ db, entities, devices, clock });
  const auth = new AuthService({ db, clock, log, devices }, opts.auth);
  const notifications = createNotificationService({ db, bus, clock, log });
  let automations: AutomationService | undefined;
  runner = new PluginRunner({
    log, clock, scheduler, bus, db, devices, entities,
    ingest,
    configDir: config.configDir,
    // Device logins to servers integrations run (the embedded MQTT broker's require_auth).
    credentials: deviceCredentials(auth),
    ...(opts.loadIntegration ? { load: opts.loadIntegration } : {}),
    ...(opts.integrationStartWaitMs ? { startWaitMs: opts.integrationStartWaitMs } : {}),
  });
  const plugins = runner;

  const housekeeping = scheduler.forOwner('hub');
  housekeeping.every(opts.statePersistMs ?? 5_000, () => stateStore.persist());
  housekeeping.every(3_600_000, async () => { await auth.sessions.prune(); });

  let started = false;
  let stopping: Promise<void> | undefined;
  let registryListener: RegistryListener | undefined;

  const hub: JoulehubHub = {
    config,
    log,
    clock,
    scheduler,
    db,
    bus,
    devices,
    entities: entityRegistry,
    states: stateStore,
    energy,
    auth,
    notifications,
    get automations() { return automations; },
    database: { kind: embedded ? 'embedded' : 'external', url: parts.dbUrl },

    report(entityId: string, value: ReportValue, at?: number | Date, reportOpts?: { unit?: string }) {
      ingest.report(entityId, value, at, reportOpts);
    },
    writeSamples(entityId: string, samples: Sample[]) {
      return ingest.writeSamples(entityId, samples);
    },
    flush() {
      return ingest.flush();
    },
    quarantine(filter?: { entityId?: string; limit?: number }): Promise<QuarantinedReading[]> {
      return ingest.quarantine(filter);
    },
    integrations(): IntegrationInstanceStatus[] {
      return plugins.list();
    },
    diagnostics(instanceId: string) {
      return plugins.diagnostics(instanceId);
    },
    recorderStatus() {
      return ingest.recorderStatus();
    },

    async sendCommand(command: Omit<Command, 'deviceId' | 'key'>) {
      const entity = entityRegistry.get(command.entityId);
      if (!entity) throw new HubError('ENTITY_NOT_FOUND', `no entity "${command.entityId}"`, { entityId: command.entityId });
      const full: Command = { ...command, deviceId: entity.deviceId, key: entity.key };
      bus.emit('command_requested', { command: full });
      await plugins.sendCommand(full);
    },

    async start() {
      if (started) return;
      started = true;
      // Devices and entities another process wrote (`joulehub import`) appear without a restart.
      registryListener = listenRegistryChanges({
        url: parts.dbUrl,
        log,
        async onChange(change) {
          if (typeof change.device === 'string') await devices.refresh(change.device);
          if (typeof change.entity === 'string') await entityRegistry.refresh(change.entity);
        },
        async onReconnected() {
          await devices.refresh();
          await entityRegistry.refresh();
        },
      });
      // Not worth holding the start for long (a pooler in transaction mode never LISTENs, say).
      await Promise.race([registryListener.ready, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      await plugins.start(instanceEntries(config));
      if (opts.automations !== false) {
        try {
          // Loaded by name like an integration: the engine builds on core, core does not import it statically.
          const { createAutomationEngine } = await import('@joulehub/automations');
          const engine = createAutomationEngine(hub, { canSeeDevice: callerCanSeeDevice });
          await engine.start();
          automations = engine;
        } catch (err) {
          log.error({ err }, 'the automation engine did not start; rules are not running');
        }
      }
      const list = plugins.list();
      log.info({ integrations: list.map((i) => `${i.instanceId}:${i.status}`) }, 'hub started');
    },

    stop() {
      stopping ??= (async () => {
        log.info('stopping the hub');
        await automations?.stop().catch((err: unknown) => log.error({ err }, 'stopping the automation engine failed'));
        await plugins.stop().catch((err: unknown) => log.error({ err }, 'stopping integrations failed'));
        housekeeping.stop();
        await registryListener?.close();
        await ingest.stop().catch((err: unknown) => log.error({ err }, 'stopping the recorder failed'));
        scheduler.stopAll();
        await db.destroy().catch((err: unknown) => log.warn({ err }, 'closing the database pool failed'));
        await embedded?.stop().catch((err: unknown) => log.error({ err }, 'stopping the embedded PostgreSQL failed'));
        log.info('hub stopped');
      })();
      return stopping;
    },
  };
  return hub;
}
