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

/**
 * One automation rule, as joulehub.yaml, automations/*.yaml and the API hold it (the automation
 * engine validates with this same schema). Each `type` selects its own options (if/then, so errors
 * name the option that is wrong rather than every alternative).
 */
function tagged(what: string, variants: Record<string, { description: string; required?: string[]; properties: Record<string, unknown> }>, common: Record<string, unknown> = {}, defaultType?: string) {
  return {
    type: 'object',
    required: defaultType ? [] : ['type'],
    properties: {
      type: { enum: Object.keys(variants), title: `${what} type`, description: Object.entries(variants).map(([k, v]) => `${k}: ${v.description}`).join('; '), ...(defaultType ? { default: defaultType } : {}), examples: [Object.keys(variants)[0]] },
      ...common,
    },
    allOf: Object.entries(variants).map(([name, v]) => ({
      if: name === defaultType ? { properties: { type: { const: name } } } : { properties: { type: { const: name } }, required: ['type'] },
      then: { required: v.required ?? [], additionalProperties: false, properties: { type: { const: name }, ...common, ...v.properties } },
    })),
  };
}

const opt = (type: unknown, title: string, description: string, extra: Record<string, unknown> = {}) => ({ ...(typeof type === 'string' || Array.isArray(type) ? { type } : type as object), title, description, ...extra });
const entityRef = (what: string) => opt('string', 'Entity', `${what} (\`<device>.<key>\`)`, { pattern: '^[a-z0-9_-]+\\.[a-z0-9_]+$', examples: ['heater.switch'] });
const deviceRef = opt('string', 'Device', 'Device id', { pattern: '^[a-z0-9_-]+$', examples: ['heater'] });
const seconds = (title: string, description: string, extra: Record<string, unknown> = {}) => opt('number', title, description, { ...(extra.exclusiveMinimum === undefined ? { minimum: 0 } : {}), examples: [300], ...extra });
const hourOfDay = { type: 'number', minimum: 0, maximum: 24 };
const window = { type: 'array', minItems: 2, maxItems: 2, items: hourOfDay, title: 'Window', description: '[from, to] in hours of the local day (7.5 = 07:30); from > to crosses midnight', examples: [[8, 11], [22, 6]] };
const windows = { type: 'array', items: window, title: 'Windows', description: 'Windows of the day', examples: [[[8, 11], [19, 20]]] };
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const days = opt({ type: 'array', uniqueItems: true, minItems: 1, items: { enum: [...WEEKDAYS] } }, 'Days', 'Weekdays the rule applies on (default every day)', { examples: [['mon', 'tue', 'wed', 'thu', 'fri']] });
const hhmm = (title: string) => opt('string', title, 'Local time HH:MM', { pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', examples: ['22:00'] });
const scalar = { type: ['string', 'number', 'boolean'] };
export const POWER_LEVELS = ['D0', 'D1', 'D2', 'D3hot', 'D3cold'] as const;
const powerLevel = opt({ enum: [...POWER_LEVELS] }, 'Power level', 'D0 = full power … D3cold = off', { examples: ['D3hot'] });
const limitKwh = opt('number', 'Limit (kWh)', "Energy above which it fires (strict >); default the device's max_hourly_kwh (× 24 for a day)", { exclusiveMinimum: 0, examples: [2.5] });
const period = opt({ enum: ['hour', 'day'] }, 'Period', 'Clock hour or day (in the rule\'s time zone)', { default: 'hour', examples: ['hour'] });
const level = opt({ enum: ['info', 'warning', 'critical'] }, 'Level', 'How urgent the notification is', { default: 'warning', examples: ['warning'] });

const triggerSchema = tagged('Trigger', {
  cron: { description: 'a cron pattern (croner syntax) in the time zone', required: ['cron'], properties: { cron: opt('string', 'Cron', 'Pattern: minute hour day month weekday', { minLength: 1, examples: ['0 22 * * *'] }) } },
  sun: {
    description: 'sunrise or sunset at a place, with an offset', required: ['event', 'latitude', 'longitude'],
    properties: {
      event: opt({ enum: ['sunrise', 'sunset'] }, 'Event', 'Sunrise or sunset', { examples: ['sunset'] }),
      offset_min: opt('number', 'Offset (min)', 'Minutes after (negative: before) the event', { default: 0, examples: [-30] }),
      latitude: opt('number', 'Latitude', 'Degrees north', { minimum: -90, maximum: 90, examples: [52.52] }),
      longitude: opt('number', 'Longitude', 'Degrees east', { minimum: -180, maximum: 180, examples: [13.4] }),
    },
  },
  state: { description: 'an entity changes state', required: ['entity'], properties: { entity: entityRef('Entity to watch'), to: opt(scalar, 'To', 'New state (on/off, a number)', { examples: ['on'] }), from: opt(scalar, 'From', 'Previous state', { examples: ['off'] }) } },
  numeric: {
    description: 'a value goes above/below a threshold (and stays there for a while)', required: ['entity'],
    properties: {
      entity: entityRef('Entity to watch'),
      above: opt('number', 'Above', 'Fires when the value rises above this', { examples: [2000] }),
      below: opt('number', 'Below', 'Fires when the value falls below this', { examples: [5] }),
      for_s: seconds('For (s)', 'The value must stay past the threshold this long'),
      hysteresis: opt('number', 'Hysteresis', 'The value must come back past the threshold by this much before it can fire again', { minimum: 0, default: 0, examples: [50] }),
    },
  },
  energy: { description: "a device's energy in the current clock hour/day exceeds a limit (once per device and period)", required: ['device'], properties: { device: deviceRef, period, limit_kwh: limitKwh } },
  unavailable: { description: 'a device (or one entity) becomes unavailable', properties: { device: deviceRef, entity: entityRef('Entity to watch'), for_s: seconds('For (s)', 'Unavailable at least this long') } },
  webhook: { description: 'POST /api/v1/automations/{id}/webhook', properties: {} },
});

const conditionRef = { $ref: '#/$defs/condition' };
const conditionSchema = tagged('Condition', {
  time: { description: 'local time of day between after and before (after > before crosses midnight)', properties: { after: hhmm('After'), before: hhmm('Before') } },
  weekday: { description: 'local weekday', required: ['days'], properties: { days } },
  state: { description: 'an entity is in a state', required: ['entity', 'is'], properties: { entity: entityRef('Entity'), is: opt(scalar, 'Is', 'State: on/off/unavailable or a number', { examples: ['on'] }) } },
  numeric: { description: 'an entity value is above/below', required: ['entity'], properties: { entity: entityRef('Entity'), above: opt('number', 'Above', 'Value must be > this', { examples: [100] }), below: opt('number', 'Below', 'Value must be < this', { examples: [5] }) } },
  and: { description: 'all of', required: ['conditions'], properties: { conditions: { type: 'array', minItems: 1, items: conditionRef, title: 'Conditions', description: 'All must hold' } } },
  or: { description: 'any of', required: ['conditions'], properties: { conditions: { type: 'array', minItems: 1, items: conditionRef, title: 'Conditions', description: 'One must hold' } } },
  not: { description: 'not', required: ['condition'], properties: { condition: { ...conditionRef, title: 'Condition', description: 'Must not hold' } } },
});

const actionSchema = tagged('Action', {
  switch: { description: 'switch an entity on, off or toggle it', required: ['entity', 'command'], properties: { entity: entityRef('Switch entity'), command: opt({ enum: ['turn_on', 'turn_off', 'toggle'] }, 'Command', 'What to do', { examples: ['turn_off'] }) } },
  notify: {
    description: 'in-app notification (WebSocket banner) and optional webhook', required: ['message'],
    properties: { title: opt('string', 'Title', 'Short title', { maxLength: 200, examples: ['Heater'] }), message: opt('string', 'Message', 'Text', { minLength: 1, maxLength: 2000, examples: ['Heater switched off'] }), level, webhook: opt('string', 'Webhook', 'Also POST the notification as JSON to this URL', { format: 'uri', pattern: '^https?://', examples: ['https://example.org/hook'] }) },
  },
  delay: { description: 'wait', required: ['seconds'], properties: { seconds: seconds('Seconds', 'How long to wait') } },
  wait: { description: 'wait for an entity state', required: ['entity', 'state'], properties: { entity: entityRef('Entity'), state: opt(scalar, 'State', 'State to wait for', { examples: ['off'] }), timeout_s: seconds('Timeout (s)', 'Give up (and fail the action) after this long', { default: 3600 }) } },
  set_level: { description: 'set a power level (carried in the command as params.level)', required: ['entity', 'level'], properties: { entity: entityRef('Entity'), level: powerLevel } },
  run: { description: 'run another rule\'s actions', required: ['rule'], properties: { rule: opt('string', 'Rule', 'Id of the rule to run', { examples: ['night-off'] }) } },
});

const common = {
  id: opt('string', 'Id', 'Stable id of the rule', { pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64, examples: ['heater-night-off'] }),
  name: opt('string', 'Name', 'Display name', { maxLength: 200, examples: ['Heater off at night'] }),
  description: opt('string', 'Description', 'What the rule is for', { maxLength: 2000, examples: ['Saves the heater running all night'] }),
  enabled: opt('boolean', 'Enabled', 'Set to false to keep the rule without running it', { default: true, examples: [false] }),
  mode: opt({ enum: ['single', 'restart', 'queued'] }, 'Mode', 'A trigger while the actions still run: single = ignored, restart = the running one is cancelled, queued = runs after it', { default: 'single', examples: ['queued'] }),
  max_runs_per_hour: opt('integer', 'Rate limit', 'More firings than this within an hour pause the rule and report it', { minimum: 1, default: 30, examples: [10] }),
  tz: opt('string', 'Time zone', "IANA zone for cron, windows, hours and days (default the hub's)", { 'x-timezone': true, examples: ['Europe/Berlin'] }),
};
const triggers = { type: 'array', minItems: 1, items: { $ref: '#/$defs/trigger' }, title: 'Triggers', description: 'Any of these starts the rule' };
const conditions = { type: 'array', items: conditionRef, title: 'Conditions', description: 'All must hold when a trigger fires' };
const actions = { type: 'array', minItems: 1, items: { $ref: '#/$defs/action' }, title: 'Actions', description: 'Run in order' };
const switchEntity = entityRef('Switch entity');
const switchOff = opt('boolean', 'Switch off', 'Also switch the device off (its switch entity)', { default: false, examples: [true] });

export const automationRuleSchema = {
  $id: 'https://joulehub.dev/schemas/automation-rule.json',
  title: 'Automation rule',
  description: 'A rule: triggers, conditions and actions, or one of the built-in types.',
  default: {},
  examples: [{ id: 'heater-night-off', triggers: [{ type: 'cron', cron: '0 22 * * *' }], actions: [{ type: 'switch', entity: 'heater.switch', command: 'turn_off' }] }],
  $defs: { trigger: triggerSchema, condition: conditionSchema, action: actionSchema },
  ...tagged('Rule', {
    custom: { description: 'triggers, conditions, actions', required: ['id', 'triggers', 'actions'], properties: { triggers, conditions, actions } },
    on_windows: {
      description: 'a switch is on inside weekly windows, off outside', required: ['id', 'entity', 'windows'],
      properties: { entity: switchEntity, windows: { oneOf: [windows, { type: 'object', additionalProperties: false, propertyNames: { enum: [...WEEKDAYS] }, patternProperties: { '': windows } }], title: 'Windows', description: 'Every day, or per weekday ({mon: [[8, 11]], …})', examples: [[[8, 11], [19, 20]]] }, days },
    },
    shutdown: { description: "switch off every device of the owner (except always_on)", required: ['id', 'triggers'], properties: { triggers, conditions, devices: opt({ type: 'array', items: deviceRef }, 'Devices', 'Limit to these devices (default every device the owner may control)'), always_on: opt({ type: 'array', items: deviceRef }, 'Always on', 'Devices never switched off (fridge, router)', { examples: [['fridge']] }) } },
    startup: { description: 'switch on every device of the owner', required: ['id', 'triggers'], properties: { triggers, conditions, devices: opt({ type: 'array', items: deviceRef }, 'Devices', 'Limit to these devices (default every device the owner may control)'), always_on: opt({ type: 'array', items: deviceRef }, 'Always on', 'Devices left alone (they never went off)') } },
    power_level: {
      description: 'set a power level inside windows and another outside', required: ['id', 'entity', 'windows'],
      properties: { entity: entityRef('Entity that takes set_level'), windows: { type: 'array', minItems: 1, title: 'Windows', description: 'Level per window', items: { type: 'object', additionalProperties: false, required: ['from', 'to', 'level'], properties: { from: hourOfDay, to: hourOfDay, level: powerLevel } } }, outside: { ...powerLevel, title: 'Level outside', description: 'Level outside every window', default: 'D0' }, days },
    },
    alarm: {
      description: 'a notification N seconds after a trigger (or after the rule starts), repeated', required: ['id', 'after_s', 'message'],
      properties: { triggers, after_s: seconds('After (s)', 'Seconds until the alarm', { exclusiveMinimum: 0 }), repeat: opt('integer', 'Repeat', 'How many more times (-1 = forever)', { minimum: -1, default: 0, examples: [3, -1] }), interval_s: seconds('Interval (s)', 'Seconds between repeats (default after_s)', { exclusiveMinimum: 0 }), title: opt('string', 'Title', 'Title', { maxLength: 200 }), message: opt('string', 'Message', 'Text', { minLength: 1, maxLength: 2000, examples: ['Take the laundry out'] }), level },
    },
    over_consumption: {
      description: "a device's energy in a clock hour above its maximum: notify (and optionally switch off)", required: ['id'],
      properties: { devices: opt({ type: 'array', items: deviceRef, minItems: 1 }, 'Devices', 'Devices to watch (default every device the owner may see that has max_hourly_kwh)'), period, limit_kwh: limitKwh, switch_off: switchOff, level },
    },
    left_running: {
      description: 'a device running longer than a limit or outside its usual hours: notify (and optionally switch off)', required: ['id', 'device'],
      properties: {
        device: deviceRef,
        entity: entityRef('Power entity (default <device>.power)'),
        start_w: opt('number', 'Start (W)', 'A cycle starts above this', { minimum: 0, default: 25, examples: [25] }),
        stop_w: opt('number', 'Stop (W)', 'A cycle ends below this', { minimum: 0, default: 5, examples: [5] }),
        min_on_s: seconds('Minimum on (s)', 'Above start_w at least this long to count as running', { default: 120 }),
        min_off_s: seconds('Minimum off (s)', 'Below stop_w at least this long to count as stopped', { default: 60 }),
        max_run_s: seconds('Limit (s)', 'Running longer than this fires', { exclusiveMinimum: 0, examples: [10800] }),
        usual_hours: { ...windows, title: 'Usual hours', description: 'Starting outside these windows fires' },
        switch_off: switchOff,
        level,
      },
    },
  }, common, 'custom'),
};

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
    http: {
      type: 'object',
      title: 'HTTP',
      description: 'Options of the HTTP API.',
      default: {},
      examples: [{ cors_origins: ['https://energy.example.org'] }],
      additionalProperties: false,
      properties: {
        cors_origins: {
          type: 'array',
          items: { type: 'string', pattern: '^https?://[^/\\s]+$' },
          uniqueItems: true,
          title: 'CORS origins',
          description: 'Web origins (scheme://host[:port]) allowed to call the API from a browser with credentials. Empty (the default): CORS closed, only the hub\'s own pages.',
          default: [],
          examples: [['https://energy.example.org', 'http://localhost:5173']],
          'x-restart': true,
        },
        tls_cert: {
          type: 'string',
          minLength: 1,
          title: 'TLS certificate',
          description: 'PEM certificate (chain) file; with tls_key the hub serves HTTPS and session cookies are Secure. Relative to this file. Environment: JOULEHUB_TLS_CERT.',
          default: '',
          examples: ['/etc/joulehub/fullchain.pem'],
          'x-env': 'JOULEHUB_TLS_CERT',
          'x-restart': true,
        },
        tls_key: {
          type: 'string',
          minLength: 1,
          title: 'TLS private key',
          description: 'PEM private key file of tls_cert. Relative to this file. Environment: JOULEHUB_TLS_KEY.',
          default: '',
          examples: ['/etc/joulehub/privkey.pem'],
          'x-env': 'JOULEHUB_TLS_KEY',
          'x-restart': true,
        },
        trust_proxy: {
          oneOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
          title: 'Trusted proxies',
          description: 'Behind a reverse proxy: believe its X-Forwarded-For/-Proto from these addresses or CIDR ranges (true: from any). Then session cookies are Secure when the proxy speaks TLS, and login limits and the audit log see client addresses instead of the proxy\'s.',
          default: false,
          examples: [['127.0.0.1', '10.0.0.0/8'], true],
          'x-restart': true,
        },
      },
    },
    auth: {
      type: 'object',
      title: 'Accounts',
      description: 'How people log in besides email and password.',
      default: {},
      examples: [{ oidc: { issuer: 'https://id.example.org/realms/home', client_id: 'joulehub', client_secret: 'secret' } }],
      additionalProperties: false,
      properties: {
        oidc: {
          type: 'object',
          title: 'OpenID Connect',
          description: 'Log in through an identity provider (Keycloak, Authentik, Google …): accounts are matched by the verified email the provider sends.',
          default: {},
          examples: [{ issuer: 'https://id.example.org/realms/home', client_id: 'joulehub', client_secret: 'secret', name: 'Home login' }],
          required: ['issuer', 'client_id', 'client_secret'],
          additionalProperties: false,
          properties: {
            issuer: { type: 'string', pattern: '^https?://', title: 'Issuer', description: 'Issuer URL (its /.well-known/openid-configuration is read); https, or http on this machine only.', default: '', examples: ['https://id.example.org/realms/home'] },
            client_id: { type: 'string', minLength: 1, title: 'Client id', description: 'The client registered for Joulehub at the provider.', default: '', examples: ['joulehub'] },
            client_secret: { type: 'string', minLength: 1, 'x-secret': true, title: 'Client secret', description: 'Its secret (sent in the token request body).', default: '', examples: ['secret'] },
            redirect_uri: { type: 'string', pattern: '^https?://', title: 'Redirect URI', description: 'The callback registered at the provider; default: <the hub as the browser reaches it>/api/v1/auth/oidc/callback.', default: '', examples: ['https://energy.example.org/api/v1/auth/oidc/callback'] },
            scopes: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, title: 'Scopes', description: 'Scopes to ask for; must give an email.', default: ['openid', 'email', 'profile'], examples: [['openid', 'email']] },
            name: { type: 'string', minLength: 1, maxLength: 60, title: 'Button label', description: 'What the login page calls this way of logging in.', default: 'Single sign-on', examples: ['Home login'] },
            create_users: { type: 'boolean', title: 'Create accounts', description: 'Create an account (role user) for a verified email without one. Unset: only while registration is open (the admin setting); false: only existing accounts may log in this way.', default: false, examples: [true] },
          },
        },
      },
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
      description: 'Automation rules (more can sit in automations/*.yaml next to this file, and come through the API).',
      default: [],
      examples: [[{ id: 'night-off', triggers: [{ type: 'cron', cron: '0 23 * * *' }], actions: [{ type: 'switch', entity: 'plug.switch', command: 'turn_off' }] }]],
      items: automationRuleSchema,
    },
  },
} as const;

/** Schema keywords we add to JSON Schema; registered with every ajv instance the hub builds. */
export const CUSTOM_KEYWORDS = ['x-secret', 'x-env', 'x-restart', 'x-timezone', 'x-unit', 'x-widget'] as const;
