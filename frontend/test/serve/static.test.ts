/** The hub serving the built dashboard at `/` next to the API (core/src/api/static.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeDb } from '../../../core/test/support/db.js';
import { startApi, type ApiHarness } from '../../../core/test/api/harness.js';
import { ApiError } from '../../../core/src/api/errors.js';

const INDEX = '<!doctype html><title>Joulehub</title><jh-app></jh-app><script type="module" src="/assets/index-abc123.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(2000))});`;

describeDb('the hub serves the dashboard', (target) => {
  let dist: string;
  let h: ApiHarness | undefined;
  beforeAll(() => {
    dist = mkdtempSync(path.join(tmpdir(), 'joulehub-dist-'));
    mkdirSync(path.join(dist, 'assets'));
    writeFileSync(path.join(dist, 'index.html'), INDEX);
    writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), SCRIPT);
    writeFileSync(path.join(dist, 'assets', 'index-abc123.js.gz'), gzipSync(SCRIPT));
  });
  afterAll(() => rmSync(dist, { recursive: true, force: true }));
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers / with index.html (revalidated) and hashed assets cached for a year, gzipped when asked', async () => {
    h = await startApi(target.url, { server: { frontendDir: dist } });
    // As a browser asks for it (a precompressed index.html does not exist: it is small).
    const index = await h.app.inject({ url: '/', headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.body).toBe(INDEX);

    const js = await h.app.inject({ url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body).toBe(SCRIPT);

    const gz = await h.app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.rawPayload.length).toBeLessThan(SCRIPT.length / 10);
  });

  it('gives index.html for dashboard paths (reload and bookmarks work), never for /api or missing files', async () => {
    h = await startApi(target.url, { server: { frontendDir: dist } });
    for (const url of ['/devices/fridge', '/admin/users', '/login?next=%2Fdevices']) {
      const res = await h.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX);
    }
    const api = await h.app.inject({ url: '/api/v1/nope' });
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.json()).toMatchObject({ code: 'NOT_FOUND', detail: 'No route GET /api/v1/nope' });
    const missing = await h.app.inject({ url: '/assets/gone-999.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    // The API itself is untouched.
    const health = await h.app.inject({ url: '/api/v1/health' });
    expect(health.statusCode).toBe(200);
    expect(health.headers['content-type']).toMatch(/^application\/json/);
  });

  it('serves the dashboard without login while the API still demands it', async () => {
    h = await startApi(target.url, {
      server: {
        frontendDir: dist,
        access: {
          authorize(_request, access) {
            if (access !== 'public') throw new ApiError('UNAUTHORIZED', 'log in first');
          },
          canSeeDevice: () => false,
        },
      },
    });
    expect((await h.app.inject({ url: '/' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/devices/fridge' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/assets/index-abc123.js' })).statusCode).toBe(200);
    const api = await h.app.inject({ url: '/api/v1/devices', headers: { authorization: '' } });
    expect(api.statusCode).toBe(401);
  });

  it('says how to build the dashboard when it has not been built', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'joulehub-nodist-'));
    try {
      h = await startApi(target.url, { server: { frontendDir: empty } });
      const res = await h.app.inject({ url: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('npm run build');
      expect((await h.app.inject({ url: '/api/v1/nope' })).statusCode).toBe(404);
      expect((await h.app.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
