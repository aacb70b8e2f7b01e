/**
 * A real hub on a fresh PostgreSQL database, driven by a ManualClock, with the API built over it.
 * Tests talk to it through `app.inject()` (and `app.injectWS()` for the WebSocket).
 *
 * Authentication is enforced as in production. The harness creates a bootstrap admin, and
 * `h.app.inject` / `h.app.injectWS` send that admin's API token (every scope) whenever a request
 * carries no Authorization or Cookie header of its own. So:
 *   - `h.app.inject({ url })`                                  → as the bootstrap admin
 *   - `h.app.inject({ url, headers: alice.headers })`          → as alice (from `h.createUser()`)
 *   - `h.app.inject({ url, headers: { authorization: '' } })`  → anonymous (or `h.anonymous.inject`)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { expect } from 'vitest';
import { ManualClock } from '../../src/hub/clock.js';
import { createHub } from '../../src/hub/hub.js';
import type { IntegrationDefinition } from '../../src/sdk/types.js';
import type { Hub, HubConfig, IntegrationConfig } from '../../src/hub/types.js';
import { buildServer, type BuildServerOptions } from '../../src/api/server.js';
import { SCOPES, type Role, type Scope } from '../../src/auth/caller.js';
import { SESSION_COOKIE } from '../../src/auth/policy.js';
import type { AuthOptions } from '../../src/auth/service.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

export type Headers = Record<string, string>;

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
  /** Authenticate as this user (a logged-in session cookie). */
  headers: Headers;
}

export interface TestToken {
  id: string;
  token: string;
  /** `Authorization: Bearer <token>`. */
  headers: Headers;
}

export interface ApiHarness {
  hub: Hub;
  /** inject/injectWS authenticate as the bootstrap admin unless the request has its own credentials. */
  app: FastifyInstance;
  clock: ManualClock;
  database: TestDatabase;
  /** The bootstrap admin (undefined with `admin: false`). */
  admin: TestUser | undefined;
  /** inject/injectWS without any credentials. */
  anonymous: Pick<FastifyInstance, 'inject' | 'injectWS'>;
  /** A user with a logged-in session; email defaults to a unique one, role to 'user'. */
  createUser(opts?: { email?: string; role?: Role; password?: string; name?: string }): Promise<TestUser>;
  /** An API token of the user whose headers are given, created through POST /api/v1/auth/tokens. */
  createToken(userHeaders: Headers, opts: { scopes: Scope[]; devices?: string[]; name?: string }): Promise<TestToken>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Hub clock start (default 2018-08-25T00:00:00Z: after the example data). */
  now?: string;
  tz?: string;
  server?: BuildServerOptions;
  /** Integration instances to run, loaded from `definitions` by id instead of from packages. */
  integrations?: IntegrationConfig[];
  definitions?: Record<string, IntegrationDefinition>;
  /** false: no bootstrap admin (an empty instance, as before onboarding); inject then sends no credentials. */
  admin?: false;
  /** Session lifetime and login limits of the hub's auth service. */
  auth?: AuthOptions;
  /** The hub's root logger (default: none). */
  log?: Logger;
}

function hasCredentials(headers: unknown): boolean {
  if (!headers || typeof headers !== 'object') return false;
  return Object.keys(headers).some((k) => k.toLowerCase() === 'authorization' || k.toLowerCase() === 'cookie');
}

/** Makes `app.inject`/`app.injectWS` add `defaults` to requests that carry no credentials. */
function authenticateByDefault(app: FastifyInstance, defaults: () => Headers | undefined): Pick<FastifyInstance, 'inject' | 'injectWS'> {
  const rawInject = app.inject.bind(app);
  const rawInjectWS = app.injectWS.bind(app);
  const withDefaults = <T extends { headers?: unknown }>(opts: T): T => {
    const extra = defaults();
    if (!extra || hasCredentials(opts.headers)) return opts;
    return { ...opts, headers: { ...(opts.headers as object | undefined), ...extra } };
  };
  const inject = ((opts?: unknown, cb?: unknown) => {
    if (opts === undefined) return rawInject();
    const o = (typeof opts === 'string' ? { url: opts } : opts) as { headers?: unknown };
    return cb ? (rawInject as (a: unknown, b: unknown) => unknown)(withDefaults(o), cb) : rawInject(withDefaults(o) as never);
  }) as FastifyInstance['inject'];
  const injectWS = ((path?: string, ctx?: { headers?: unknown }) =>
    rawInjectWS(path, withDefaults(ctx ?? {}) as never)) as FastifyInstance['injectWS'];
  app.inject = inject;
  app.injectWS = injectWS;
  return { inject: rawInject as FastifyInstance['inject'], injectWS: rawInjectWS as FastifyInstance['injectWS'] };
}

