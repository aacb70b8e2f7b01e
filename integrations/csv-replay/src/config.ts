/**
 * From the options a user wrote (or a preset) to a resolved replay configuration. ajv has usually
 * checked the shapes already; this checks what a schema cannot (units per kind, devices that no
 * column uses, speed 0 with loop) and also stands alone when setup is called directly. Every
 * failure is a ConfigError whose `details.path` names the option.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, ENTITY_KINDS, type DeviceInfo, type EntityInfo, type EntityKind, type EntityRole, type InputUnit } from '@joulehub/core/sdk';
import { DEFAULTS, ROLES } from './schema.js';
import { PRESETS } from './presets.js';

export interface RawColumn {
  column: string;
  device: string;
  key: string;
  kind: string;
  unit?: string;
  role?: string | null;
  name?: string;
  reports_on_change?: boolean;
  flow?: 'in' | 'out';
}

export interface RawDevice {
  name?: string;
  description?: string;
  address?: string;
  manufacturer?: string;
  model?: string;
  max_hourly_kwh?: number | null;
  max_power_w?: number | null;
}

/** The options as written in joulehub.yaml (snake_case). */
export interface RawReplayConfig {
  preset?: string;
  file?: string;
  time_column?: string;
  delimiter?: string;
  columns?: RawColumn[];
  devices?: Record<string, RawDevice>;
  speed?: number;
  loop?: boolean;
  align?: 'now' | 'file';
  backfill?: string;
}

export interface ReplayColumn {
  /** CSV header of the column. */
  column: string;
  deviceId: string;
  entity: EntityInfo;
  /** Where the mapping sits in the options, for error messages (`columns[3]`). */
  path: string;
}

export interface ReplayConfig {
  /** Absolute path of the CSV file. */
  file: string;
  timeColumn: string;
  delimiter: string;
  columns: ReplayColumn[];
  devices: DeviceInfo[];
  speed: number;
  loop: boolean;
  align: 'now' | 'file';
  backfillMs: number;
}

/** The units each kind may be written in ('' = its canonical unit). Mirrors the hub's conversion table. */
const UNITS_BY_KIND: Record<EntityKind, readonly string[]> = {
  power: ['', 'W', 'kW', 'MW'],
  energy_total: ['', 'Wh', 'kWh', 'MWh', 'Wmin'],
  energy_interval: ['', 'Wh', 'kWh', 'MWh', 'Wmin'],
  voltage: ['', 'V'],
  current: ['', 'A', 'mA'],
  frequency: ['', 'Hz'],
  power_factor: ['', '%'],
  switch: [''],
};

const ID_PATTERN = /^[a-z0-9_-]+$/;
const KEY_PATTERN = /^[a-z0-9_]+$/;

function fail(code: string, path: string, reason: string, details: Record<string, unknown> = {}): never {
  throw new ConfigError(code, `${path}: ${reason}`, { path, ...details });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, min: 60e3, h: 3600e3, d: 86_400e3, w: 604_800e3 };

/** '24h', '1d12h', '90 min', '0' → milliseconds; undefined when unreadable. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0' || s === '') return 0;
  const part = /(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d|w)\s*/gy;
  let total = 0;
  let end = 0;
  for (let m = part.exec(s); m; m = part.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    end = part.lastIndex;
  }
  return end === s.length && end > 0 ? total : undefined;
}

/** Options equal to their default are taken from the preset, so ajv's filled-in defaults cannot mask it. */
function withPreset(raw: RawReplayConfig): RawReplayConfig {
  const presetName = raw.preset ?? DEFAULTS.preset;
  if (presetName === DEFAULTS.preset) return raw;
  const preset = PRESETS[presetName];
  if (!preset) fail('CSV_REPLAY_UNKNOWN_PRESET', 'preset', `unknown preset "${presetName}" (known: ${Object.keys(PRESETS).join(', ')})`);
  const out: RawReplayConfig = { ...raw };
  for (const key of ['file', 'time_column', 'delimiter', 'speed', 'loop', 'align', 'backfill'] as const) {
    const given = raw[key];
    if (given === undefined || given === DEFAULTS[key]) (out as Record<string, unknown>)[key] = preset[key] ?? DEFAULTS[key];
  }
  if (!raw.columns || raw.columns.length === 0) out.columns = preset.columns;
  const devices: Record<string, RawDevice> = { ...preset.devices };
  for (const [id, d] of Object.entries(raw.devices ?? {})) devices[id] = { ...devices[id], ...d };
  out.devices = devices;
  return out;
}

