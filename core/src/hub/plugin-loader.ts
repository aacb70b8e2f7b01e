/**
 * Finds an integration package, checks its manifest against this hub's SDK, and validates one
 * instance's options against the integration's JSON Schema. Every problem is a ConfigError whose
 * message names the user's file, line and path (`joulehub.yaml:8: integrations[1].config.file is required`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ValidateFunction } from 'ajv';
import semver from 'semver';
import { SDK_VERSION } from '../sdk/define.js';
import { ConfigError } from '../sdk/errors.js';
import type { IntegrationDefinition, IotClass } from '../sdk/types.js';
import { lineOf } from './config.js';
import type { IntegrationConfig } from './types.js';
import { ajvProblems, createAjv } from './validation.js';

const IOT_CLASSES: readonly IotClass[] = ['local_push', 'local_polling', 'file', 'cloud_polling'];

/** Where an entry's problems are reported: `file:line: path` of the entry or one of its options. */
function where(entry: IntegrationConfig, sub = ''): string {
  const base = entry.source?.path ?? `integrations[${JSON.stringify(entry.name ?? entry.id)}]`;
  const full = sub ? `${base}.${sub}` : base;
  if (!entry.source) return `config: ${full}`;
  const line = (entry.source.lines && lineOf(entry.source.lines, sub)) ?? entry.source.line;
  return `${entry.source.file}:${line}: ${full}`;
}

function problem(code: string, entry: IntegrationConfig, sub: string, message: string, details: Record<string, unknown> = {}): ConfigError {
  return new ConfigError(code, `${where(entry, sub)} ${message}`, { integration: entry.id, ...details });
}

/** The module specifier (or file URL) to import for an entry. */
export function resolveIntegrationModule(entry: IntegrationConfig, configDir: string): string {
  const pkg = entry.package;
  if (pkg && (pkg.startsWith('.') || path.isAbsolute(pkg))) {
    const target = path.resolve(configDir, pkg);
    return pathToFileURL(entryFile(target, entry)).href;
  }
  return pkg ?? `@joulehub/integration-${entry.id}`;
}

/** For a directory: its package.json's export/main, else index.ts/js (directly or under src/). */
function entryFile(target: string, entry: IntegrationConfig): string {
  if (!existsSync(target)) throw problem('INTEGRATION_NOT_FOUND', entry, 'package', `"${entry.package}" does not exist (resolved to ${target})`);
  if (!statSync(target).isDirectory()) return target;
  const manifest = path.join(target, 'package.json');
  if (existsSync(manifest)) {
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; main?: string };
    const exp = typeof json.exports === 'string' ? json.exports : pickExport(json.exports);
    const main = exp ?? json.main;
    if (main) return path.join(target, main);
  }
  for (const candidate of ['index.ts', 'index.js', 'src/index.ts', 'src/index.js']) {
    if (existsSync(path.join(target, candidate))) return path.join(target, candidate);
  }
  throw problem('INTEGRATION_NOT_FOUND', entry, 'package', `"${entry.package}" has no entry point (package.json exports/main, index.ts or src/index.ts)`);
}

function pickExport(exports: unknown): string | undefined {
  if (!exports || typeof exports !== 'object') return undefined;
  const dot = (exports as Record<string, unknown>)['.'] ?? exports;
  if (typeof dot === 'string') return dot;
  if (dot && typeof dot === 'object') {
    for (const cond of ['import', 'default', 'node']) {
      const v = (dot as Record<string, unknown>)[cond];
      if (typeof v === 'string') return v;
    }
  }
  return undefined;
}

function isNotFound(err: unknown, spec: string): boolean {
  const e = err as { code?: string; message?: string };
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string'
    && e.message.includes(spec.startsWith('file:') ? new URL(spec).pathname : spec);
}

/** Imports the integration module and checks its definition and manifest; throws ConfigError. */
export async function loadIntegration(entry: IntegrationConfig, opts: { configDir: string; sdkVersion?: string }): Promise<IntegrationDefinition> {
  const spec = resolveIntegrationModule(entry, opts.configDir);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (err) {
    if (!isNotFound(err, spec) || spec.startsWith('file:')) {
      throw problem('INTEGRATION_LOAD_FAILED', entry, entry.package ? 'package' : 'id', `could not be loaded: ${(err as Error).message}`, { cause: String(err) });
    }
    // Not next to the hub: try the user's project (node_modules beside the config file).
    try {
      const fromConfig = createRequire(path.join(opts.configDir, 'joulehub.yaml')).resolve(spec);
      mod = (await import(pathToFileURL(fromConfig).href)) as Record<string, unknown>;
    } catch {
      throw problem('INTEGRATION_NOT_FOUND', entry, entry.package ? 'package' : 'id',
        `names no installed integration: package "${spec}" was not found (install it, or set \`package:\` to its name or path)`);
    }
  }
  const def = (mod.default ?? mod.integration) as IntegrationDefinition | undefined;
  checkDefinition(def, entry, spec, opts.sdkVersion ?? SDK_VERSION);
  return def;
}

