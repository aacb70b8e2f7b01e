/**
 * A real hub on a fresh PostgreSQL database, driven by a ManualClock, with the API built over it.
 * Tests talk to it through `app.inject()` (and `app.injectWS()` for the WebSocket).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ManualClock } from '../../src/hub/clock.js';
import { createHub } from '../../src/hub/hub.js';
import type { IntegrationDefinition } from '../../src/sdk/types.js';
import type { Hub, HubConfig, IntegrationConfig } from '../../src/hub/types.js';
import { buildServer, type BuildServerOptions } from '../../src/api/server.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

export interface ApiHarness {
  hub: Hub;
  app: FastifyInstance;
  clock: ManualClock;
  database: TestDatabase;
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
  return {
    ...started,
    clock,
    database,
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
