/**
 * The dashboard (frontend/dist, built by Vite) served at `/`. Every path outside `/api` is public;
 * a path without a file extension that matches no file gets index.html (the dashboard's router
 * reads the path), so `/devices/fridge` can be reloaded or bookmarked. Nothing here shadows the
 * API: an unknown `/api/…` path still answers a problem+json 404. Hashed assets are cached for a
 * year; index.html is revalidated on every load, so a new build reaches browsers at once.
 * When the dashboard has not been built, `/` says how to build it instead of a bare 404.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { ApiError } from './errors.js';

/** frontend/dist of this checkout. */
export function defaultFrontendDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../frontend/dist');
}

/** Paths the dashboard never owns: they keep the API's 404. */
const NOT_DASHBOARD = /^\/(api|cards)(\/|$)/;

function hasExtension(url: string): boolean {
  const last = url.slice(url.lastIndexOf('/') + 1);
  return last.includes('.');
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Joulehub</title>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Joulehub is running</h1><p>The dashboard has not been built yet. Run <code>npm run build</code>
(or start the hub with <code>npm start</code>, which builds it), then reload this page.</p>
<p>The API is at <a href="/api/docs">/api/docs</a>.</p></body></html>`;

export async function registerFrontend(app: FastifyInstance, dir: string): Promise<void> {
  const root = path.resolve(dir);
  const built = existsSync(path.join(root, 'index.html'));

  const notFound = (url: string): never => {
    throw new ApiError('NOT_FOUND', `No route GET ${pathOf(url)}`);
  };

  if (!built) {
    app.log.warn({ dir: root }, 'the dashboard is not built (npm run build); / shows how to build it');
    app.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const url = pathOf(request.url);
      if (NOT_DASHBOARD.test(url) || hasExtension(url)) notFound(request.url);
      return reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT_PAGE);
    });
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per built file, so the catch-all below is the only wildcard.
    wildcard: false,
    preCompressed: true,
    // `/` goes through the catch-all below: the plugin's own index route answers 404 when the
    // browser accepts compressed encodings and index.html has no precompressed twin.
    index: false,
    cacheControl: false,
    dotfiles: 'ignore',
    schemaHide: true,
    setHeaders(reply, filePath) {
      const immutable = filePath.startsWith(path.join(root, 'assets') + path.sep);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  const dashboard = async (request: FastifyRequest, reply: FastifyReply) => {
    const url = pathOf(request.url);
    if (NOT_DASHBOARD.test(url) || hasExtension(url)) notFound(request.url);
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  };
  app.get('/', { schema: { hide: true } }, dashboard);
  app.get('/*', { schema: { hide: true } }, dashboard);
}