function checkDefinition(def: IntegrationDefinition | undefined, entry: IntegrationConfig, spec: string, sdkVersion: string): asserts def is IntegrationDefinition {
  const sub = entry.package ? 'package' : 'id';
  if (!def || typeof def !== 'object' || typeof def.setup !== 'function' || !def.manifest || typeof def.manifest !== 'object') {
    throw problem('INTEGRATION_INVALID', entry, sub, `"${spec}" does not default-export defineIntegration({ manifest, configSchema, setup })`);
  }
  const m = def.manifest;
  const bad: string[] = [];
  if (typeof m.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(m.id)) bad.push('manifest.id must be kebab-case');
  if (typeof m.name !== 'string' || !m.name) bad.push('manifest.name is required');
  if (typeof m.version !== 'string' || !semver.valid(m.version)) bad.push(`manifest.version ${JSON.stringify(m.version)} is not a semver version`);
  if (typeof m.sdk !== 'string' || !semver.validRange(m.sdk)) bad.push(`manifest.sdk ${JSON.stringify(m.sdk)} is not a semver range`);
  if (!IOT_CLASSES.includes(m.iotClass)) bad.push(`manifest.iotClass must be one of ${IOT_CLASSES.join(', ')}`);
  if (!def.configSchema || def.configSchema.type !== 'object') bad.push('configSchema must be a JSON Schema with type "object"');
  if (bad.length) throw problem('INTEGRATION_INVALID', entry, sub, `"${spec}" is not a valid integration: ${bad.join('; ')}`);
  if (m.id !== entry.id) {
    throw problem('INTEGRATION_ID_MISMATCH', entry, sub, `"${spec}" provides integration "${m.id}", not "${entry.id}"`);
  }
  if (!semver.satisfies(sdkVersion, m.sdk, { includePrerelease: true })) {
    throw problem('INTEGRATION_SDK_MISMATCH', entry, sub,
      `${m.id} ${m.version} was built for Joulehub SDK ${m.sdk}, but this hub provides SDK ${sdkVersion}; install a version of the integration that supports SDK ${semver.major(sdkVersion)}.x`,
      { sdk: m.sdk, hubSdk: sdkVersion });
  }
}

const validators = new WeakMap<object, { withDefaults: ValidateFunction; asWritten: ValidateFunction }>();
const ajv = createAjv({ useDefaults: true });
const ajvAsWritten = createAjv();

/**
 * Validates an instance's options against the integration's schema, filling in defaults; returns
 * the options to hand to setup. Throws one ConfigError listing every problem, one line each.
 * A `required` option must be written by the user even when the schema documents a default for
 * it, so required-ness is checked on the options as written, everything else after defaults.
 */
export function validateInstanceConfig(def: IntegrationDefinition, entry: IntegrationConfig): Record<string, unknown> {
  let v = validators.get(def.configSchema);
  if (!v) {
    try {
      v = { withDefaults: ajv.compile(def.configSchema), asWritten: ajvAsWritten.compile(def.configSchema) };
    } catch (err) {
      throw problem('INTEGRATION_INVALID', entry, 'id', `has an invalid config schema: ${(err as Error).message}`);
    }
    validators.set(def.configSchema, v);
  }
  const written = structuredClone(entry.config ?? {});
  const missing = v.asWritten(written) ? [] : (v.asWritten.errors ?? []).filter((e) => e.keyword === 'required');
  const config = structuredClone(entry.config ?? {});
  const valid = v.withDefaults(config);
  if (valid && missing.length === 0) return config;
  const lines = ajvProblems([...missing, ...(valid ? [] : v.withDefaults.errors ?? [])]).map((p) => {
    const sub = p.path === '(root)' ? 'config' : p.path.startsWith('[') ? `config${p.path}` : `config.${p.path}`;
    return `${where(entry, sub)} ${p.message}`;
  });
  throw new ConfigError('INTEGRATION_CONFIG_INVALID', lines.join('\n'), { integration: entry.id, problems: lines });
}
