/**
 * HTTPS with a self-signed certificate made by openssl at test time: a login over TLS gets a Secure
 * session cookie that then works; `joulehub start` serves HTTPS from JOULEHUB_TLS_CERT/KEY.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTls } from '../../src/auth/tls.js';
import { createTestDatabase, describeDb, type TestDatabase } from '../support/db.js';
import { startApi, type ApiHarness } from '../api/harness.js';

const BIN = fileURLToPath(new URL('../../bin/joulehub.js', import.meta.url));
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) process.stderr.write('[joulehub tests] skipping HTTPS tests: openssl is not installed\n');

const dir = mkdtempSync(path.join(tmpdir(), 'jh-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');

beforeAll(() => {
  if (!hasOpenssl) return;
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** An https request that trusts only our self-signed certificate. */
function request(url: string, opts: { method?: string; headers?: Record<string, string>; json?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
    const req = https.request(url, {
      method: opts.method ?? 'GET',
      ca: readFileSync(certFile),
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += String(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function sessionCookie(answer: Answer): string {
  const line = [answer.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('joulehub_session='));
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(answer.headers)}`);
  return line;
}

describe.skipIf(!hasOpenssl)('HTTPS certificate files', () => {
  it('loads a certificate and key, and names the file or option that is wrong', () => {
    expect(loadTls({})).toBeUndefined();
    expect(loadTls({ http: { tlsCert: certFile, tlsKey: keyFile } })?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(() => loadTls({ http: { tlsCert: certFile } })).toThrow(/needs both http\.tls_cert and http\.tls_key.*only the certificate/u);
    expect(() => loadTls({ http: { tlsCert: certFile, tlsKey: path.join(dir, 'missing.pem') } }))
      .toThrow(new RegExp(`http\\.tls_key: cannot read ${path.join(dir, 'missing.pem').replaceAll('.', '\\.')} \\(ENOENT\\)`, 'u'));
    const garbage = path.join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key');
    expect(() => loadTls({ http: { tlsCert: certFile, tlsKey: garbage } })).toThrow(/not a usable PEM certificate and key/u);
  });
});

describeDb('HTTPS', (target) => {
  describe.skipIf(!hasOpenssl)('with a self-signed certificate', () => {
    let h: ApiHarness | undefined;
    let child: ChildProcess | undefined;
    let db: TestDatabase | undefined;
    afterEach(async () => {
      child?.kill('SIGTERM');
      if (child && child.exitCode === null) await new Promise((resolve) => child!.once('exit', resolve));
      child = undefined;
      await h?.close();
      h = undefined;
      await db?.drop();
      db = undefined;
    });

    it('logs in over TLS: the session cookie is Secure, HttpOnly, SameSite=Lax and works; untrusted clients are refused', async () => {
      h = await startApi(target.url, { server: { https: { cert: readFileSync(certFile), key: readFileSync(keyFile) } } });
      const user = await h.createUser({ email: 'tls@example.org', password: 'a long enough password' });
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `https://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;

      const login = await request(`${base}/api/v1/auth/login`, { method: 'POST', json: { email: user.email, password: user.password } });
      expect(login.status, login.body).toBe(200);
      const cookie = sessionCookie(login);
      expect(cookie).toMatch(/; Secure/u);
      expect(cookie).toMatch(/; HttpOnly/u);
      expect(cookie).toMatch(/; SameSite=Lax/u);

      const me = await request(`${base}/api/v1/auth/me`, { headers: { cookie: cookie.split(';')[0] } });
      expect(me.status, me.body).toBe(200);
      expect(JSON.parse(me.body)).toMatchObject({ user: { email: 'tls@example.org' }, via: 'session' });

      // A client that does not trust the certificate gets no answer at all.
      await expect(fetch(`${base}/api/v1/health`)).rejects.toThrow();
    });

    it('`joulehub start` serves HTTPS from JOULEHUB_TLS_CERT/KEY', async () => {
      db = await createTestDatabase(target.url);
      const dataDir = mkdtempSync(path.join(dir, 'data-'));
      child = spawn(process.execPath, [BIN, 'start'], {
        cwd: dataDir,
        env: {
          ...process.env, JOULEHUB_CONFIG: '', DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', MQTT_PORT: '0',
          JOULEHUB_DATA_DIR: dataDir, LOG_LEVEL: 'info', JOULEHUB_TLS_CERT: certFile, JOULEHUB_TLS_KEY: keyFile,
          JOULEHUB_ADMIN_EMAIL: 'root@example.org', JOULEHUB_ADMIN_PASSWORD: 'a long enough password',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "running at" line within 60 s:\n${output}`)), 60_000);
        const onData = (chunk: Buffer) => {
          output += String(chunk);
          const m = /Joulehub is running at (https?:\/\/[^\s"]+)/u.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child!.stdout!.on('data', onData);
        child!.stderr!.on('data', onData);
        child!.once('exit', (code) => reject(new Error(`joulehub exited with ${code}:\n${output}`)));
      });
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/u);
      const login = await request(`${url}/api/v1/auth/login`, { method: 'POST', json: { email: 'root@example.org', password: 'a long enough password' } });
      expect(login.status, login.body).toBe(200);
      expect(sessionCookie(login)).toMatch(/; Secure/u);
    }, 90_000);
  });
});
