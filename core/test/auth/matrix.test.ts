/**
 * The authorization matrix: every route of the API (app.apiRoutes, which is what the OpenAPI
 * document lists, plus hidden ones) × every kind of caller, with the status each must get.
 *
 * A route without a line in ROUTES fails the test, so a route added later is noticed. Adding one is
 * one line: the request to send and the status of a caller the route lets through (`ok`). What the
 * other callers get follows from the access the route declares:
 *   anonymous → 401 (public routes: ok); the user (alice) → ok, 403 on admin routes; another user
 *   (bob) → like alice, or 403 when the request names alice's things (`own`); an admin → ok;
 *   a token → ok when it has the route's scope, else 403.
 * `expect` overrides single callers where a route means something else for them.
 */
import { beforeAll, afterAll, expect, it } from 'vitest';
import type { RouteAccess } from '../../src/api/access.js';
import { describeDb } from '../support/db.js';
import { startApi, type ApiHarness, type Headers, type TestUser } from '../api/harness.js';

const CALLERS = ['anonymous', 'user', 'other', 'admin', 'token:read', 'token:write', 'token:ingest', 'token:admin'] as const;
type CallerName = (typeof CALLERS)[number];

interface Ctx { alice: TestUser; bob: TestUser; dashboard: string; n: () => number }
interface Expectation {
  /** Path and query to request (default: the route's URL). */
  url?: string | ((c: Ctx) => string);
  payload?: unknown | ((c: Ctx) => unknown);
  /** Status of a caller the route lets through. */
  ok: number;
  /** The request names alice's device/entity/dashboard: bob is refused (403 unless `other` is given). */
  own?: boolean;
  /** A new session per request for session callers (logout ends the session it is sent with). */
  fresh?: boolean;
  expect?: Partial<Record<CallerName, number>>;
}

const range = 'start=2018-08-24T00:00:00Z&end=2018-08-26T00:00:00Z';
const readings = { units: 'W', data: [{ datetime: '2018-08-24T12:00:00Z', value: 5 }] };
const SESSION_ONLY = { 'token:write': 403 } as const;

