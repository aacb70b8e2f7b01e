/**
 * The one JSON Schema of a csv-replay instance: ajv validates it before setup, the API serves it,
 * the UI draws the form from it. Every option has title, description, default and examples.
 */
import { ENTITY_KINDS, type JsonSchemaObject } from '@joulehub/core/sdk';

export const ROLES = ['grid', 'pv', 'battery', 'load', 'ev', 'heat_pump', 'other'] as const;
export const UNITS = ['W', 'kW', 'MW', 'Wh', 'kWh', 'MWh', 'Wmin', 'V', 'A', 'mA', 'Hz', '%', ''] as const;

/** Defaults, also used when setup is called with a sparse config (ajv without useDefaults). */
export const DEFAULTS = {
  preset: 'none',
  file: '',
  time_column: 'time',
  delimiter: ',',
  speed: 1,
  loop: false,
  align: 'now',
  backfill: '0',
} as const;

const columnSchema = {
  type: 'object',
  title: 'Column',
  description: 'One value column of the file and the entity its readings are reported to.',
  required: ['column', 'device', 'key', 'kind'],
  additionalProperties: false,
  default: {},
  examples: [{ column: 'fridge_w', device: 'fridge', key: 'power', kind: 'power', unit: 'W', role: 'load' }],
  properties: {
    column: {
      type: 'string', minLength: 1, title: 'Column name',
      description: 'Header of the CSV column holding the values. An empty cell means no reading at that time.',
      default: '', examples: ['fridge_w', 'grid_import_kwh'],
    },
    device: {
      type: 'string', pattern: '^[a-z0-9_-]+$', title: 'Device id',
      description: 'Stable id of the device the entity belongs to (lower-case letters, digits, _ and -).',
      default: '', examples: ['fridge', 'grid_meter'],
    },
    key: {
      type: 'string', pattern: '^[a-z0-9_]+$', title: 'Entity key',
      description: 'Key of the entity within the device; the entity id is `<device>.<key>`.',
      default: 'power', examples: ['power', 'energy_import'],
    },
    kind: {
      type: 'string', enum: [...ENTITY_KINDS], title: 'Kind',
      description: 'What the values measure; fixes the canonical unit and how energy is derived.',
      default: 'power', examples: ['power', 'energy_total'],
    },
    unit: {
      type: 'string', enum: [...UNITS], title: 'Unit',
      description: "Unit of the values in the file; converted to the kind's canonical unit (W, kWh …). Defaults to the canonical unit.",
      default: '', examples: ['W', 'kW', 'kWh'],
    },
    role: {
      type: ['string', 'null'], enum: [...ROLES, null], title: 'Role',
      description: 'Where the power flows from; positive means into the home (grid import, PV production). null = unspecified.',
      default: null, examples: ['pv', 'grid', 'load'],
    },
    name: {
      type: 'string', title: 'Entity name',
      description: 'Display name of the entity.',
      default: '', examples: ['Fridge power'],
    },
    reports_on_change: {
      type: 'boolean', title: 'Reports only on change',
      description: 'The column has values only when they change: hold the latest power until now.',
      default: false, examples: [true],
    },
    flow: {
      type: 'string', enum: ['in', 'out'], title: 'Flow',
      description: "For energy counters: 'in' counts consumption or import, 'out' export or production.",
      default: 'in', examples: ['out'],
    },
  },
} as const;