function resolveColumn(c: RawColumn, i: number, timeColumn: string): ReplayColumn {
  const path = `columns[${i}]`;
  if (typeof c !== 'object' || c === null) fail('CSV_REPLAY_BAD_MAPPING', path, 'must be an object with column, device, key and kind');
  if (typeof c.column !== 'string' || c.column === '') fail('CSV_REPLAY_BAD_MAPPING', `${path}.column`, 'is required');
  if (c.column === timeColumn) fail('CSV_REPLAY_BAD_MAPPING', `${path}.column`, `"${c.column}" is the time column`);
  if (typeof c.device !== 'string' || !ID_PATTERN.test(c.device)) {
    fail('CSV_REPLAY_BAD_MAPPING', `${path}.device`, `must be a device id of lower-case letters, digits, _ and - (got ${JSON.stringify(c.device)})`);
  }
  if (typeof c.key !== 'string' || !KEY_PATTERN.test(c.key)) {
    fail('CSV_REPLAY_BAD_MAPPING', `${path}.key`, `must be a snake_case key (got ${JSON.stringify(c.key)})`);
  }
  if (!ENTITY_KINDS.includes(c.kind as EntityKind)) {
    fail('CSV_REPLAY_BAD_MAPPING', `${path}.kind`, `unknown kind ${JSON.stringify(c.kind)} (known: ${ENTITY_KINDS.join(', ')})`);
  }
  const kind = c.kind as EntityKind;
  const unit = c.unit ?? '';
  if (!UNITS_BY_KIND[kind].includes(unit)) {
    const allowed = UNITS_BY_KIND[kind].filter(Boolean);
    fail('CSV_REPLAY_BAD_UNIT', `${path}.unit`, `unit "${unit}" cannot express ${kind}` + (allowed.length ? ` (use ${allowed.join(', ')})` : ' (it takes no unit)'));
  }
  if (c.role != null && !ROLES.includes(c.role as EntityRole)) {
    fail('CSV_REPLAY_BAD_MAPPING', `${path}.role`, `unknown role ${JSON.stringify(c.role)} (known: ${ROLES.join(', ')})`);
  }
  if (c.flow !== undefined && c.flow !== 'in' && c.flow !== 'out') fail('CSV_REPLAY_BAD_MAPPING', `${path}.flow`, "must be 'in' or 'out'");
  const entity: EntityInfo = { key: c.key, kind };
  if (unit !== '') entity.unit = unit as InputUnit;
  if (c.role != null) entity.role = c.role as EntityRole;
  if (c.name) entity.name = c.name;
  if (c.reports_on_change) entity.reportsOnChange = true;
  if (c.flow) entity.flow = c.flow;
  return { column: c.column, deviceId: c.device, entity, path };
}

function resolveDevice(id: string, d: RawDevice | undefined): DeviceInfo {
  const info: DeviceInfo = { id, name: d?.name || id };
  if (d?.description) info.description = d.description;
  if (d?.address) info.address = d.address;
  if (d?.manufacturer) info.manufacturer = d.manufacturer;
  if (d?.model) info.model = d.model;
  for (const [field, target] of [['max_hourly_kwh', 'maxHourlyKwh'], ['max_power_w', 'maxPowerW']] as const) {
    const v = d?.[field];
    if (v == null) continue;
    if (typeof v !== 'number' || !(v > 0)) fail('CSV_REPLAY_BAD_DEVICE', `devices.${id}.${field}`, 'must be a positive number');
    info[target] = v;
  }
  return info;
}

/** Resolves options (and a preset) against the config directory; throws ConfigError naming the option. */
export function resolveConfig(input: RawReplayConfig | undefined, configDir: string): ReplayConfig {
  const raw = withPreset(input ?? {});
  const file = raw.file ?? DEFAULTS.file;
  if (typeof file !== 'string' || file.trim() === '') fail('CSV_REPLAY_NO_FILE', 'file', 'is required (or choose a preset)');
  const timeColumn = raw.time_column ?? DEFAULTS.time_column;
  if (typeof timeColumn !== 'string' || timeColumn === '') fail('CSV_REPLAY_BAD_OPTION', 'time_column', 'must be a column name');
  const delimiter = raw.delimiter ?? DEFAULTS.delimiter;
  if (typeof delimiter !== 'string' || delimiter.length !== 1) fail('CSV_REPLAY_BAD_OPTION', 'delimiter', 'must be one character');

  if (!Array.isArray(raw.columns) || raw.columns.length === 0) fail('CSV_REPLAY_NO_COLUMNS', 'columns', 'map at least one CSV column to an entity');
  const columns = raw.columns.map((c, i) => resolveColumn(c, i, timeColumn));
  const seen = new Map<string, string>();
  for (const c of columns) {
    const id = `${c.deviceId}.${c.entity.key}`;
    const earlier = seen.get(id);
    if (earlier) fail('CSV_REPLAY_DUPLICATE_ENTITY', c.path, `entity ${id} is already fed by ${earlier}`);
    seen.set(id, c.path);
  }

  const used = [...new Set(columns.map((c) => c.deviceId))];
  for (const id of Object.keys(raw.devices ?? {})) {
    if (!ID_PATTERN.test(id)) fail('CSV_REPLAY_BAD_DEVICE', `devices.${id}`, 'device ids are lower-case letters, digits, _ and -');
    if (!used.includes(id)) fail('CSV_REPLAY_UNUSED_DEVICE', `devices.${id}`, `no column reports to device "${id}"`);
  }
  const devices = used.map((id) => resolveDevice(id, raw.devices?.[id]));

  const speed = raw.speed ?? DEFAULTS.speed;
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed < 0) {
    fail('CSV_REPLAY_BAD_SPEED', 'speed', `must be 0 (as fast as possible) or a positive factor (got ${JSON.stringify(speed)})`);
  }
  const loop = raw.loop ?? DEFAULTS.loop;
  if (typeof loop !== 'boolean') fail('CSV_REPLAY_BAD_OPTION', 'loop', 'must be true or false');
  if (loop && speed === 0) fail('CSV_REPLAY_LOOP_WITHOUT_PACE', 'loop', 'cannot loop at speed 0 (it would report without end); set a speed');
  const align = raw.align ?? DEFAULTS.align;
  if (align !== 'now' && align !== 'file') fail('CSV_REPLAY_BAD_OPTION', 'align', `must be 'now' or 'file' (got ${JSON.stringify(align)})`);
  const backfill = raw.backfill ?? DEFAULTS.backfill;
  const backfillMs = typeof backfill === 'string' ? parseDuration(backfill) : undefined;
  if (backfillMs === undefined) fail('CSV_REPLAY_BAD_BACKFILL', 'backfill', `must be a duration like 24h, 90m or 7d (got ${JSON.stringify(backfill)})`);

  return {
    file: isAbsolute(file) ? file : resolve(configDir, file),
    timeColumn, delimiter, columns, devices, speed, loop, align, backfillMs,
  };
}
