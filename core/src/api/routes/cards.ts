/**
 * Third-party cards: `GET /api/v1/cards` lists the card modules in the configured folder
 * (`dashboard.cards_dir` in joulehub.yaml) and `/cards/<file>` serves them. The dashboard imports
 * every listed module; a module registers its element and adds itself to `window.customCards`, as
 * Home Assistant's custom cards do. A missing or unreadable folder lists nothing (logged once).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { RouteDeps } from '../deps.js';
import { listOf } from '../schemas.js';

export const CARDS_URL_PREFIX = '/cards/';
/** A plain file name: no folders, no dot files, JavaScript modules only. */
const CARD_FILE = /^[A-Za-z0-9_][A-Za-z0-9._-]*\.m?js$/;

export interface CardModule { file: string; url: string; size: number; modified: string }

export async function listCardModules(dir: string): Promise<CardModule[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && CARD_FILE.test(e.name))
    .map((e) => e.name)
    .sort();
  const out: CardModule[] = [];
  for (const file of names) {
    const s = await stat(path.join(dir, file));
    out.push({ file, url: CARDS_URL_PREFIX + encodeURIComponent(file), size: s.size, modified: s.mtime.toISOString() });
  }
  return out;
}

export async function cardRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  let warned = false;
  const list = async (): Promise<CardModule[]> => {
    const dir = deps.hub.config.cardsDir;
    if (!dir) return [];
    try {
      return await listCardModules(dir);
    } catch (err) {
      if (!warned) app.log.warn({ err, dir }, 'third-party card folder cannot be read; no custom cards are offered');
      warned = true;
      return [];
    }
  };

  app.get('/api/v1/cards', {
    config: { access: 'read' },
    schema: {
      tags: ['dashboards'],
      summary: 'Third-party card modules the dashboard loads (from dashboard.cards_dir)',
      response: {
        200: listOf({
          type: 'object',
          required: ['file', 'url', 'size', 'modified'],
          properties: {
            file: { type: 'string' },
            url: { type: 'string', description: 'Where the hub serves the module' },
            size: { type: 'integer' },
            modified: { type: 'string', format: 'date-time' },
          },
        }),
      },
    },
  }, async () => ({ data: await list() }));

  // Outside /api: public like the rest of the dashboard's static files.
  // Not part of the API document (like the dashboard's other files): hidden from OpenAPI.
  app.get<{ Params: { file: string } }>(`${CARDS_URL_PREFIX}:file`, { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params;
    const dir = deps.hub.config.cardsDir;
    if (!dir || !CARD_FILE.test(file)) throw new ApiError('NOT_FOUND', `No card module "${file}"`);
    let body: Buffer;
    try {
      body = await readFile(path.join(dir, file));
    } catch {
      throw new ApiError('NOT_FOUND', `No card module "${file}"`);
    }
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(body);
  });
}