const deviceSchema = {
  type: 'object',
  title: 'Device',
  description: 'Metadata of one device named in `columns`.',
  additionalProperties: false,
  default: {},
  examples: [{ name: 'Fridge', address: 'Kitchen', max_power_w: 300 }],
  properties: {
    name: { type: 'string', title: 'Name', description: 'Display name; defaults to the device id.', default: '', examples: ['Fridge'] },
    description: { type: 'string', title: 'Description', description: 'Free text shown with the device.', default: '', examples: ['Kitchen fridge-freezer'] },
    address: { type: 'string', title: 'Address', description: 'Where the device is.', default: '', examples: ['Kitchen', 'Garage'] },
    manufacturer: { type: 'string', title: 'Manufacturer', description: 'Who made the device.', default: '', examples: ['Bosch'] },
    model: { type: 'string', title: 'Model', description: 'Model name or number.', default: '', examples: ['KGN39'] },
    max_hourly_kwh: {
      type: ['number', 'null'], exclusiveMinimum: 0, title: 'Maximum hourly consumption (kWh)',
      description: 'Used by over-consumption rules; null = no limit.', default: null, examples: [0.5, 11],
    },
    max_power_w: {
      type: ['number', 'null'], exclusiveMinimum: 0, title: 'Maximum power (W)',
      description: "Readings implying more power than this are quarantined; null = the hub's default (60 kW).", default: null, examples: [300, 11000],
    },
  },
} as const;

export const configSchema: JsonSchemaObject = {
  type: 'object',
  title: 'CSV replay',
  description: 'Replays a CSV of readings on the hub clock, at a speed factor, optionally in a loop.',
  additionalProperties: false,
  properties: {
    preset: {
      type: 'string', enum: ['none', 'demo'], title: 'Preset',
      description: "'demo' replays the bundled demo household (six devices, one week at 1-minute resolution) in real time, looping, with 24 h of history at start. Options left at their defaults take the preset's values.",
      default: DEFAULTS.preset, examples: ['demo'],
    },
    file: {
      type: 'string', title: 'File',
      description: 'Path of the CSV file, relative to the directory of the configuration file. Required unless a preset is chosen.',
      default: DEFAULTS.file, examples: ['readings/household.csv'],
    },
    time_column: {
      type: 'string', minLength: 1, title: 'Time column',
      description: 'Header of the column with each row\'s time: ISO 8601 with a UTC offset (2025-04-07T00:00:00Z, 2025-04-07 02:00+02:00). Rows must be in time order.',
      default: DEFAULTS.time_column, examples: ['time', 'timestamp'],
    },
    delimiter: {
      type: 'string', minLength: 1, maxLength: 1, title: 'Delimiter',
      description: 'Field separator of the file.',
      default: DEFAULTS.delimiter, examples: [';', '\t'],
    },
    columns: {
      type: 'array', title: 'Columns', items: columnSchema,
      description: 'Which columns to replay and the entity each one reports to. Columns not listed are ignored.',
      default: [],
      examples: [[{ column: 'pv_w', device: 'pv_inverter', key: 'power', kind: 'power', unit: 'W', role: 'pv' }]],
    },
    devices: {
      type: 'object', title: 'Devices', additionalProperties: deviceSchema,
      propertyNames: { pattern: '^[a-z0-9_-]+$' },
      description: 'Name, description, address and limits per device id used in `columns`.',
      default: {},
      examples: [{ fridge: { name: 'Fridge', address: 'Kitchen', max_power_w: 300 } }],
    },
    speed: {
      type: 'number', minimum: 0, title: 'Speed',
      description: '1 replays in real time, N runs N times faster, 0 reports the whole file at once.',
      default: DEFAULTS.speed, examples: [1, 60, 0],
    },
    loop: {
      type: 'boolean', title: 'Loop',
      description: 'Start over at the end of the file. Counters (energy_total) keep rising across loops instead of falling back. Not with speed 0.',
      default: DEFAULTS.loop, examples: [true],
    },
    align: {
      type: 'string', enum: ['now', 'file'], title: 'Timestamps',
      description: "'now' shifts the file so replayed readings carry current hub-clock times (a looped file of a day or more also keeps its time of day); 'file' keeps the file's own timestamps.",
      default: DEFAULTS.align, examples: ['file'],
    },
    backfill: {
      type: 'string', pattern: '^\\s*(0|(\\d+(\\.\\d+)?\\s*(ms|s|m|min|h|d|w)\\s*)+)$', title: 'Backfill',
      description: 'At start, report this much of the file at once as history ending now (so dashboards fill at once), then continue live. 0 = none.',
      default: DEFAULTS.backfill, examples: ['24h', '7d', '90m'],
    },
  },
};
