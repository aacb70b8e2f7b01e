/**
 * Accounts end to end through the API and the CLI: the first admin (onboarding page, environment,
 * `joulehub user add --admin`), login/logout with the session cookie, API tokens, password
 * changes, admin user management, registration and invites.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { ensureAdminFromEnv } from '../../src/auth/bootstrap.js';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { silentLogger } from '../../src/hub/logger.js';
import { describeDb, createTestDatabase, type TestDatabase } from '../support/db.js';
import { expectProblem, startApi, type ApiHarness } from '../api/harness.js';

const BIN = fileURLToPath(new URL('../../bin/joulehub.js', import.meta.url));

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { ...process.env, JOULEHUB_CONFIG: '', LOG_LEVEL: 'error', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** The session cookie a response set, as a request header. */
function cookieOf(res: { headers: Record<string, unknown> }): { cookie: string } {
  const set = ([] as string[]).concat(res.headers['set-cookie'] as string | string[]);
  const c = set.find((v) => v.startsWith('joulehub_session='))!;
  return { cookie: c.split(';')[0] };
}

it('hashes passwords with argon2id and verifies them (and nothing else)', async () => {
  const phc = await hashPassword('correct horse battery');
  expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  expect(await verifyPassword(phc, 'correct horse battery')).toBe(true);
  expect(await verifyPassword(phc, 'correct horse batterY')).toBe(false);
  expect(await verifyPassword('not a hash', 'x')).toBe(false);
  await expect(hashPassword('short')).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
});

