/**
 * The plugin contract. Integrations import this module (`@joulehub/core/sdk`) and nothing else
 * from the hub. Adding a field to a context object breaks nobody; removing one is a major change.
 */
import type { Logger } from 'pino';

/** How an entity's value is interpreted; fixes the canonical unit and the energy rule. */
export type EntityKind =
  | 'power' // W, zero-order hold
  | 'energy_total' // kWh, cumulative counter
  | 'energy_interval' // kWh, energy of the period starting at the reading
  | 'voltage' // V
  | 'current' // A
  | 'frequency' // Hz
  | 'power_factor' // dimensionless
  | 'switch'; // on/off

export const ENTITY_KINDS: readonly EntityKind[] = [
  'power', 'energy_total', 'energy_interval', 'voltage', 'current', 'frequency', 'power_factor', 'switch',
];

/** Sign convention: positive power flows into the home from that role (grid import, PV production, battery discharge). */
export type EntityRole = 'grid' | 'pv' | 'battery' | 'load' | 'ev' | 'heat_pump' | 'other';

/** Units an integration may report in; converted to the kind's canonical unit at the edge. */
export type InputUnit =
  | 'W' | 'kW' | 'MW'
  | 'Wh' | 'kWh' | 'MWh' | 'Wmin' // Shelly Gen1 reports watt-minutes
  | 'V' | 'A' | 'mA' | 'Hz' | '%' | '';

export type IotClass = 'local_push' | 'local_polling' | 'file' | 'cloud_polling';

export interface IntegrationManifest {
  /** Stable id, kebab-case; also the config key (`integrations: [{ id: csv-replay, … }]`). */
  id: string;
  name: string;
  version: string;
  /** Semver range of the SDK this integration targets; the loader refuses a mismatch. */
  sdk: string;
  iotClass: IotClass;
  docs?: string;
}

export interface DeviceInfo {
  /** Stable id derived from a serial, MAC or config key — never from a display name. [a-z0-9_-]+ */
  id: string;
  name: string;
  manufacturer?: string;
  model?: string;
  description?: string;
  address?: string;
  /** Maximum hourly consumption in kWh (over-consumption rules). */
  maxHourlyKwh?: number;
  /** Maximum plausible power in W (plausibility guard; default 60 kW). */
  maxPowerW?: number;
}

export interface EntityInfo {
  /** Key unique within the device, snake_case; the entity id is `<device_id>.<key>`. */
  key: string;
  kind: EntityKind;
  name?: string;
  role?: EntityRole;
  /** Unit the integration reports in; defaults to the kind's canonical unit. */
  unit?: InputUnit;
  /** The device reports only on change: hold the latest power until now. */
  reportsOnChange?: boolean;
  /** Readings further apart than this are not bridged (power, energy_interval). */
  maxGapSeconds?: number;
  /** 'in' (consumption/import, default) or 'out' (export/production) for device energy totals. */
  flow?: 'in' | 'out';
}

/** A value as reported: numbers for measurements, booleans or 'on'/'off' for switches, null = unknown. */
export type ReportValue = number | boolean | 'on' | 'off' | null;

export type CommandName = 'turn_on' | 'turn_off' | 'toggle' | 'set_level';

export interface Command {
  entityId: string;
  /** Entity key within the device. */
  key: string;
  deviceId: string;
  command: CommandName;
  params?: Record<string, unknown>;
}

export interface Clock {
  /** Milliseconds since the Unix epoch, on the hub clock (tests can drive it). */
  now(): number;
  /** Resolves after `ms` of hub-clock time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface ScheduledTask { stop(): void }

export interface Scheduler {
  /** Runs `fn` every `ms` on the hub clock. */
  every(ms: number, fn: () => void | Promise<void>): ScheduledTask;
  /** Runs `fn` on a cron pattern (croner syntax) in a time zone (default the hub's). */
  cron(pattern: string, fn: () => void | Promise<void>, opts?: { timezone?: string }): ScheduledTask;
  /** Runs `fn` once after `ms`. */
  after(ms: number, fn: () => void | Promise<void>): ScheduledTask;
}

