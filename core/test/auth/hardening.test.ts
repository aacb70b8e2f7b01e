/**
 * Hardening: no secret in any log line, the login rate limit with its growing back-off, the audit
 * log, CORS closed by default, and the WebSocket origin check for cookie sessions.
 */
import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { LoginLimiter } from '../../src/auth/login-limiter.js';
import { ManualClock } from '../../src/hub/clock.js';
import { createLogger, scrubSecretText } from '../../src/hub/logger.js';
import { describeDb } from '../support/db.js';
import { expectProblem, startApi, type ApiHarness } from '../api/harness.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger({ level: 'trace', destination }), lines };
}

it('backs off per account and per address, doubling the wait with every further failure', async () => {
  const clock = new ManualClock('2026-01-01T00:00:00Z');
  const limiter = new LoginLimiter(clock, { accountFreeFailures: 3, addressFreeFailures: 10, baseDelayMs: 1000 });
  for (let i = 0; i < 3; i++) limiter.failed('a@example.org', '10.0.0.1');
  expect(limiter.waitMs('a@example.org', '10.0.0.1')).toBe(0);
  limiter.failed('A@example.org', '10.0.0.2');
  expect(limiter.waitMs('a@example.org', '10.0.0.9')).toBe(1000); // keyed by account, any address, any case
  limiter.failed('a@example.org', '10.0.0.3');
  expect(limiter.waitMs('a@example.org', null)).toBe(2000);
  limiter.failed('a@example.org', '10.0.0.3');
  expect(limiter.waitMs('a@example.org', null)).toBe(4000);
  // Another account from a fresh address is not held up; a success clears the account only.
  expect(limiter.waitMs('b@example.org', '10.0.0.4')).toBe(0);
  limiter.succeeded('a@example.org');
  expect(limiter.waitMs('a@example.org', null)).toBe(0);

  // One address guessing many accounts is held up by its own count.
  for (let i = 0; i < 11; i++) limiter.failed(`user${i}@example.org`, '192.0.2.7');
  expect(limiter.waitMs('fresh@example.org', '192.0.2.7')).toBe(1000);
  await clock.advance(1000);
  expect(limiter.waitMs('fresh@example.org', '192.0.2.7')).toBe(0);
});

it('scrubs hub secrets and bearer credentials out of text', () => {
  expect(scrubSecretText('GET /x?t=jht_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG ok'))
    .toBe('GET /x?t=jht_[redacted] ok');
  expect(scrubSecretText('header Authorization: Bearer abc.def.ghi')).toBe('header Authorization: Bearer [redacted]');
  expect(scrubSecretText('cookie joulehub_session=jhs_0123456789abcdef')).toBe('cookie joulehub_session=jhs_[redacted]');
});