/** One line per route. */
const ROUTES: Record<string, Expectation> = {
  'GET /api/v1/openapi.json': { ok: 200 },
  'GET /api/v1/health': { ok: 200 },
  'POST /api/v1/devices': { payload: {}, ok: 400 },
  'GET /api/v1/devices': { ok: 200 },
  'GET /api/v1/devices/:id': { url: '/api/v1/devices/alice-dev', ok: 200, own: true },
  'PATCH /api/v1/devices/:id': { url: '/api/v1/devices/alice-dev', payload: { name: 'Alice device' }, ok: 200 },
  'DELETE /api/v1/devices/:id': { url: '/api/v1/devices/nothing-here', ok: 404 },
  'POST /api/v1/devices/:id/readings': { url: '/api/v1/devices/alice-dev/readings', payload: readings, ok: 200, own: true },
  'GET /api/v1/entities': { ok: 200 },
  // The relay belongs to no integration: a caller let through learns it cannot be switched (409).
  'POST /api/v1/entities/:entity_id/command': { url: '/api/v1/entities/alice-dev.relay/command', payload: { command: 'turn_on' }, ok: 409, own: true },
  'GET /api/v1/states': { ok: 200 },
  'GET /api/v1/states/:entity_id': { url: '/api/v1/states/alice-dev.power', ok: 200, own: true },
  'GET /api/v1/history': { url: `/api/v1/history?entity=alice-dev.power&${range}`, ok: 200, own: true },
  'GET /api/v1/quarantine': { ok: 200 },
  'GET /api/v1/integrations': { ok: 200 },
  'GET /api/v1/integrations/:instance_id/diagnostics': { url: '/api/v1/integrations/nothing/diagnostics', ok: 404 },
  'GET /api/v1/energy': { url: `/api/v1/energy?device=alice-dev&${range}`, ok: 200, own: true },
  'GET /api/v1/energy/fleet': { url: `/api/v1/energy/fleet?${range}`, ok: 200 },
  'GET /api/v1/energy/top': { url: `/api/v1/energy/top?${range}`, ok: 200 },
  'GET /api/v1/ws': { ok: 426 },
  'GET /api/v1/auth/status': { ok: 200 },
  // OpenID Connect: public; the harness configures no provider, so starting or finishing a login is 404.
  'GET /api/v1/auth/oidc': { ok: 200 },
  'GET /api/v1/auth/oidc/login': { ok: 404 },
  'GET /api/v1/auth/oidc/callback': { ok: 404 },
  'POST /api/v1/auth/onboarding': { payload: { email: 'late@example.org', password: 'long enough' }, ok: 409 },
  'POST /api/v1/auth/login': { payload: (c: Ctx) => ({ email: `nobody-${c.n()}@example.org`, password: 'not the password' }), ok: 401 },
  'POST /api/v1/auth/logout': { ok: 204, fresh: true },
  'GET /api/v1/auth/me': { ok: 200 },
  'PATCH /api/v1/auth/me': { payload: { locale: 'de-DE' }, ok: 200 },
  'POST /api/v1/auth/register': { payload: {}, ok: 400 },
  'POST /api/v1/auth/password': { payload: { current_password: 'not the password', new_password: 'a new password' }, ok: 401, expect: SESSION_ONLY },
  'POST /api/v1/auth/tokens': { payload: { name: 'matrix', scopes: ['read'] }, ok: 201, expect: SESSION_ONLY },
  'GET /api/v1/auth/tokens': { ok: 200 },
  'DELETE /api/v1/auth/tokens/:id': { url: '/api/v1/auth/tokens/nothing', ok: 404 },
  'GET /api/v1/users': { ok: 200 },
  'POST /api/v1/users': { payload: {}, ok: 400 },
  'GET /api/v1/users/:id': { url: (c: Ctx) => `/api/v1/users/${c.alice.id}`, ok: 200 },
  'PATCH /api/v1/users/:id': { url: (c: Ctx) => `/api/v1/users/${c.alice.id}`, payload: { name: 'Alice' }, ok: 200 },
  'DELETE /api/v1/users/:id': { url: '/api/v1/users/nothing', ok: 404 },
  'GET /api/v1/settings/registration': { ok: 200 },
  'PUT /api/v1/settings/registration': { payload: { registration: 'invite' }, ok: 200 },
  'POST /api/v1/invites': { payload: {}, ok: 201 },
  'GET /api/v1/audit': { ok: 200 },
  // Dashboards: each user has their own; someone else's is not found rather than forbidden.
  'GET /api/v1/dashboards': { ok: 200 },
  'POST /api/v1/dashboards': { payload: {}, ok: 400 },
  'GET /api/v1/dashboards/:id': { url: (c: Ctx) => `/api/v1/dashboards/${c.dashboard}`, ok: 200, own: true, expect: { other: 404, admin: 404 } },
  'PUT /api/v1/dashboards/:id': { url: (c: Ctx) => `/api/v1/dashboards/${c.dashboard}`, payload: {}, ok: 400 },
  // Every caller orders only their own list: alice's ids from anyone else are out of date (409).
  'PUT /api/v1/dashboards/order': { payload: (c: Ctx) => ({ ids: [c.dashboard] }), ok: 200, expect: { other: 409, admin: 409 } },
  'DELETE /api/v1/dashboards/:id': { url: '/api/v1/dashboards/00000000-0000-0000-0000-000000000000', ok: 404 },
  'GET /api/v1/cards': { ok: 200 },
  // Messages: a conversation is named by its user; only that user and the admins take part.
  'GET /api/v1/messages/unread': { ok: 200 },
  'GET /api/v1/messages/conversations': { ok: 200 },
  'GET /api/v1/messages/conversations/:user_id': { url: (c: Ctx) => `/api/v1/messages/conversations/${c.alice.id}`, ok: 200, own: true },
  'POST /api/v1/messages/conversations/:user_id': { url: (c: Ctx) => `/api/v1/messages/conversations/${c.alice.id}`, payload: {}, ok: 400 },
  'POST /api/v1/messages/conversations/:user_id/read': { url: (c: Ctx) => `/api/v1/messages/conversations/${c.alice.id}/read`, payload: {}, ok: 200, own: true },
  // Automations and notifications: a user's own; another's (or a missing one) is not found.
  'GET /api/v1/automations': { ok: 200 },
  'POST /api/v1/automations': { payload: {}, ok: 400 },
  'GET /api/v1/automations/:id': { url: '/api/v1/automations/nothing', ok: 404 },
  'PATCH /api/v1/automations/:id': { url: '/api/v1/automations/nothing', payload: {}, ok: 400 },
  'DELETE /api/v1/automations/:id': { url: '/api/v1/automations/nothing', ok: 404 },
  'POST /api/v1/automations/:id/backtest': { url: '/api/v1/automations/nothing/backtest', payload: { start: '2018-08-24T00:00:00Z', end: '2018-08-25T00:00:00Z' }, ok: 404 },
  'GET /api/v1/automations/:id/runs': { url: '/api/v1/automations/nothing/runs', ok: 404 },
  'POST /api/v1/automations/:id/webhook': { url: '/api/v1/automations/nothing/webhook', ok: 404 },
  'GET /api/v1/notifications': { ok: 200 },
  'POST /api/v1/notifications/:id/read': { url: '/api/v1/notifications/1/read', ok: 404 },
};

