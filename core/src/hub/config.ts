/**
 * Loads joulehub.yaml (optional) and the environment into a HubConfig. The file is parsed with
 * `yaml`'s parseDocument so every node keeps its line: each problem names the file, the line and
 * the path (`joulehub.yaml:12: integrations[0].config.speed must be >= 0`), one line per problem.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { HubConfig, IntegrationConfig } from './types.js';
import {
  automationRuleSchema, configSchema, DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_LOG_LEVEL, DEFAULT_PORT,
} from './config-schema.js';
import { ajvProblems, createAjv, isValidTimeZone } from './validation.js';

export interface ConfigProblem {
  /** Display name of the file (relative to the working directory when inside it), or `environment`. */
  file: string;
  line?: number;
  /** Path of the offending option (`integrations[0].config.speed`); empty for YAML syntax errors. */
  path: string;
  message: string;
}

export class ConfigFileError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigFileError';
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}` : p.file;
  return p.path ? `${where}: ${p.path} ${p.message}` : `${where}: ${p.message}`;
}

export interface LoadConfigOptions {
  /** Command-line arguments; `--config FILE` and `--demo` are read from them. */
  argv?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Explicit config file (wins over argv and JOULEHUB_CONFIG). */
  configFile?: string;
  /** Force the demo household on. */
  demo?: boolean;
}

/** Maps dotted paths (`integrations[0].config.speed`) to the 1-based line they start on. */
export type LineMap = Map<string, number>;

const validateFile = createAjv().compile(configSchema);

export function loadConfig(opts: LoadConfigOptions = {}): HubConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const args = parseArgs(opts.argv ?? []);

  const explicit = opts.configFile ?? args.config ?? env.JOULEHUB_CONFIG;
  let configFile: string | undefined;
  if (explicit) {
    configFile = path.resolve(cwd, explicit);
    if (!existsSync(configFile)) {
      throw new ConfigFileError([{ file: displayName(configFile, cwd), path: '', message: 'config file does not exist' }]);
    }
  } else if (existsSync(path.join(cwd, 'joulehub.yaml'))) {
    configFile = path.join(cwd, 'joulehub.yaml');
  }

  let file: Record<string, unknown> = {};
  let lines: LineMap = new Map();
  let display = '';
  if (configFile) {
    display = displayName(configFile, cwd);
    ({ data: file, lines } = parseConfigText(readFileSync(configFile, 'utf8'), display));
  }
  const configDir = configFile ? path.dirname(configFile) : cwd;

  const problems: ConfigProblem[] = [];
  const envValues = readEnv(env, problems);
  if (problems.length) throw new ConfigFileError(problems);

  const pick = <T>(key: string, fallback: T): T =>
    (envValues[key] ?? (file[key] !== undefined ? file[key] : fallback)) as T;

  const dataDirRaw = pick<string>('data_dir', DEFAULT_DATA_DIR);
  // A data_dir written in the file is relative to the file; one from the environment to the cwd.
  const dataDir = path.resolve(envValues.data_dir !== undefined ? cwd : configDir, dataDirRaw);
  const databaseUrl = pick<string>('database_url', '') || undefined;
  const cardsDirRaw = (file.dashboard as { cards_dir?: string } | undefined)?.cards_dir;

  const integrations = ((file.integrations as Record<string, unknown>[] | undefined) ?? []).map((raw, i) =>
    toIntegrationConfig(raw, i, display, lines),
  );
  const names = new Map<string, number>();
  integrations.forEach((entry, i) => {
    const name = entry.name ?? entry.id;
    const first = names.get(name);
    if (first !== undefined) {
      problems.push({
        file: display, line: lines.get(`integrations[${i}]`), path: `integrations[${i}].name`,
        message: `"${name}" is already used by integrations[${first}]; give each instance a unique name`,
      });
    } else names.set(name, i);
  });
  if (problems.length) throw new ConfigFileError(problems);

  // The mqtt section, with MQTT_URL / MQTT_PORT over the file; the hub turns it into the default mqtt instance.
  const mqtt: Record<string, unknown> = { ...((file.mqtt as Record<string, unknown> | undefined) ?? {}) };
  if (envValues['mqtt.url'] !== undefined) mqtt.url = envValues['mqtt.url'];
  if (envValues['mqtt.port'] !== undefined) mqtt.port = envValues['mqtt.port'];
  const mqttLines: Record<string, number> = {};
  for (const [k, line] of lines) {
    if (k === 'mqtt') mqttLines[''] = line;
    else if (k.startsWith('mqtt.')) mqttLines[`config.${k.slice('mqtt.'.length)}`] = line;
  }

  return {
    port: pick<number>('port', DEFAULT_PORT),
    host: pick<string>('host', DEFAULT_HOST),
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    tz: pick<string>('tz', '') || systemTimeZone(),
    logLevel: pick<string>('log_level', DEFAULT_LOG_LEVEL),
    ...(configFile ? { configFile } : {}),
    configDir,
    integrations,
    demo: Boolean(opts.demo || args.demo || file.demo === true),
    mqtt: { ...mqtt, source: { file: display || 'environment', line: lines.get('mqtt') ?? 1, path: 'mqtt', lines: mqttLines } },
    ...httpSection(file, envValues, configDir, cwd),
    ...oidcSection(file),
    ...readAutomations(file, lines, display, configFile ? configDir : undefined, cwd),
    ...(cardsDirRaw ? { cardsDir: path.resolve(configDir, cardsDirRaw) } : {}),
  };
}

/** `http`: CORS origins, and the TLS files (from the file: relative to it; from the environment: to the cwd). */
function httpSection(file: Record<string, unknown>, envValues: Record<string, unknown>, configDir: string, cwd: string): Pick<HubConfig, 'http'> {
  const raw = (file.http as { cors_origins?: string[]; tls_cert?: string; tls_key?: string; trust_proxy?: boolean | string[] } | undefined) ?? {};
  const tlsPath = (key: 'tls_cert' | 'tls_key'): string | undefined => {
    const fromEnv = envValues[`http.${key}`] as string | undefined;
    if (fromEnv !== undefined) return path.resolve(cwd, fromEnv);
    return raw[key] ? path.resolve(configDir, raw[key]) : undefined;
  };
  const http: NonNullable<HubConfig['http']> = {};
  if (Array.isArray(raw.cors_origins)) http.corsOrigins = raw.cors_origins;
  if (raw.trust_proxy !== undefined && raw.trust_proxy !== false) http.trustProxy = raw.trust_proxy;
  const tlsCert = tlsPath('tls_cert');
  const tlsKey = tlsPath('tls_key');
  if (tlsCert) http.tlsCert = tlsCert;
  if (tlsKey) http.tlsKey = tlsKey;
  return Object.keys(http).length > 0 ? { http } : {};
}

/** `auth.oidc` as OidcSettings (the schema has checked it). */
function oidcSection(file: Record<string, unknown>): Pick<HubConfig, 'oidc'> {
  const raw = (file.auth as { oidc?: Record<string, unknown> } | undefined)?.oidc;
  if (!raw) return {};
  return {
    oidc: {
      issuer: raw.issuer as string,
      clientId: raw.client_id as string,
      clientSecret: raw.client_secret as string,
      ...(typeof raw.redirect_uri === 'string' ? { redirectUri: raw.redirect_uri } : {}),
      ...(Array.isArray(raw.scopes) ? { scopes: raw.scopes as string[] } : {}),
      ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
      ...(typeof raw.create_users === 'boolean' ? { createUsers: raw.create_users } : {}),
    },
  };
}

/**
 * Rules from `automations:` and from `automations/*.yaml` next to the config file (each a list of
 * rules, or one rule), validated by the same rule schema; every rule keeps its file, line and path
 * so the engine's own errors (an unknown device) can name them. Ids must be unique across files.
 */
