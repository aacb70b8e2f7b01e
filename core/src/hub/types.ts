/**
 * What the rest of core (API, CLI, bench) sees of a running hub. Built by createHub() in hub.ts,
 * the composition root; nothing here is a module-level singleton.
 */
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';
import type {
  Clock, Command, DeviceInfo, EntityInfo, EntityKind, EventBus, IntegrationStatus, ReportValue, Scheduler,
} from '../sdk/types.js';
import type { Sample } from '../energy/types.js';
import type { AuthService } from '../auth/service.js';
import type { OidcSettings } from '../auth/oidc.js';
import type { Caller } from '../auth/caller.js';
import type { NotificationService } from '../notifications/service.js';

export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Unset = embedded PostgreSQL in `<dataDir>/postgres`. */
  databaseUrl?: string;
  tz: string;
  logLevel: string;
  /** Absolute path of joulehub.yaml, when one was read. */
  configFile?: string;
  configDir: string;
  integrations: IntegrationConfig[];
  /** Start the csv-replay demo household (`--demo`). */
  demo: boolean;
  /** Automation rules as written in joulehub.yaml; read by the automation engine. */
  automations?: Record<string, unknown>[];
  /** Where each of `automations` was written (same order): file, line, path and lines below it. */
  automationSources?: { file: string; line: number; path: string; lines: Record<string, number> }[];
  /**
   * The `mqtt` section (MQTT_URL / MQTT_PORT applied): the hub starts the mqtt integration with these
   * options unless `integrations` has an mqtt instance or `enabled` is false. Unset (as in tests that
   * build a HubConfig by hand): no default MQTT instance.
   */
  mqtt?: MqttSection;
  /** The `http` section: origins allowed to call the API from a browser (CORS). */
  http?: {
    corsOrigins?: string[];
    /** Absolute paths of the PEM certificate and key (`http.tls_cert`/`http.tls_key`, JOULEHUB_TLS_CERT/KEY): serve HTTPS. */
    tlsCert?: string;
    tlsKey?: string;
    /** `http.trust_proxy`: believe X-Forwarded-* from these proxies (true: any). */
    trustProxy?: boolean | string[];
  };
  /** OpenID Connect login (`auth.oidc`). */
  oidc?: OidcSettings;
  /** Absolute folder of third-party card modules (`dashboard.cards_dir`), served at /cards/. */
  cardsDir?: string;
}

export interface MqttSection {
  enabled?: boolean;
  url?: string;
  port?: number;
  /** Where the section sits in the config file, for the integration's own validation errors. */
  source?: IntegrationConfig['source'];
  [option: string]: unknown;
}

export interface IntegrationConfig {
  /** Integration id (the package `@joulehub/integration-<id>` or a path). */
  id: string;
  /** Instance name, unique; defaults to the id. */
  name?: string;
  enabled?: boolean;
  /** Optional package name or path to load instead of the default for `id`. */
  package?: string;
  config?: Record<string, unknown>;
  /**
   * Where the entry sits in the config file, for error messages. `lines` maps paths below the entry
   * (`config`, `config.speed`, `config.meters[0]`) to their line so errors in the instance's own
   * config can name the user's line.
   */
  source?: { file: string; line: number; path: string; lines?: Record<string, number> };
}

