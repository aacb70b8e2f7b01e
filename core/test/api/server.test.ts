import { afterEach, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../src/api/errors.js';
import type { AccessPolicy, RouteAccess } from '../../src/api/access.js';
import { describeDb } from '../support/db.js';
import { expectProblem, startApi, type ApiHarness } from './harness.js';

/** Every `$ref` in the document, with the JSON path where it sits. */
function refs(node: unknown, at = '#', out: { at: string; ref: string }[] = []): { at: string; ref: string }[] {
  if (Array.isArray(node)) node.forEach((n, i) => refs(n, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ at, ref: v });
      else refs(v, `${at}/${k}`, out);
    }
  }
  return out;
}

function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref.slice(2).split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
}

describeDb('API server: health, OpenAPI, errors, access seam', (target) => {
  let h: ApiHarness | undefined;
  afterEach(async () => { await h?.close(); h = undefined; });

  it('reports health: status, version, database and uptime on the hub clock', async () => {
    h = await startApi(target.url);
    await h.clock.advance(90_000);
    const res = await h.app.inject({ url: '/api/v1/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), database: { ok: true }, uptime_s: 90 });
  });

  it('reports a degraded hub with 503 when the database cannot be reached', async () => {
    h = await startApi(target.url);
    await h.hub.db.destroy();
    const res = await h.app.inject({ url: '/api/v1/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'degraded', database: { ok: false, error: expect.any(String) } });
  });

  it('publishes an OpenAPI document listing every route, valid JSON with resolvable references, and a docs page', async () => {
    h = await startApi(target.url);
    const res = await h.app.inject({ url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const doc = JSON.parse(res.body) as {
      openapi: string; info: { title: string; version: string };
      paths: Record<string, Record<string, { responses?: Record<string, unknown>; parameters?: { in: string; name: string }[] }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Joulehub API');

    // API routes only: the served card modules (/cards/{file}) are documented but live outside /api/v1.
    const documented = Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const registered = h.app.apiRoutes
      .filter((r) => !r.hidden)
      .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, '{$1}')}`)
      .sort();
    expect(documented).toEqual(registered);
    // The routes issue 2 asks for, by name, so a route dropped from both lists is still noticed.
    for (const route of [
      'GET /api/v1/health', 'POST /api/v1/devices', 'GET /api/v1/devices', 'GET /api/v1/devices/{id}',
      'PATCH /api/v1/devices/{id}', 'DELETE /api/v1/devices/{id}', 'POST /api/v1/devices/{id}/readings',
      'GET /api/v1/entities', 'POST /api/v1/entities/{entity_id}/command', 'GET /api/v1/states',
      'GET /api/v1/states/{entity_id}', 'GET /api/v1/history', 'GET /api/v1/quarantine', 'GET /api/v1/integrations', 'GET /api/v1/integrations/{instance_id}/diagnostics',
      'GET /api/v1/energy', 'GET /api/v1/energy/fleet', 'GET /api/v1/energy/top', 'GET /api/v1/ws',
    ]) expect(documented).toContain(route);

    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses ?? {}).length, `${method} ${p} documents responses`).toBeGreaterThan(0);
        for (const name of [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
          expect(op.parameters?.some((q) => q.in === 'path' && q.name === name), `${method} ${p} documents {${name}}`).toBe(true);
        }
      }
    }
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Problem', 'Device', 'Entity', 'State']));
    for (const { at, ref } of refs(doc)) expect(resolve(doc, ref), `${ref} at ${at}`).toBeDefined();

    const docs = await h.app.inject({ url: '/api/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
  });

  it('answers unknown routes and methods, bad media types and oversized bodies with problems', async () => {
    h = await startApi(target.url);
    const missing = expectProblem(await h.app.inject({ url: '/api/v1/nothing?x=1' }), 404, 'NOT_FOUND');
    expect(missing.instance).toBe('/api/v1/nothing');
    expectProblem(await h.app.inject({ method: 'PUT', url: '/api/v1/devices' }), 404, 'NOT_FOUND');
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: 'id=x', headers: { 'content-type': 'text/plain' } }), 415);
    const huge = await h.app.inject({ method: 'POST', url: '/api/v1/devices', payload: { id: 'big', name: 'big', description: 'x'.repeat(1_100_000) } });
    expectProblem(huge, 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await h.app.inject({ url: '/api/v1/ws' }), 426, 'UPGRADE_REQUIRED');
  });

  it('runs every request through the access policy with the access the route declares', async () => {
    const seen: { url: string; access: RouteAccess }[] = [];
    const policy: AccessPolicy = {
      authorize(request: FastifyRequest, access: RouteAccess) {
        seen.push({ url: request.url, access });
        if (access === 'public') return;
        if (request.headers.authorization !== 'Bearer reader' && request.headers.authorization !== 'Bearer writer') {
          throw new ApiError('UNAUTHORIZED', 'log in first');
        }
        if (access !== 'read' && request.headers.authorization !== 'Bearer writer') throw new ApiError('FORBIDDEN', `needs ${access}`);
      },
      canSeeDevice: (_request, deviceId) => deviceId !== 'secret',
    };
    h = await startApi(target.url, { server: { access: policy } });
    for (const r of h.app.apiRoutes) expect(['public', 'read', 'write', 'ingest', 'admin']).toContain(r.access);

    expect((await h.app.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
    expectProblem(await h.app.inject({ url: '/api/v1/devices' }), 401, 'UNAUTHORIZED');
    const reader = { authorization: 'Bearer reader' };
    const writer = { authorization: 'Bearer writer' };
    expectProblem(await h.app.inject({ method: 'POST', url: '/api/v1/devices', headers: reader, payload: { id: 'a', name: 'a' } }), 403, 'FORBIDDEN');
    for (const id of ['a', 'secret']) {
      expect((await h.app.inject({ method: 'POST', url: '/api/v1/devices', headers: writer, payload: { id, name: id } })).statusCode).toBe(201);
    }
    expect((await h.app.inject({ url: '/api/v1/devices', headers: reader })).json().data.map((d: { id: string }) => d.id)).toEqual(['a']);
    expectProblem(await h.app.inject({ url: '/api/v1/devices/secret', headers: reader }), 403, 'FORBIDDEN');
    expect(seen.find((s) => s.url === '/api/v1/devices' && s.access === 'admin')).toBeDefined();
    await expect(h.app.injectWS('/api/v1/ws')).rejects.toThrow(/401/);
  });

  it('hides internal failures behind a generic 500 problem', async () => {
    h = await startApi(target.url, {
      server: { access: { authorize() { throw new Error('database password is hunter2'); }, canSeeDevice: () => true } },
    });
    const problem = expectProblem(await h.app.inject({ url: '/api/v1/devices' }), 500, 'INTERNAL');
    expect(problem.detail).not.toContain('hunter2');
  });
});