function expected(access: RouteAccess, e: Expectation, caller: CallerName): number {
  const override = e.expect?.[caller];
  if (override !== undefined) return override;
  if (access === 'public') return e.ok;
  switch (caller) {
    case 'anonymous': return 401;
    case 'admin': return e.ok;
    case 'user': return access === 'admin' ? 403 : e.ok;
    case 'other': return access === 'admin' || e.own ? 403 : e.ok;
    case 'token:admin': return access === 'admin' ? e.ok : 403;
    default: return caller === `token:${access}` ? e.ok : 403;
  }
}

describeDb('authorization matrix: every route × every kind of caller', (target) => {
  let h: ApiHarness;
  let ctx: Ctx;
  const headers = {} as Record<CallerName, Headers>;
  const sessionUser = {} as Partial<Record<CallerName, TestUser>>;

  beforeAll(async () => {
    h = await startApi(target.url);
    let seq = 0;
    const alice = await h.createUser({ email: 'alice@example.org' });
    const bob = await h.createUser({ email: 'bob@example.org' });
    for (const [id, owner] of [['alice-dev', alice.id], ['bob-dev', bob.id]] as const) {
      expect((await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id, name: id } })).statusCode).toBe(201);
      expect((await h.app.inject({ method: 'PATCH', url: `/api/v1/devices/${id}`, payload: { owner } })).statusCode).toBe(200);
      await h.hub.entities.register(id, { key: 'power', kind: 'power' });
      await h.hub.entities.register(id, { key: 'relay', kind: 'switch' });
      h.hub.report(`${id}.power`, 42, h.clock.now());
    }
    await h.hub.flush();
    const dash = await h.app.inject({ method: 'GET', url: '/api/v1/dashboards', headers: alice.headers });
    expect(dash.statusCode, dash.body).toBe(200);
    ctx = { alice, bob, dashboard: (dash.json() as { data: { id: string }[] }).data[0]?.id ?? 'none', n: () => ++seq };

    headers.anonymous = { authorization: '' };
    headers.user = alice.headers;
    headers.other = bob.headers;
    headers.admin = h.admin!.headers;
    Object.assign(sessionUser, { user: alice, other: bob, admin: h.admin });
    for (const scope of ['read', 'write', 'ingest'] as const) headers[`token:${scope}`] = (await h.createToken(alice.headers, { scopes: [scope] })).headers;
    headers['token:admin'] = (await h.createToken(h.admin!.headers, { scopes: ['admin'] })).headers;
  });
  afterAll(async () => { await h?.close(); });

  it('has an expectation for every route, and every expectation names a route', () => {
    const routes = h.app.apiRoutes.map((r) => `${r.method} ${r.url}`);
    expect(routes.filter((r) => !(r in ROUTES)), 'routes without a line in ROUTES').toEqual([]);
    expect(Object.keys(ROUTES).filter((r) => !routes.includes(r)), 'lines in ROUTES without a route').toEqual([]);
  });

  it('answers each caller with the expected status, refusals as problem+json', async () => {
    const wrong: string[] = [];
    for (const route of h.app.apiRoutes) {
      const e = ROUTES[`${route.method} ${route.url}`];
      if (!e) continue;
      for (const caller of CALLERS) {
        let hdrs = headers[caller];
        const user = sessionUser[caller];
        if (e.fresh && user) {
          const { secret } = await h.hub.auth.createSession(user.id);
          hdrs = { cookie: `joulehub_session=${secret}` };
        }
        const url = typeof e.url === 'function' ? e.url(ctx) : e.url ?? route.url;
        const payload = typeof e.payload === 'function' ? (e.payload as (c: Ctx) => unknown)(ctx) : e.payload;
        const res = await h.app.inject({
          method: route.method as 'GET', url, headers: hdrs,
          ...(payload !== undefined ? { payload: payload as object } : {}),
        });
        const want = expected(route.access, e, caller);
        if (res.statusCode !== want) wrong.push(`${route.method} ${route.url} as ${caller}: ${res.statusCode}, expected ${want} — ${res.body.slice(0, 160)}`);
        if ((res.statusCode === 401 || res.statusCode === 403) && !String(res.headers['content-type']).startsWith('application/problem+json')) {
          wrong.push(`${route.method} ${route.url} as ${caller}: ${res.statusCode} is not problem+json`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