export interface Device extends DeviceInfo {
  integration: string | null;
  ownerId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Entity extends Required<Pick<EntityInfo, 'key' | 'kind'>> {
  id: string;
  deviceId: string;
  name: string | null;
  role: string | null;
  sourceUnit: string | null;
  reportsOnChange: boolean;
  maxGapSeconds: number | null;
  flow: 'in' | 'out';
}

export interface EntityState {
  entityId: string;
  deviceId: string;
  kind: EntityKind;
  /** Canonical value (W, kWh, V …); for switches 1/0; null when unknown. */
  value: number | null;
  /** 'on'/'off' for switches, otherwise null. */
  text: string | null;
  available: boolean;
  lastChanged: string;
  lastReported: string;
}

export interface DeviceRegistry {
  list(): Device[];
  get(id: string): Device | undefined;
  /** Creates or updates; `integration` null for API-created devices. */
  upsert(info: DeviceInfo & { ownerId?: string | null }, integration: string | null): Promise<Device>;
  update(id: string, patch: Partial<Omit<DeviceInfo, 'id'>> & { ownerId?: string | null }): Promise<Device | undefined>;
  /** Removes the device, its entities, samples and ledger rows. */
  delete(id: string): Promise<boolean>;
}

export interface EntityRegistry {
  list(filter?: { deviceId?: string }): Entity[];
  get(id: string): Entity | undefined;
  register(deviceId: string, info: EntityInfo): Promise<Entity>;
}

export interface StateStore {
  get(entityId: string): EntityState | undefined;
  all(): EntityState[];
}

export interface QuarantinedReading { entityId: string; time: string; value: number | null; raw: string | null; reason: string; receivedAt: string }

export type EnergyInterval = '15m' | 'hour' | 'day' | 'month';

export interface EnergyQuery {
  /** A device (its primary energy entity per direction) or a single entity. */
  deviceId?: string;
  entityId?: string;
  start: Date;
  end: Date;
  interval: EnergyInterval;
  tz: string;
}

export interface EnergyRow { datetime: string; value: number }
export interface FleetRow { datetime: string; sum: number; avg: number; devices: number }
export interface TopRow { device: string; kwh: number }

export interface EnergyService {
  energy(q: EnergyQuery): Promise<EnergyRow[]>;
  fleet(q: Omit<EnergyQuery, 'deviceId' | 'entityId'> & { deviceIds?: string[] }): Promise<FleetRow[]>;
  top(q: { start: Date; end: Date; count: number; deviceIds?: string[] }): Promise<TopRow[]>;
}

export interface IntegrationInstanceStatus {
  instanceId: string;
  integrationId: string;
  status: IntegrationStatus;
  error?: string;
  attempts: number;
  /** When the next retry runs (not_ready / failed), ISO 8601. */
  nextRetryAt?: string;
}

export interface Hub {
  readonly config: HubConfig;
  readonly log: Logger;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly db: Kysely<Database>;
  readonly bus: EventBus;
  readonly devices: DeviceRegistry;
  readonly entities: EntityRegistry;
  readonly states: StateStore;
  readonly energy: EnergyService;
  /** Accounts, sessions, API tokens, invites and the audit log (issue 4). */
  readonly auth: AuthService;
  /** In-app notifications (stored, pushed over the WebSocket, optional webhook). */
  readonly notifications: NotificationService;
  /** The automation engine, once start() has started it (undefined before, or when disabled). */
  readonly automations?: AutomationService;
  /** The ingest pipeline every reading goes through (integrations call it via ctx.report). */
  report(entityId: string, value: ReportValue, at?: number | Date, opts?: { unit?: string }): void;
  /**
   * Stores a validated batch of canonical samples for one entity at once (API batch readings,
   * imports): plausibility guard, bulk write, ledger recompute. Resolves when durable.
   */
  writeSamples(entityId: string, samples: Sample[]): Promise<{ stored: number; quarantined: number }>;
  /** Waits until every reading reported so far is in the database and the ledger. */
  flush(): Promise<void>;
  quarantine(filter?: { entityId?: string; limit?: number }): Promise<QuarantinedReading[]>;
  integrations(): IntegrationInstanceStatus[];
  /** What a running integration instance reports about itself (counters, errors); undefined when it is not running. */
  diagnostics(instanceId: string): Promise<Record<string, unknown> | undefined>;
  sendCommand(command: Omit<Command, 'deviceId' | 'key'>): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A rule as the API shows it: its JSON (as in YAML) plus where it came from and its state. */
export interface AutomationView {
  id: string;
  owner_id: string | null;
  /** 'config': joulehub.yaml or automations/*.yaml (read-only through the API); 'api': stored. */
  source: 'config' | 'api';
  file?: string;
  line?: number;
  /** Set while the rate limit keeps the rule paused. */
  paused: { reason: string; at: string } | null;
  definition: Record<string, unknown>;
}

export interface AutomationRunView {
  id: string;
  rule_id: string;
  started_at: string;
  finished_at: string | null;
  trigger: unknown;
  conditions: unknown;
  actions: unknown;
  result: string;
  explanation: string | null;
  error: string | null;
}

export interface BacktestFiring { time: string; explanation: string; actions: string[] }
export interface BacktestResult { firings: BacktestFiring[]; saved_kwh: number }

/**
 * The automation engine as the API reaches it. Failures throw an error with `name`
 * 'AutomationError', a `code` (RULE_INVALID, RULE_NOT_FOUND, RULE_EXISTS, RULE_READ_ONLY,
 * RULE_FORBIDDEN, BACKTEST_RANGE) and, for RULE_INVALID, `problems` ({ path, message }).
 */
export interface AutomationService {
  list(caller: Caller): AutomationView[];
  /** undefined when missing or not visible to the caller. */
  get(id: string, caller: Caller): AutomationView | undefined;
  create(definition: Record<string, unknown>, caller: Caller): Promise<AutomationView>;
  /** Replaces the rule's JSON with `definition` merged over it (top-level keys; null removes one). */
  update(id: string, patch: Record<string, unknown>, caller: Caller): Promise<AutomationView>;
  remove(id: string, caller: Caller): Promise<void>;
  backtest(id: string, range: { start: Date; end: Date }, caller: Caller): Promise<BacktestResult>;
  runs(id: string, caller: Caller, opts?: { limit?: number }): Promise<AutomationRunView[]>;
  /** Fires the rule's webhook triggers. */
  webhook(id: string, caller: Caller, payload?: unknown): Promise<void>;
  stop(): Promise<void>;
}

export type { Device as HubDevice };
export type { Entity as HubEntity };
export type { DeviceInfo, EntityInfo, EventBus, Command };