describeDb('hardening', (target) => {
  let h: ApiHarness | undefined;
  afterEach(async () => { await h?.close(); h = undefined; });

  it('leaves no password, token or cookie in the logs of a login, token and ingest flow', async () => {
    const { log, lines } = capture();
    h = await startApi(target.url, { log, server: { logRequests: true } });
    const password = 'Tr0ub4dor&3-horse';
    const newPassword = 'correct-horse-battery-staple';
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/users', payload: { email: 'meter@example.org', password } });
    expect(created.statusCode).toBe(201);
    expect((await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/nothing', payload: { owner: null } })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id: 'meter', name: 'Meter' } })).statusCode).toBe(201);
    expect((await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/meter', payload: { owner: created.json().id } })).statusCode).toBe(200);

    const anon = { authorization: '' };
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: anon, payload: { email: 'meter@example.org', password: `${password}x` } })).statusCode).toBe(401);
    const login = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: anon, payload: { email: 'meter@example.org', password } });
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    const sessionSecret = cookie.split('=')[1];
    const tokenRes = await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: { cookie }, payload: { name: 'meter', scopes: ['ingest', 'read'] } });
    const token = tokenRes.json().token as string;
    const bearer = { authorization: `Bearer ${token}` };
    const ingest = await h.app.inject({ method: 'POST', url: '/api/v1/devices/meter/readings', headers: bearer, payload: { units: 'W', data: [{ datetime: '2018-08-24T12:00:00Z', value: 5 }] } });
    expect(ingest.statusCode, ingest.body).toBe(200);
    // A bad token, a token in a URL, a failed password change and a WebSocket with the token.
    expect((await h.app.inject({ url: `/api/v1/devices?token=${token}`, headers: { authorization: `Bearer ${token}x` } })).statusCode).toBe(401);
    expect((await h.app.inject({ url: `/api/v1/nothing/${token}`, headers: bearer })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { cookie }, payload: { current_password: password, new_password: 'short' } })).statusCode).toBe(400);
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { cookie }, payload: { current_password: password, new_password: newPassword } })).statusCode).toBe(204);
    const ws = await h.app.injectWS('/api/v1/ws', { headers: bearer });
    ws.terminate();
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie } })).statusCode).toBe(204);
    await h.hub.flush();

    const text = lines.join('\n');
    // The flow was logged (so the check below looks at something) …
    expect(lines.filter((l) => l.includes('/api/v1/auth/login')).length).toBeGreaterThanOrEqual(2);
    expect(text).toContain('/api/v1/devices/meter/readings');
    // … and nothing secret is in it.
    for (const secret of [password, newPassword, token, token.slice(4), sessionSecret, sessionSecret.slice(4)]) {
      expect(text.includes(secret), `a log line contains ${secret.slice(0, 6)}…`).toBe(false);
    }
  });

  it('answers a locked-out login with 429 and Retry-After, also for the right password, and audits every attempt', async () => {
    h = await startApi(target.url, { auth: { loginLimit: { accountFreeFailures: 2, baseDelayMs: 10_000 } } });
    const alice = await h.createUser({ email: 'alice@example.org', password: 'alice password' });
    const login = (password: string, ip = '198.51.100.1') => h!.app.inject({
      method: 'POST', url: '/api/v1/auth/login', headers: { authorization: '' }, remoteAddress: ip, payload: { email: alice.email, password },
    });
    expectProblem(await login('wrong 1'), 401);
    expectProblem(await login('wrong 2'), 401);
    expectProblem(await login('wrong 3'), 401); // the third failure locks the account for 10 s
    const locked = expectProblem(await login('alice password', '198.51.100.2'), 429, 'TOO_MANY_ATTEMPTS');
    expect(locked.detail).toMatch(/wait/);
    expect((await login('alice password')).headers['retry-after']).toBe('10');
    await h.clock.advance(10_000);
    expect((await login('alice password')).statusCode).toBe(200);

    const audit = await h.app.inject({ url: '/api/v1/audit?limit=10' });
    expect(audit.statusCode).toBe(200);
    const entries = (audit.json() as { data: { action: string; target: string; ip: string; detail: { reason?: string }; actor_email: string | null }[] }).data;
    expect(entries.map((e) => [e.action, e.detail.reason ?? null])).toEqual([
      ['login', null],
      ['login_failed', 'rate_limited'],
      ['login_failed', 'rate_limited'],
      ['login_failed', 'bad_credentials'],
      ['login_failed', 'bad_credentials'],
      ['login_failed', 'bad_credentials'],
    ]);
    expect(entries[0]).toMatchObject({ target: alice.id, ip: '198.51.100.1', actor_email: 'alice@example.org' });
    expect(entries[3]).toMatchObject({ target: 'alice@example.org', ip: '198.51.100.1' });
    expect(JSON.stringify(entries)).not.toContain('wrong');
  });

  it('audits admin actions with who, what and from where', async () => {
    h = await startApi(target.url);
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/users', remoteAddress: '203.0.113.5', payload: { email: 'x@example.org', password: 'secret password' } });
    const id = created.json().id as string;
    await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: { role: 'admin', password: 'another secret' } });
    await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id: 'plug', name: 'Plug' } });
    await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/plug', payload: { owner: id } });
    await h.app.inject({ method: 'PUT', url: '/api/v1/settings/registration', payload: { registration: 'open' } });
    await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${id}` });
    const entries = (await h.app.inject({ url: '/api/v1/audit' })).json().data as { action: string; actor_id: string; actor_email: string; target: string | null; ip: string; detail: Record<string, unknown>; at: string }[];
    expect(entries.map((e) => e.action)).toEqual(['user_deleted', 'registration_changed', 'device_owner_changed', 'user_updated', 'user_created']);
    for (const e of entries) expect(e).toMatchObject({ actor_id: h.admin!.id, actor_email: 'admin@harness.test', at: '2018-08-25T00:00:00Z' });
    expect(entries[4]).toMatchObject({ target: id, ip: '203.0.113.5', detail: { email: 'x@example.org', role: 'user' } });
    expect(entries[3].detail).toEqual({ fields: ['password', 'role'], role: 'admin' });
    expect(entries[2].detail).toEqual({ from: null, to: id });
    expect(JSON.stringify(entries)).not.toContain('secret');
    // Filters and paging.
    expect((await h.app.inject({ url: '/api/v1/audit?action=user_updated' })).json().data).toHaveLength(1);
    const page = (await h.app.inject({ url: `/api/v1/audit?limit=2&before=${(entries[1] as unknown as { id: number }).id}` })).json().data as { action: string }[];
    expect(page.map((e) => e.action)).toEqual(['device_owner_changed', 'user_updated']);
  });

  it('keeps CORS closed by default and opens it only to configured origins', async () => {
    h = await startApi(target.url);
    const preflight = (origin: string) => h!.app.inject({
      method: 'OPTIONS', url: '/api/v1/devices', headers: { origin, 'access-control-request-method': 'GET' },
    });
    const closed = await h.app.inject({ url: '/api/v1/devices', headers: { origin: 'https://evil.example' } });
    expect(closed.headers['access-control-allow-origin']).toBeUndefined();
    expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    await h.close();

    h = await startApi(target.url, { server: { corsOrigins: ['https://energy.example.org'] } });
    const allowed = await preflight('https://energy.example.org');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://energy.example.org');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a cookie-authenticated WebSocket from a foreign origin (cross-site WebSocket hijacking)', async () => {
    h = await startApi(target.url);
    const alice = await h.createUser();
    await expect(h.app.injectWS('/api/v1/ws', { headers: { ...alice.headers, origin: 'https://evil.example', host: 'hub.local' } })).rejects.toThrow(/403/);
    const ws = await h.app.injectWS('/api/v1/ws', { headers: { ...alice.headers, origin: 'http://hub.local', host: 'hub.local' } });
    ws.terminate();
  });

  it('closes a WebSocket when the session or token it opened with ends, and only that one', async () => {
    h = await startApi(target.url);
    const alice = await h.createUser();
    const bob = await h.createUser();
    const token = await h.createToken(alice.headers, { scopes: ['read'] });
    const open = async (headers: Record<string, string>) => {
      const ws = await h!.app.injectWS('/api/v1/ws', { headers });
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      return { ws, closed, state: () => ws.readyState };
    };
    const bySession = await open(alice.headers);
    const byToken = await open(token.headers);
    const bobs = await open(bob.headers);
    try {
      expect((await h.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: alice.headers })).statusCode).toBe(204);
      expect(await bySession.closed).toBe(4401);
      expect(byToken.state()).toBe(byToken.ws.OPEN);
      expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${token.id}`, headers: (await h.createUser()).headers })).statusCode).toBe(404);
      expect(byToken.state()).toBe(byToken.ws.OPEN);
      const session = await h.hub.auth.createSession(alice.id);
      expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${token.id}`, headers: { cookie: `joulehub_session=${session.secret}` } })).statusCode).toBe(204);
      expect(await byToken.closed).toBe(4401);
      // Promoting bob closes his socket so it reconnects with admin rights.
      expect(bobs.state()).toBe(bobs.ws.OPEN);
      expect((await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${bob.id}`, payload: { role: 'admin' } })).statusCode).toBe(200);
      expect(await bobs.closed).toBe(4401);
    } finally {
      for (const c of [bySession, byToken, bobs]) c.ws.terminate();
    }
  });

  it('limits request bodies (1 MiB by default)', async () => {
    h = await startApi(target.url);
    const huge = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { authorization: '' }, payload: { email: 'a@example.org', password: 'x'.repeat(1_100_000) } });
    expectProblem(huge, 413, 'PAYLOAD_TOO_LARGE');
  });
});
