import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigFileError, loadConfig } from '../../src/hub/config.js';

const made: string[] = [];
afterAll(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'jh-config-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

function errorOf(fn: () => unknown): ConfigFileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigFileError);
    return err as ConfigFileError;
  }
  throw new Error('expected a ConfigFileError');
}

describe('loadConfig', () => {
  it('runs on defaults with no file and no environment', () => {
    const cwd = dirWith({});
    const config = loadConfig({ cwd, env: {} });
    expect(config).toMatchObject({
      port: 8910, host: '0.0.0.0', dataDir: path.join(cwd, 'data'), logLevel: 'info', integrations: [], demo: false, configDir: cwd,
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.configFile).toBeUndefined();
    expect(config.tz).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('reads ./joulehub.yaml and lets the environment override it', () => {
    const cwd = dirWith({
      'joulehub.yaml': 'port: 9000\nhost: 127.0.0.1\ntz: Europe/Berlin\nlog_level: debug\nintegrations:\n  - id: csv-replay\n    name: house\n    config: { preset: demo }\n',
    });
    const fromFile = loadConfig({ cwd, env: {} });
    expect(fromFile).toMatchObject({ port: 9000, host: '127.0.0.1', tz: 'Europe/Berlin', logLevel: 'debug', configFile: path.join(cwd, 'joulehub.yaml') });
    expect(fromFile.integrations).toEqual([
      expect.objectContaining({ id: 'csv-replay', name: 'house', config: { preset: 'demo' }, source: expect.objectContaining({ file: 'joulehub.yaml', line: 6, path: 'integrations[0]' }) }),
    ]);

    const overridden = loadConfig({
      cwd,
      env: { PORT: '8111', HOST: '::', TZ: 'Asia/Kathmandu', LOG_LEVEL: 'warn', JOULEHUB_DATA_DIR: 'var/jh', DATABASE_URL: 'postgres://u:p@db:5432/jh' },
    });
    expect(overridden).toMatchObject({
      port: 8111, host: '::', tz: 'Asia/Kathmandu', logLevel: 'warn', dataDir: path.join(cwd, 'var/jh'), databaseUrl: 'postgres://u:p@db:5432/jh',
    });
  });

  it('takes the file from --config, then JOULEHUB_CONFIG', () => {
    const cwd = dirWith({ 'a.yaml': 'port: 1111\n', 'b.yaml': 'port: 2222\n', 'joulehub.yaml': 'port: 3333\n' });
    expect(loadConfig({ cwd, env: { JOULEHUB_CONFIG: 'b.yaml' }, argv: ['start', '--config', 'a.yaml'] }).port).toBe(1111);
    expect(loadConfig({ cwd, env: { JOULEHUB_CONFIG: 'b.yaml' } }).port).toBe(2222);
    expect(loadConfig({ cwd, env: {} }).port).toBe(3333);
    expect(loadConfig({ cwd, env: {}, argv: ['--demo'] }).demo).toBe(true);
  });

  it('names a missing config file', () => {
    const cwd = dirWith({});
    expect(errorOf(() => loadConfig({ cwd, env: {}, argv: ['--config', 'nope.yaml'] })).message).toBe('nope.yaml: config file does not exist');
  });

  it('reports YAML syntax errors with file and line', () => {
    const cwd = dirWith({ 'joulehub.yaml': 'port: 8910\nintegrations:\n  - id: csv-replay\n    config: [unclosed\n' });
    const err = errorOf(() => loadConfig({ cwd, env: {} }));
    expect(err.message).toMatch(/^joulehub\.yaml:\d+: /);
    expect(err.problems[0].line).toBeGreaterThanOrEqual(4);
  });

  it('reports every schema violation on its own line with file, line and path', () => {
    const yaml = [
      'port: 99999', // 1
      'log_level: chatty', // 2
      'tz: Mars/Base', // 3
      'integrations:', // 4
      '  - id: csv-replay', // 5
      '    colour: blue', // 6
      '  - name: second', // 7
      '',
    ].join('\n');
    const cwd = dirWith({ 'joulehub.yaml': yaml });
    const lines = errorOf(() => loadConfig({ cwd, env: {} })).message.split('\n').sort();
    expect(lines).toEqual([
      'joulehub.yaml:1: port must be <= 65535',
      'joulehub.yaml:2: log_level must be one of: "fatal", "error", "warn", "info", "debug", "trace", "silent"',
      'joulehub.yaml:3: tz must be a valid IANA time zone (got "Mars/Base")',
      'joulehub.yaml:6: integrations[0].colour is not a known option',
      'joulehub.yaml:7: integrations[1].id is required',
    ]);
  });

  it('refuses two instances with the same name', () => {
    const cwd = dirWith({ 'joulehub.yaml': 'integrations:\n  - id: csv-replay\n  - id: csv-replay\n' });
    expect(errorOf(() => loadConfig({ cwd, env: {} })).message).toBe(
      'joulehub.yaml:3: integrations[1].name "csv-replay" is already used by integrations[0]; give each instance a unique name',
    );
  });

  it('names bad environment variables', () => {
    const cwd = dirWith({});
    const err = errorOf(() => loadConfig({ cwd, env: { TZ: 'Mars/Base', PORT: 'eighty', LOG_LEVEL: 'loud' } }));
    expect(err.message.split('\n').sort()).toEqual([
      'environment: LOG_LEVEL must be one of: "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")',
      'environment: PORT must be integer (got "eighty")',
      'environment: TZ must be a valid IANA time zone like Europe/Berlin (got "Mars/Base")',
    ]);
  });

  it('keeps the line of every option of an integration entry for the plugin loader', () => {
    const cwd = dirWith({ 'joulehub.yaml': 'integrations:\n  - id: csv-replay\n    config:\n      speed: -1\n      columns:\n        - power\n' });
    const [entry] = loadConfig({ cwd, env: {} }).integrations;
    expect(entry.source?.lines).toMatchObject({ '': 2, config: 3, 'config.speed': 4, 'config.columns': 5, 'config.columns[0]': 6 });
  });
});