function readAutomations(
  file: Record<string, unknown>, lines: LineMap, display: string, dir: string | undefined, cwd: string,
): Pick<HubConfig, 'automations' | 'automationSources'> {
  const automations: Record<string, unknown>[] = [];
  const sources: NonNullable<HubConfig['automationSources']> = [];
  const add = (rules: unknown[], fileName: string, fileLines: LineMap, base: string) => {
    rules.forEach((rule, i) => {
      const at = `${base}[${i}]`;
      const below: Record<string, number> = {};
      for (const [k, line] of fileLines) {
        if (k === at) below[''] = line;
        else if (k.startsWith(`${at}.`) || k.startsWith(`${at}[`)) below[k.slice(at.length).replace(/^\./, '')] = line;
      }
      automations.push(rule as Record<string, unknown>);
      sources.push({ file: fileName, line: fileLines.get(at) ?? 1, path: at, lines: below });
    });
  };
  if (Array.isArray(file.automations)) add(file.automations, display || 'joulehub.yaml', lines, 'automations');
  const folder = dir ? path.join(dir, 'automations') : undefined;
  const problems: ConfigProblem[] = [];
  if (folder && existsSync(folder)) {
    for (const name of readdirSync(folder).filter((n) => /\.ya?ml$/.test(n)).sort()) {
      const full = path.join(folder, name);
      const shown = displayName(full, cwd);
      try {
        const { rules, lines: fileLines } = parseAutomationText(readFileSync(full, 'utf8'), shown);
        add(rules, shown, fileLines, '');
      } catch (err) {
        if (err instanceof ConfigFileError) problems.push(...err.problems);
        else throw err;
      }
    }
  }
  const seen = new Map<string, number>();
  automations.forEach((rule, i) => {
    const first = seen.get(String(rule.id));
    if (first === undefined) {
      seen.set(String(rule.id), i);
      return;
    }
    const s = sources[i]!;
    problems.push({
      file: s.file, line: s.lines.id ?? s.line, path: `${s.path}.id`,
      message: `"${String(rule.id)}" is already used (${sources[first]!.file}:${sources[first]!.line}); give each rule a unique id`,
    });
  });
  if (problems.length) throw new ConfigFileError(problems);
  return automations.length ? { automations, automationSources: sources } : {};
}

