/**
 * The one JSON Schema of joulehub.yaml. It validates the file, documents every option (title,
 * description, default, examples) and can draw a settings form. Keys are snake_case as users write
 * them; loadConfig() maps them onto HubConfig. Environment variables override the file and are
 * checked against the same property schemas (see `env` below).
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const DEFAULT_PORT = 8910;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_LOG_LEVEL = 'info';

export const integrationEntrySchema = {
  type: 'object',
  title: 'Integration instance',
  description: 'One running instance of an integration package, with its own options.',
  default: {},
  examples: [{ id: 'csv-replay', name: 'demo', config: { preset: 'demo' } }],
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9-]*$',
      title: 'Integration',
      description: 'Id of the integration; loads the workspace package `@joulehub/integration-<id>` unless `package` says otherwise.',
      default: '',
      examples: ['csv-replay', 'mqtt', 'shelly'],
    },
    name: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9_-]*$',
      title: 'Instance name',
      description: 'Unique name of this instance (devices record it as their owner). Defaults to the integration id.',
      default: '',
      examples: ['demo', 'garage-meter'],
    },
    enabled: {
      type: 'boolean',
      title: 'Enabled',
      description: 'Set to false to keep the entry in the file without starting it.',
      default: true,
      examples: [false],
    },
    package: {
      type: 'string',
      minLength: 1,
      title: 'Package',
      description: 'Package name, or a path relative to this file, to load instead of `@joulehub/integration-<id>`.',
      default: '',
      examples: ['./my-integrations/heat-meter', '@acme/joulehub-integration-heat-meter'],
    },
    config: {
      type: 'object',
      title: 'Options',
      description: "The instance's options, validated against the integration's own config schema.",
      default: {},
      examples: [{ file: 'readings.csv', speed: 10 }],
    },
  },
} as const;

export const configSchema = {
  $id: 'https://joulehub.dev/schemas/joulehub.yaml.json',
  type: 'object',
  title: 'Joulehub configuration',
  description: 'joulehub.yaml: integrations and automations. Every option can also come from the environment where noted.',
  default: {},
  examples: [{ port: 8910, integrations: [{ id: 'csv-replay', config: { preset: 'demo' } }] }],
  additionalProperties: false,
  properties: {
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      title: 'HTTP port',
      description: 'Port the dashboard and API listen on. Environment: PORT.',
      default: DEFAULT_PORT,
      examples: [8910, 8080],
      'x-env': 'PORT',
      'x-restart': true,
    },
    host: {
      type: 'string',
      minLength: 1,
      title: 'Listen address',
      description: 'Interface the HTTP server binds to. Environment: HOST.',
      default: DEFAULT_HOST,
      examples: ['0.0.0.0', '127.0.0.1', '::'],
      'x-env': 'HOST',
      'x-restart': true,
    },
    data_dir: {
      type: 'string',
      minLength: 1,
      title: 'Data directory',
      description: 'Where the embedded database, the spool and other state live; relative to the working directory. Environment: JOULEHUB_DATA_DIR.',
      default: DEFAULT_DATA_DIR,
      examples: ['./data', '/var/lib/joulehub'],
      'x-env': 'JOULEHUB_DATA_DIR',
      'x-restart': true,
    },
    database_url: {
      type: 'string',
      pattern: '^postgres(ql)?://',
      title: 'Database URL',
      description: 'PostgreSQL or TimescaleDB server to use instead of the embedded one. Environment: DATABASE_URL.',
      default: '',
      examples: ['postgres://joulehub:secret@db:5432/joulehub'],
      'x-env': 'DATABASE_URL',
      'x-secret': true,
      'x-restart': true,
    },
    tz: {
      type: 'string',
      minLength: 1,
      'x-timezone': true,
      title: 'Time zone',
      description: 'IANA time zone that days and months are cut in and cron schedules run in; defaults to the system zone. Environment: TZ.',
      default: '',
      examples: ['Europe/Berlin', 'Asia/Kathmandu', 'UTC'],
      'x-env': 'TZ',
    },
    log_level: {
      type: 'string',
      enum: [...LOG_LEVELS],
      title: 'Log level',
      description: 'Least severe level that is logged. Environment: LOG_LEVEL.',
      default: DEFAULT_LOG_LEVEL,
      examples: ['info', 'debug'],
      'x-env': 'LOG_LEVEL',
    },
    demo: {
      type: 'boolean',
      title: 'Demo household',
      description: 'Also run the csv-replay integration on the bundled demo household (same as `--demo`).',
      default: false,
      examples: [true],
    },
    mqtt: {
      type: 'object',
      title: 'MQTT',
      description:
        'The built-in MQTT integration, on by default: with `url` the hub connects to that broker, otherwise it runs an embedded broker on `port`. ' +
        'Other options (families, mappings, credentials, TLS …) are those of the mqtt integration and are validated by it. Not used when `integrations` has an mqtt instance.',
      default: {},
      examples: [{ url: 'mqtt://localhost:1883', username: 'joulehub', password: 'secret' }, { port: 1884 }, { enabled: false }],
      additionalProperties: true,
      properties: {
        enabled: {
          type: 'boolean',
          title: 'Enabled',
          description: 'Set to false to run the hub without the MQTT integration.',
          default: true,
          examples: [false],
        },
        url: {
          type: 'string',
          pattern: '^$|^(mqtts?|wss?|tcp|ssl)://',
          title: 'Broker URL',
          description: 'MQTT broker to connect to; empty runs the embedded broker. Environment: MQTT_URL.',
          default: '',
          examples: ['mqtt://localhost:1883', 'mqtts://user:secret@broker.example.org:8883'],
          'x-env': 'MQTT_URL',
          'x-secret': true,
          'x-restart': true,
        },
        port: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          title: 'Embedded broker port',
          description: 'Port of the embedded MQTT broker when no URL is set; 0 disables it. Environment: MQTT_PORT.',
          default: 1883,
          examples: [1883, 1884, 0],
          'x-env': 'MQTT_PORT',
          'x-restart': true,
        },
      },
    },
    dashboard: {
      type: 'object',
      title: 'Dashboard',
      description: 'Options of the web dashboard.',
      default: {},
      examples: [{ cards_dir: './cards' }],
      additionalProperties: false,
      properties: {
        cards_dir: {
          type: 'string',
          minLength: 1,
          title: 'Third-party cards folder',
          description: 'Folder of extra card modules (.js/.mjs), relative to this file; the hub serves them at /cards/ and the dashboard\'s card picker offers them.',
          default: '',
          examples: ['./cards', '/etc/joulehub/cards'],
        },
      },
    },
    integrations: {
      type: 'array',
      title: 'Integrations',
      description: 'Integration instances to start, in order.',
      default: [],
      examples: [[{ id: 'csv-replay', config: { preset: 'demo' } }]],
      items: integrationEntrySchema,
    },
    automations: {
      type: 'array',
      title: 'Automations',
      description: 'Automation rules; validated by the automation engine when it loads them.',
      default: [],
      examples: [[{ id: 'night-off', trigger: { cron: '0 23 * * *' }, action: { entity: 'plug.switch', command: 'turn_off' } }]],
      items: { type: 'object' },
    },
  },
} as const;

/** Schema keywords we add to JSON Schema; registered with every ajv instance the hub builds. */
export const CUSTOM_KEYWORDS = ['x-secret', 'x-env', 'x-restart', 'x-timezone', 'x-unit', 'x-widget'] as const;