export async function startApi(url: string, opts: HarnessOptions = {}): Promise<ApiHarness> {
  const database = await createTestDatabase(url);
  const dir = mkdtempSync(path.join(tmpdir(), 'joulehub-api-'));
  const clock = new ManualClock(opts.now ?? '2018-08-25T00:00:00Z');
  const config: HubConfig = {
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    databaseUrl: database.url,
    tz: opts.tz ?? 'UTC',
    logLevel: 'silent',
    configDir: dir,
    integrations: opts.integrations ?? [],
    demo: false,
  };
  let hub: Hub | undefined;
  let app: FastifyInstance | undefined;
  try {
    const definitions = opts.definitions ?? {};
    hub = await createHub(config, {
      clock,
      databaseUrl: database.url,
      ...(opts.auth ? { auth: opts.auth } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      loadIntegration: async (entry) => {
        const def = definitions[entry.id];
        if (!def) throw new Error(`test harness: no integration "${entry.id}"`);
        return def;
      },
    });
    await hub.start();
    app = await buildServer(hub, opts.server);
  } catch (err) {
    await app?.close();
    await hub?.stop();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const started = { hub, app };
  let seq = 0;
  const createUser: ApiHarness['createUser'] = async (o = {}) => {
    const email = o.email ?? `user-${++seq}@harness.test`;
    const password = o.password ?? `password-${randomUUID()}`;
    const role = o.role ?? 'user';
    const user = await started.hub.auth.users.create({ email, password, role, ...(o.name ? { name: o.name } : {}) });
    const { secret } = await started.hub.auth.createSession(user.id, { ip: '127.0.0.1', userAgent: 'harness' });
    return { id: user.id, email: user.email, password, role, headers: { cookie: `${SESSION_COOKIE}=${secret}` } };
  };
  let admin: TestUser | undefined;
  let adminToken: Headers | undefined;
  if (opts.admin !== false) {
    admin = await createUser({ email: 'admin@harness.test', role: 'admin' });
    const { secret } = await hub.auth.tokens.create(admin.id, { name: 'harness', scopes: [...SCOPES] });
    adminToken = { authorization: `Bearer ${secret}` };
  }
  const anonymous = authenticateByDefault(app, () => adminToken);
  return {
    ...started,
    clock,
    database,
    admin,
    anonymous,
    createUser,
    async createToken(userHeaders, o) {
      const res = await anonymous.inject({
        method: 'POST', url: '/api/v1/auth/tokens', headers: userHeaders,
        payload: { name: o.name ?? `token-${++seq}`, scopes: o.scopes, ...(o.devices ? { devices: o.devices } : {}) },
      });
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json() as { id: string; token: string };
      return { id: body.id, token: body.token, headers: { authorization: `Bearer ${body.token}` } };
    },
    async close() {
      await started.app.close();
      await started.hub.stop();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts an RFC 9457 problem response and returns its body. */
export function expectProblem(res: LightMyRequestResponse, status: number, code?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as {
    type: string; title: string; status: number; detail: string; code: string; instance?: string;
    errors?: { pointer?: string; index?: number; reason: string }[];
  };
  expect(body.status).toBe(status);
  expect(typeof body.type).toBe('string');
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  if (code) expect(body.code).toBe(code);
  return body;
}

export async function createDevice(app: FastifyInstance, id: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id, name: id, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
}

export type Reading = { datetime: string; value: number };

export async function postReadings(
  app: FastifyInstance, device: string, units: string, data: Reading[], reading?: 'interval' | 'cumulative',
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/api/v1/devices/${device}/readings`,
    payload: { units, ...(reading ? { reading } : {}), data },
  });
}

/** `[at(0), at(15)]` → readings every `stepMin` minutes from `start`. */
export function series(start: string, stepMin: number, values: number[]): Reading[] {
  const t0 = new Date(start).getTime();
  return values.map((value, i) => ({ datetime: new Date(t0 + i * stepMin * 60_000).toISOString(), value }));
}