const validateRuleList = createAjv().compile({ type: 'array', items: automationRuleSchema });

/** Parses an automations/*.yaml file: a list of rules (or one rule), checked by the rule schema. */
export function parseAutomationText(text: string, display: string): { rules: Record<string, unknown>[]; lines: LineMap } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigFileError(doc.errors.map((e) => ({
      file: display, line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line, path: '', message: e.message.split('\n')[0],
    })));
  }
  let lines: LineMap = new Map();
  if (doc.contents) collectLines(doc.contents as Node, '', lines, lineCounter);
  let data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (data === null || data === undefined) return { rules: [], lines };
  if (!Array.isArray(data)) {
    // One rule in the file: address it as [0], like a one-item list.
    data = [data];
    lines = new Map([...lines].map(([k, v]) => [k === '' ? '[0]' : `[0]${k.startsWith('[') ? '' : '.'}${k}`, v]));
  }
  if (!validateRuleList(data)) {
    throw new ConfigFileError(ajvProblems(validateRuleList.errors).map((p) => ({
      file: display, line: lineOf(lines, p.path) ?? 1, path: p.path, message: p.message,
    })));
  }
  return { rules: data as Record<string, unknown>[], lines };
}


/** Parses and validates the text of a config file; throws ConfigFileError naming `display`. */
export function parseConfigText(text: string, display: string): { data: Record<string, unknown>; lines: LineMap } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigFileError(doc.errors.map((e) => ({
      file: display,
      line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
      path: '',
      message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
    })));
  }
  const lines: LineMap = new Map();
  if (doc.contents) collectLines(doc.contents as Node, '', lines, lineCounter);
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (data === null || data === undefined) return { data: {}, lines };
  if (!validateFile(data)) {
    const problems = ajvProblems(validateFile.errors).map((p) => ({
      file: display, line: lineOf(lines, p.path) ?? 1, path: p.path, message: p.message,
    }));
    throw new ConfigFileError(problems);
  }
  return { data: data as Record<string, unknown>, lines };
}

