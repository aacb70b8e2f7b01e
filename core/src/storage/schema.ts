/**
 * Table types for Kysely. The migrations in ./migrations are the source of truth; keep these in step.
 * Times are timestamptz (Date in JS). Energy is kWh, power W.
 */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface DevicesTable {
  id: string;
  name: string;
  description: string | null;
  address: string | null;
  manufacturer: string | null;
  model: string | null;
  /** Integration instance that owns the device (null for devices created through the API). */
  integration: string | null;
  owner_id: string | null;
  max_hourly_kwh: number | null;
  max_power_w: number | null;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface EntitiesTable {
  /** `<device_id>.<key>` */
  id: string;
  device_id: string;
  key: string;
  kind: string;
  name: string | null;
  role: string | null;
  /** Unit the source reports in (informational; stored values are canonical). */
  source_unit: string | null;
  reports_on_change: Generated<boolean>;
  max_gap_s: number | null;
  flow: Generated<string>; // 'in' | 'out'
  created_at: Generated<Timestamp>;
}

/** Raw readings in canonical units; value null marks the entity unavailable from `time` on. */
export interface SamplesTable {
  entity_id: string;
  time: Timestamp;
  value: number | null;
}

/** Readings the plausibility guard refused, with the reason. */
export interface QuarantineTable {
  id: Generated<number>;
  entity_id: string;
  time: Timestamp;
  value: number | null;
  raw: string | null;
  reason: string;
  received_at: Generated<Timestamp>;
}

/** Exact energy per UTC-aligned 15-minute bucket (labelled by start), derived from samples. */
export interface Energy15mTable {
  entity_id: string;
  bucket: Timestamp;
  kwh: number;
  /** 'counter' | 'integrated' | 'interval' */
  source: string;
}

/** UTC hourly sums of energy_15m (labelled by hour start), maintained by the ledger. */
export interface Energy1hTable {
  entity_id: string;
  bucket: Timestamp;
  kwh: number;
}

/** Latest state per entity (survives restarts). */
export interface StatesTable {
  entity_id: string;
  value: number | null;
  text: string | null;
  available: boolean;
  last_changed: Timestamp;
  last_reported: Timestamp;
}

export interface KvTable {
  scope: string;
  key: string;
  value: unknown;
  updated_at: Generated<Timestamp>;
}

/** Per-user dashboards (user_id null = the install's own); layout is the cards document. */
export interface DashboardsTable {
  id: string;
  user_id: string | null;
  title: string;
  position: Generated<number>;
  layout: ColumnType<unknown, string, string>;
  version: Generated<number>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Automation rules made through the API (migration 0007_automations); `definition` is the rule JSON. */
export interface AutomationsTable {
  id: string;
  owner_id: string | null;
  owner_role: string | null;
  definition: unknown;
  paused_reason: string | null;
  paused_at: Timestamp | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** One live run of a rule: what triggered it, the conditions evaluated, each action's outcome. */
export interface AutomationRunsTable {
  id: Generated<string>;
  rule_id: string;
  owner_id: string | null;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  trigger: unknown;
  conditions: unknown;
  actions: unknown;
  result: string;
  explanation: string | null;
  error: string | null;
}

/** In-app notifications; user_id null = for every admin. */
export interface NotificationsTable {
  id: Generated<string>;
  user_id: string | null;
  device_id: string | null;
  rule_id: string | null;
  level: string;
  title: string;
  message: string;
  created_at: Timestamp;
  read_at: Timestamp | null;
}

/** Accounts (migration 0005_auth). Email is unique case-insensitively. */
export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  role: string; // 'admin' | 'user'
  password_hash: string | null;
  /** BCP 47 tag for numbers and dates; null = the browser's (0009). */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
  /** IANA zone for times and calendar days; null = the browser's (0009). */
  time_zone: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Login sessions; only a SHA-256 of the cookie's secret is stored. */
export interface SessionsTable {
  id: string;
  secret_hash: string;
  user_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  last_seen_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

/** API tokens; only a SHA-256 of the token is stored. */
export interface ApiTokensTable {
  id: string;
  secret_hash: string;
  user_id: string;
  name: string;
  scopes: string[];
  device_ids: string[] | null;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface InvitesTable {
  id: string;
  secret_hash: string;
  email: string | null;
  role: string;
  created_by: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  used_by: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  detail: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface SettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: Generated<Timestamp>;
}

/** Messages between a user and the admins (one conversation per user, named by the user's id). */
export interface MessagesTable {
  /** int8 identity (the driver returns it as a string). */
  id: ColumnType<string, never, never>;
  conversation_id: string;
  author_id: string | null;
  /** true: written by the conversation's user to the admins; false: by an admin to the user. */
  to_admins: boolean;
  body: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  read_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  read_by: string | null;
}

export interface Database {
  devices: DevicesTable;
  entities: EntitiesTable;
  samples: SamplesTable;
  quarantine: QuarantineTable;
  energy_15m: Energy15mTable;
  energy_1h: Energy1hTable;
  states: StatesTable;
  kv: KvTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  invites: InvitesTable;
  audit_log: AuditLogTable;
  settings: SettingsTable;
  automations: AutomationsTable;
  automation_runs: AutomationRunsTable;
  notifications: NotificationsTable;
  dashboards: DashboardsTable;
  messages: MessagesTable;
}
