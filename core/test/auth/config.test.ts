/** The `http` options of joulehub.yaml that access depends on: CORS origins and trusted proxies. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ConfigFileError, loadConfig } from '../../src/hub/config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'jh-auth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string) {
  const file = path.join(dir, 'joulehub.yaml');
  writeFileSync(file, yaml);
  return loadConfig({ configFile: file, env: {}, cwd: dir });
}

it('reads http.cors_origins and http.trust_proxy; both are off by default', () => {
  expect(load('port: 9000\n').http?.corsOrigins).toBeUndefined();
  expect(load('port: 9000\n').http?.trustProxy).toBeUndefined();
  const config = load('http:\n  cors_origins: [https://energy.example.org]\n  trust_proxy: [127.0.0.1, 10.0.0.0/8]\n');
  expect(config.http).toMatchObject({ corsOrigins: ['https://energy.example.org'], trustProxy: ['127.0.0.1', '10.0.0.0/8'] });
  expect(load('http:\n  trust_proxy: true\n').http?.trustProxy).toBe(true);
});

it('names the line of a bad CORS origin', () => {
  expect(() => load('http:\n  cors_origins:\n    - energy.example.org\n')).toThrow(ConfigFileError);
  expect(() => load('http:\n  cors_origins:\n    - energy.example.org\n')).toThrow(/joulehub\.yaml:3: http\.cors_origins\[0\]/);
});