/** Line of `p` or of its nearest ancestor that has one. */
export function lineOf(lines: LineMap | Record<string, number>, p: string): number | undefined {
  const get = (k: string) => (lines instanceof Map ? lines.get(k) : lines[k]);
  let cur = p;
  for (;;) {
    const line = get(cur);
    if (line !== undefined) return line;
    const cut = Math.max(cur.lastIndexOf('.'), cur.lastIndexOf('['));
    if (cut <= 0) return get('');
    cur = cur.slice(0, cut);
  }
}

function collectLines(node: Node, at: string, lines: LineMap, lc: LineCounter): void {
  if (node.range) lines.set(at, lc.linePos(node.range[0]).line);
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const child = /^[A-Za-z_$][\w$-]*$/.test(key) ? (at ? `${at}.${key}` : key) : `${at}[${JSON.stringify(key)}]`;
      const keyNode = pair.key as Node | null;
      if (keyNode && keyNode.range) lines.set(child, lc.linePos(keyNode.range[0]).line);
      if (pair.value && typeof pair.value === 'object') {
        const before = lines.get(child);
        collectLines(pair.value as Node, child, lines, lc);
        // A key's own line is where the user looks, even when its value starts on the next line.
        if (before !== undefined) lines.set(child, before);
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (item && typeof item === 'object') collectLines(item as Node, `${at}[${i}]`, lines, lc);
    });
  }
}

function toIntegrationConfig(raw: Record<string, unknown>, i: number, file: string, lines: LineMap): IntegrationConfig {
  const base = `integrations[${i}]`;
  const below: Record<string, number> = {};
  for (const [k, line] of lines) {
    if (k === base) below[''] = line;
    else if (k.startsWith(`${base}.`)) below[k.slice(base.length + 1)] = line;
  }
  const entry: IntegrationConfig = {
    id: raw.id as string,
    config: (raw.config as Record<string, unknown> | undefined) ?? {},
    source: { file: file || 'joulehub.yaml', line: lines.get(base) ?? 1, path: base, lines: below },
  };
  if (typeof raw.name === 'string') entry.name = raw.name;
  if (typeof raw.enabled === 'boolean') entry.enabled = raw.enabled;
  if (typeof raw.package === 'string') entry.package = raw.package;
  return entry;
}

const ENV_KEYS = Object.entries(configSchema.properties)
  .filter(([, s]) => 'x-env' in s)
  .map(([key, s]) => ({ key, name: (s as { 'x-env': string })['x-env'], schema: s as Record<string, unknown> }))
  // Options of a section (`mqtt.url`) may come from the environment too; their key is the dotted path.
  .concat(Object.entries(configSchema.properties.mqtt.properties)
    .filter(([, s]) => 'x-env' in s)
    .map(([key, s]) => ({ key: `mqtt.${key}`, name: (s as { 'x-env': string })['x-env'], schema: s as Record<string, unknown> })))
  .concat(Object.entries(configSchema.properties.http.properties)
    .filter(([, s]) => 'x-env' in s)
    .map(([key, s]) => ({ key: `http.${key}`, name: (s as { 'x-env': string })['x-env'], schema: s as Record<string, unknown> })));

const envValidators = new Map(ENV_KEYS.map(({ key, schema }) => [key, createAjv().compile(schema)]));

function readEnv(env: Record<string, string | undefined>, problems: ConfigProblem[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, name, schema } of ENV_KEYS) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (schema.type === 'integer') value = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    if (key === 'tz' && !isValidTimeZone(raw)) {
      problems.push({ file: 'environment', path: name, message: `must be a valid IANA time zone like Europe/Berlin (got "${raw}")` });
      continue;
    }
    const validate = envValidators.get(key)!;
    if (!validate(value)) {
      for (const p of ajvProblems(validate.errors)) {
        problems.push({ file: 'environment', path: name, message: `${p.message} (got "${raw}")` });
      }
      continue;
    }
    out[key] = value;
  }
  return out;
}

function parseArgs(argv: string[]): { config?: string; demo?: boolean } {
  const out: { config?: string; demo?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config' || a === '-c') out.config = argv[++i];
    else if (a.startsWith('--config=')) out.config = a.slice('--config='.length);
    else if (a === '--demo') out.demo = true;
  }
  return out;
}

function displayName(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export function systemTimeZone(): string {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return tz && isValidTimeZone(tz) ? tz : 'UTC';
}