/** Typed, past-tense facts. */
export interface HubEvents {
  state_changed: { entityId: string; deviceId: string; kind: EntityKind; value: number | string | null; previous: number | string | null; at: number; available: boolean };
  availability_changed: { entityId: string; deviceId: string; available: boolean; at: number };
  device_registered: { deviceId: string };
  entity_registered: { entityId: string; deviceId: string; kind: EntityKind };
  reading_quarantined: { entityId: string; value: number | null; at: number; reason: string };
  readings_recorded: { entityIds: string[]; from: number; to: number; count: number };
  integration_status: { instanceId: string; status: IntegrationStatus; error?: string };
  command_requested: { command: Command };
  /**
   * A frame for particular users' WebSocket connections (messages, typing, read receipts,
   * notifications). Hub-internal: integrations cannot emit it. `users: 'admins'` = every admin.
   * The frame goes out as-is on every open connection of those users.
   */
  user_frame: { users: readonly string[] | 'admins'; frame: { type: string; [field: string]: unknown } };
}

export type HubEventName = keyof HubEvents;

export interface EventBus {
  /** Registers a listener owned by `owner`; `offOwner(owner)` removes all of them. Returns an unsubscribe. */
  on<E extends HubEventName>(owner: string, event: E, fn: (payload: HubEvents[E]) => void): () => void;
  emit<E extends HubEventName>(event: E, payload: HubEvents[E]): void;
  offOwner(owner: string): void;
}

export interface KeyValueStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

export type IntegrationStatus = 'starting' | 'running' | 'not_ready' | 'config_error' | 'failed' | 'stopped';

/** Everything a running integration instance may use. Handed to `setup`. */
export interface IntegrationContext {
  /** The instance id (config `name`, default the integration id). */
  instanceId: string;
  log: Logger;
  clock: Clock;
  scheduler: Scheduler; // tasks cleared at stop
  bus: Pick<EventBus, 'on'>; // listeners removed at stop
  kv: KeyValueStore;
  signal: AbortSignal; // fired at stop
  /** Directory for files the user configured relative paths against (the hub's config dir). */
  configDir: string;
  devices: { upsert(device: DeviceInfo): Promise<void> };
  entities: { register(deviceId: string, entity: EntityInfo): Promise<void> };
  /**
   * Reports a reading of `<deviceId>.<key>`. `at` defaults to the hub clock's now. Units are converted,
   * the plausibility guard applied, the state updated and the reading recorded. Cheap; never throws for
   * bad values (they are quarantined), throws only for an entity that was never registered.
   */
  report(deviceId: string, key: string, value: ReportValue, at?: number | Date): void;
  /** Marks a device (or one entity of it) available or unavailable. */
  setAvailable(deviceId: string, available: boolean, key?: string): void;
  /**
   * Checks a login that a device presents to a server the integration runs itself (the embedded MQTT
   * broker) against the hub's accounts and API tokens. Absent when the hub has no accounts.
   */
  credentials?: CredentialVerifier;
}

/** Who a device login belongs to, as the hub checked it. */
export interface VerifiedCredentials {
  userId: string;
  role: 'admin' | 'user';
  /** What the login may do: a token's scopes, or every scope of the account's role for a password. */
  scopes: readonly ('read' | 'write' | 'ingest' | 'admin')[];
  via: 'password' | 'token';
  /** Set when the token is limited to these devices. */
  deviceIds?: readonly string[];
}

/**
 * The hub's check of device logins: username = an account's email and its password, or username
 * `token` and an API token as the password. Resolves undefined for anything else (rate limited
 * per username and address like the web login, so guessing is slow).
 */
export interface CredentialVerifier {
  verify(username: string, password: string, meta?: { ip?: string | null }): Promise<VerifiedCredentials | undefined>;
  /**
   * Whether a verified login may see a device, by the hub's ownership rule (admins every device, a
   * user their own, a device-limited token only its devices): 'unknown' = no such device yet (still
   * 'denied' when a device-limited token does not list it). Absent: the hub cannot tell.
   */
  deviceAccess?(who: VerifiedCredentials, deviceId: string): DeviceAccess;
}

export type DeviceAccess = 'allowed' | 'denied' | 'unknown';

export interface IntegrationInstance {
  stop(): void | Promise<void>;
  onCommand?(command: Command): void | Promise<void>;
  diagnostics?(): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export interface JsonSchemaObject {
  type: 'object';
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: boolean | Record<string, unknown>;
  [k: string]: unknown;
}

export interface IntegrationDefinition<C = Record<string, unknown>> {
  manifest: IntegrationManifest;
  /** JSON Schema of one instance's options; every field has title, description, default/examples; `x-secret` fields are redacted. */
  configSchema: JsonSchemaObject;
  setup(ctx: IntegrationContext, config: C): Promise<IntegrationInstance>;
}