describeDb('accounts', (target) => {
  let h: ApiHarness | undefined;
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await h?.close();
    await t?.drop();
    h = undefined;
    t = undefined;
  });

  it('creates the first admin once on the onboarding endpoint, then only login works', async () => {
    h = await startApi(target.url, { admin: false });
    expect((await h.app.inject({ url: '/api/v1/auth/status' })).json()).toEqual({ onboarding: true, registration: 'invite' });
    expectProblem(await h.app.inject({ url: '/api/v1/devices' }), 401, 'UNAUTHORIZED');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/onboarding', payload: { email: 'root@example.org', password: 'short' } }), 400, 'WEAK_PASSWORD');

    const res = await h.app.inject({ method: 'POST', url: '/api/v1/auth/onboarding', payload: { email: 'Root@Example.org', password: 'a long password' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().user).toMatchObject({ email: 'Root@Example.org', role: 'admin' });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i);
    const admin = cookieOf(res);
    expect((await h.app.inject({ url: '/api/v1/devices', headers: admin })).statusCode).toBe(200);

    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/onboarding', payload: { email: 'evil@example.org', password: 'a long password' } }), 409, 'ALREADY_ONBOARDED');
    expect((await h.app.inject({ url: '/api/v1/auth/status' })).json().onboarding).toBe(false);
    // The email is matched without regard to case.
    const login = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'root@EXAMPLE.org', password: 'a long password' } });
    expect(login.statusCode, login.body).toBe(200);
  });

  it('marks the cookie Secure when the request came over TLS (here: through a trusted proxy)', async () => {
    h = await startApi(target.url, { admin: false, server: { trustProxy: true } });
    await h.hub.auth.users.create({ email: 'a@example.org', password: 'a long password' });
    const login = (headers: Record<string, string>) => h!.app.inject({
      method: 'POST', url: '/api/v1/auth/login', headers, payload: { email: 'a@example.org', password: 'a long password' },
    });
    const tls = await login({ 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' });
    expect(tls.statusCode, tls.body).toBe(200);
    expect(String(tls.headers['set-cookie'])).toMatch(/; Secure/);
    expect(String((await login({})).headers['set-cookie'])).not.toMatch(/Secure/);
    // The audit log names the client's address, not the proxy's.
    const entries = await h.hub.auth.audit.list({ action: 'login' });
    expect(entries.map((e) => e.ip)).toContain('203.0.113.9');
  });

  it('creates the first admin from the environment only while no account exists', async () => {
    h = await startApi(target.url, { admin: false });
    const env: NodeJS.ProcessEnv = { JOULEHUB_ADMIN_EMAIL: 'ops@example.org', JOULEHUB_ADMIN_PASSWORD: 'from the environment' };
    expect(await ensureAdminFromEnv(h.hub.auth, env, silentLogger())).toBe('created');
    expect(env.JOULEHUB_ADMIN_PASSWORD).toBeUndefined();
    expect(await h.hub.auth.users.verifyCredentials('ops@example.org', 'from the environment')).toMatchObject({ role: 'admin' });
    const again: NodeJS.ProcessEnv = { JOULEHUB_ADMIN_EMAIL: 'ops@example.org', JOULEHUB_ADMIN_PASSWORD: 'another password' };
    expect(await ensureAdminFromEnv(h.hub.auth, again, silentLogger())).toBe('exists');
    expect(await h.hub.auth.users.verifyCredentials('ops@example.org', 'another password')).toBeUndefined();
    expect(await h.hub.auth.users.count()).toBe(1);
  });

  it('joulehub user add --admin creates an admin who can log in; the password never is an argument', async () => {
    t = await createTestDatabase(target.url);
    const add = await cli(['user', 'add', '--admin', 'cli@example.org'], { DATABASE_URL: t.url, JOULEHUB_USER_PASSWORD: 'typed at the prompt' });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^created admin cli@example\.org \(id [0-9a-f-]{36}\)\n$/);
    const dup = await cli(['user', 'add', 'CLI@example.org'], { DATABASE_URL: t.url, JOULEHUB_USER_PASSWORD: 'typed at the prompt' });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('an account with the email CLI@example.org exists');
    const list = await cli(['user', 'list'], { DATABASE_URL: t.url });
    expect(list.stdout).toMatch(/ admin  cli@example\.org\n$/);
    const row = await t.db.selectFrom('users').select(['role', 'password_hash']).executeTakeFirstOrThrow();
    expect(row.role).toBe('admin');
    expect(await verifyPassword(row.password_hash!, 'typed at the prompt')).toBe(true);
  }, 180_000);

  it('logs in and out with the session cookie; a wrong password and an unknown email get the same answer', async () => {
    h = await startApi(target.url);
    const alice = await h.createUser({ email: 'alice@example.org', password: 'alice password' });
    const wrong = expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: alice.email, password: 'nope nope' } }), 401, 'INVALID_CREDENTIALS');
    const unknown = expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'who@example.org', password: 'nope nope' } }), 401, 'INVALID_CREDENTIALS');
    expect(unknown.detail).toBe(wrong.detail);

    const login = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: alice.email, password: 'alice password' } });
    expect(login.statusCode, login.body).toBe(200);
    const session = cookieOf(login);
    const me = await h.app.inject({ url: '/api/v1/auth/me', headers: session });
    expect(me.json()).toMatchObject({ user: { id: alice.id, role: 'user' }, via: 'session', scopes: ['read', 'write', 'ingest'], devices: null });
    // Only a hash of the cookie's secret is stored.
    const secret = session.cookie.split('=')[1];
    const rows = await h.hub.db.selectFrom('sessions').select('secret_hash').execute();
    expect(rows.some((r) => r.secret_hash.includes(secret))).toBe(false);

    const out = await h.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: session });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/joulehub_session=;/);
    expectProblem(await h.app.inject({ url: '/api/v1/auth/me', headers: session }), 401, 'UNAUTHORIZED');
  });

  it('expires a session after its idle lifetime on the hub clock, and extends it while used', async () => {
    h = await startApi(target.url, { auth: { sessions: { ttlMs: 3_600_000, maxAgeMs: 3 * 3_600_000 } } });
    const alice = await h.createUser();
    const me = () => h!.app.inject({ url: '/api/v1/auth/me', headers: alice.headers });
    await h.clock.advance(50 * 60_000);
    expect((await me()).statusCode).toBe(200); // used after 50 min: good for another hour
    await h.clock.advance(50 * 60_000);
    expect((await me()).statusCode).toBe(200);
    await h.clock.advance(61 * 60_000);
    expectProblem(await me(), 401, 'UNAUTHORIZED');

    // However busy, a session ends at its absolute lifetime.
    const bob = await h.createUser();
    for (let i = 0; i < 6; i++) {
      await h.clock.advance(30 * 60_000);
      expect((await h.app.inject({ url: '/api/v1/auth/me', headers: bob.headers })).statusCode).toBe(i < 5 ? 200 : 401);
    }
  });

  it('issues API tokens once, hashed, limited to their scopes and devices, and revocable', async () => {
    h = await startApi(target.url);
    const alice = await h.createUser();
    for (const id of ['a1', 'a2']) {
      expect((await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id, name: id } })).statusCode).toBe(201);
      expect((await h.app.inject({ method: 'PATCH', url: `/api/v1/devices/${id}`, payload: { owner: alice.id } })).statusCode).toBe(200);
    }
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id: 'other', name: 'other' } })).statusCode).toBe(201);

    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: alice.headers, payload: { name: 'x', scopes: ['admin'] } }), 403, 'SCOPE_NOT_ALLOWED');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: alice.headers, payload: { name: 'x', scopes: ['read'], devices: ['other'] } }), 403, 'FORBIDDEN');

    const res = await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: alice.headers, payload: { name: 'script', scopes: ['read'], devices: ['a1'] } });
    expect(res.statusCode, res.body).toBe(201);
    const { token, id } = res.json() as { token: string; id: string };
    expect(token).toMatch(/^jht_[A-Za-z0-9_-]{43}$/);
    const bearer = { authorization: `Bearer ${token}` };
    const list = await h.app.inject({ url: '/api/v1/auth/tokens', headers: alice.headers });
    expect(list.json().data).toEqual([expect.objectContaining({ id, name: 'script', scopes: ['read'], devices: ['a1'], revoked_at: null })]);
    expect(list.body).not.toContain(token);

    expect((await h.app.inject({ url: '/api/v1/devices', headers: bearer })).json().data.map((d: { id: string }) => d.id)).toEqual(['a1']);
    expectProblem(await h.app.inject({ url: '/api/v1/devices/a2', headers: bearer }), 403, 'FORBIDDEN');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/devices/a1/readings', headers: bearer, payload: { units: 'W', data: [] } }), 403, 'FORBIDDEN');
    // A token cannot mint tokens or change the password.
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: bearer, payload: { name: 'y', scopes: ['read'] } }), 403, 'FORBIDDEN');

    expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${id}`, headers: alice.headers })).statusCode).toBe(204);
    expectProblem(await h.app.inject({ url: '/api/v1/devices', headers: bearer }), 401, 'UNAUTHORIZED');
    expect((await h.app.inject({ url: '/api/v1/auth/tokens', headers: alice.headers })).json().data[0].revoked_at).toBe('2018-08-25T00:00:00Z');
    // Someone else's token is not found, not revoked.
    const bob = await h.createUser();
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${id}`, headers: bob.headers }), 404, 'TOKEN_NOT_FOUND');
  });

  it('drops the admin scope from a demoted admin\'s tokens at once', async () => {
    h = await startApi(target.url);
    const ada = await h.createUser({ role: 'admin' });
    const token = await h.createToken(ada.headers, { scopes: ['admin', 'read'] });
    expect((await h.app.inject({ url: '/api/v1/users', headers: token.headers })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${ada.id}`, payload: { role: 'user' } })).statusCode).toBe(200);
    expectProblem(await h.app.inject({ url: '/api/v1/users', headers: token.headers }), 403, 'FORBIDDEN');
    expect((await h.app.inject({ url: '/api/v1/devices', headers: token.headers })).statusCode).toBe(200);
  });

  it('changes one\'s own password, ending the other sessions', async () => {
    h = await startApi(target.url);
    const alice = await h.createUser({ password: 'first password' });
    const other = await h.hub.auth.createSession(alice.id);
    const otherHeaders = { cookie: `joulehub_session=${other.secret}` };
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: alice.headers, payload: { current_password: 'wrong one!', new_password: 'second password' } }), 401, 'INVALID_CREDENTIALS');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: alice.headers, payload: { current_password: 'first password', new_password: 'short' } }), 400, 'WEAK_PASSWORD');
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: alice.headers, payload: { current_password: 'first password', new_password: 'second password' } })).statusCode).toBe(204);
    expect((await h.app.inject({ url: '/api/v1/auth/me', headers: alice.headers })).statusCode).toBe(200);
    expectProblem(await h.app.inject({ url: '/api/v1/auth/me', headers: otherHeaders }), 401);
    expect(await h.hub.auth.users.verifyCredentials(alice.email, 'second password')).toBeDefined();
  });

  it('lets admins create, change (email, role, password) and delete users; the last admin stays', async () => {
    h = await startApi(target.url);
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/users', payload: { email: 'new@example.org', password: 'initial password' } });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/users', payload: { email: 'NEW@example.org' } }), 409, 'EMAIL_TAKEN');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/users', payload: { email: 'not an email' } }), 400);

    const session = await h.hub.auth.createSession(id);
    const patched = await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: { email: 'renamed@example.org', password: 'reset by admin' } });
    expect(patched.json()).toMatchObject({ email: 'renamed@example.org', role: 'user' });
    // A reset password ends the user's sessions.
    expectProblem(await h.app.inject({ url: '/api/v1/auth/me', headers: { cookie: `joulehub_session=${session.secret}` } }), 401);
    expect(await h.hub.auth.users.verifyCredentials('renamed@example.org', 'reset by admin')).toBeDefined();

    // A device of a deleted user becomes an orphan.
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id: 'kettle', name: 'Kettle', } })).statusCode).toBe(201);
    expect((await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/kettle', payload: { owner: id } })).json().owner).toBe(id);
    expectProblem(await h.app.inject({ method: 'PATCH', url: '/api/v1/devices/kettle', payload: { owner: 'nobody' } }), 400);
    expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${id}` })).statusCode).toBe(204);
    expect((await h.app.inject({ url: '/api/v1/devices/kettle' })).json().owner).toBeNull();
    expect((await h.app.inject({ url: '/api/v1/devices?orphans=true' })).json().data.map((d: { id: string }) => d.id)).toEqual(['kettle']);
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${id}` }), 404, 'USER_NOT_FOUND');

    expectProblem(await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${h.admin!.id}`, payload: { role: 'user' } }), 409, 'LAST_ADMIN');
    expectProblem(await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${h.admin!.id}` }), 409, 'LAST_ADMIN');
  });

  it('registers only with an invite unless registration is open', async () => {
    h = await startApi(target.url);
    const register = (payload: object) => h!.app.inject({ method: 'POST', url: '/api/v1/auth/register', headers: { authorization: '' }, payload });
    expectProblem(await register({ email: 'x@example.org', password: 'a long password' }), 403, 'REGISTRATION_CLOSED');

    const invite = await h.app.inject({ method: 'POST', url: '/api/v1/invites', payload: { email: 'invited@example.org' } });
    expect(invite.statusCode, invite.body).toBe(201);
    const secret = invite.json().invite as string;
    expectProblem(await register({ email: 'someone@example.org', password: 'a long password', invite: secret }), 400, 'INVITE_INVALID');
    const ok = await register({ email: 'invited@example.org', password: 'a long password', invite: secret });
    expect(ok.statusCode, ok.body).toBe(201);
    expect((await h.app.inject({ url: '/api/v1/auth/me', headers: cookieOf(ok) })).json().user.email).toBe('invited@example.org');
    expectProblem(await register({ email: 'invited2@example.org', password: 'a long password', invite: secret }), 400, 'INVITE_INVALID');

    expect((await h.app.inject({ method: 'PUT', url: '/api/v1/settings/registration', payload: { registration: 'open' } })).statusCode).toBe(200);
    const open = await register({ email: 'walk-in@example.org', password: 'a long password' });
    expect(open.statusCode, open.body).toBe(201);
    expect(open.json().user.role).toBe('user');
    expectProblem(await register({ email: 'Walk-In@example.org', password: 'a long password' }), 409, 'EMAIL_TAKEN');
  });
});
