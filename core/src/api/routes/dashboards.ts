/**
 * Dashboards, per user: GET/POST /api/v1/dashboards, GET/PUT/DELETE /api/v1/dashboards/{id},
 * PUT /api/v1/dashboards/order (the order of the tabs).
 * A caller only ever sees and changes their own dashboards (another user's id answers 404, as if it
 * did not exist). Callers without a user (the system, or everyone while no authentication is
 * configured) share the install's own dashboards. The first visit generates a dashboard from the
 * devices the caller can see.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { SYSTEM } from '../../auth/caller.js';
import { generateFirstDashboard } from '../../dashboards/generate.js';
import { cardsSchema, duplicateCardIndex, type CardPlacement } from '../../dashboards/layout.js';
import {
  createDashboard, deleteDashboard, getDashboard, listDashboards, listOrGenerate, updateDashboard, type Dashboard, type Owner,
} from '../../dashboards/store.js';
import type { Database } from '../../storage/schema.js';
import { ApiError } from '../errors.js';
import type { RouteDeps } from '../deps.js';
import { listOf, problemResponses } from '../schemas.js';
import { formatInstant } from '../time.js';

const titleSchema = { type: 'string', minLength: 1, maxLength: 100, example: 'Home' } as const;
const idParams = {
  type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const summaryProperties = {
  id: { type: 'string' },
  title: { type: 'string' },
  position: { type: 'integer', description: "Order among the user's dashboards" },
  version: { type: 'integer', description: 'Counts saves; send it back with PUT to refuse saving over newer changes' },
  card_count: { type: 'integer' },
  created_at: { type: 'string', format: 'date-time' },
  updated_at: { type: 'string', format: 'date-time' },
} as const;

const summarySchema = { type: 'object', required: Object.keys(summaryProperties), properties: summaryProperties } as const;
const dashboardSchema = {
  type: 'object',
  required: [...Object.keys(summaryProperties), 'cards'],
  properties: { ...summaryProperties, cards: cardsSchema },
} as const;

function summaryToWire(d: Dashboard) {
  return {
    id: d.id,
    title: d.title,
    position: d.position,
    version: d.version,
    card_count: d.layout.cards.length,
    created_at: formatInstant(d.createdAt.getTime()),
    updated_at: formatInstant(d.updatedAt.getTime()),
  };
}

function dashboardToWire(d: Dashboard) {
  return { ...summaryToWire(d), cards: d.layout.cards };
}

/** Whose dashboards the request works on. */
function ownerOf(request: FastifyRequest): Owner {
  const caller = request.caller ?? SYSTEM; // no access policy set a caller: today's allow-all
  if (caller.userId) return caller.userId;
  if (caller.kind === 'system') return null;
  throw new ApiError('UNAUTHORIZED', 'Sign in to see and change dashboards');
}

function checkCards(cards: CardPlacement[]): void {
  const dup = duplicateCardIndex(cards);
  if (dup !== -1) {
    throw new ApiError('VALIDATION_FAILED', `cards[${dup}].id "${cards[dup].id}" is used by an earlier card; card ids must be unique`, [
      { pointer: `/body/cards/${dup}/id`, reason: 'duplicate card id' },
    ]);
  }
}

function notFound(id: string): ApiError {
  return new ApiError('DASHBOARD_NOT_FOUND', `No dashboard "${id}"`);
}

/**
 * Puts the owner's dashboards in the order of `ids` (positions 0, 1, …) in one transaction. `ids`
 * must name exactly the owner's dashboards: anything else (one added or deleted in another tab, or
 * someone else's id) is refused with the current list, so an order is never half applied.
 * Positions are not content: versions stay, so a card edit open elsewhere still saves.
 * (Here rather than in dashboards/store.ts, which belongs to the dashboard model's owner.)
 */
export async function reorderDashboards(
  db: Kysely<Database>, owner: Owner, ids: string[],
): Promise<{ status: 'updated' } | { status: 'mismatch'; current: string[] }> {
  return db.transaction().execute(async (tx) => {
    const mine = owner === null ? sql<boolean>`user_id is null` : sql<boolean>`user_id = ${owner}`;
    const rows = await tx.selectFrom('dashboards').select('id').where(mine).orderBy('position').orderBy('created_at').orderBy('id')
      .forUpdate().execute();
    const current = rows.map((r) => r.id);
    const have = new Set(current);
    if (ids.length !== current.length || !ids.every((id) => have.has(id))) return { status: 'mismatch', current };
    await sql`update dashboards d set position = (o.n - 1)::int
      from unnest(${ids}::text[]) with ordinality as o(id, n) where d.id = o.id and ${mine}`.execute(tx);
    return { status: 'updated' };
  });
}

interface CreateBody { title: string; cards?: CardPlacement[] }
interface PutBody { title: string; cards: CardPlacement[]; position?: number; version?: number }

export async function dashboardRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub, policy } = deps;

  app.get('/api/v1/dashboards', {
    config: { access: 'read' },
    schema: {
      tags: ['dashboards'],
      summary: "The caller's dashboards (the first visit generates one from their devices)",
      response: { 200: listOf(summarySchema), ...problemResponses(401) },
    },
  }, async (request) => {
    const owner = ownerOf(request);
    const list = await listOrGenerate(hub.db, owner, () => {
      const devices = hub.devices.list().filter((d) => policy.canSeeDevice(request, d.id));
      const visible = new Set(devices.map((d) => d.id));
      const entities = hub.entities.list().filter((e) => visible.has(e.deviceId));
      return generateFirstDashboard({ devices, entities });
    });
    return { data: list.map(summaryToWire) };
  });

  app.post<{ Body: CreateBody }>('/api/v1/dashboards', {
    config: { access: 'write' },
    schema: {
      tags: ['dashboards'],
      summary: 'Create a dashboard (placed after the others)',
      body: {
        type: 'object', additionalProperties: false, required: ['title'],
        properties: { title: titleSchema, cards: cardsSchema },
      },
      response: { 201: dashboardSchema, ...problemResponses(400, 401, 413, 415) },
    },
  }, async (request, reply) => {
    const owner = ownerOf(request);
    const cards = request.body.cards ?? [];
    checkCards(cards);
    const d = await createDashboard(hub.db, owner, { title: request.body.title, layout: { cards } });
    return reply.code(201).header('location', `/api/v1/dashboards/${d.id}`).send(dashboardToWire(d));
  });

  app.put<{ Body: { ids: string[] } }>('/api/v1/dashboards/order', {
    config: { access: 'write' },
    schema: {
      tags: ['dashboards'],
      summary: "Set the order of the caller's dashboards",
      description: '`ids` lists every one of the caller\'s dashboards, first to last. A list that does not name exactly '
        + 'those (one was added or deleted elsewhere) is refused with 409; reload the list and try again.',
      body: {
        type: 'object', additionalProperties: false, required: ['ids'],
        properties: { ids: { type: 'array', uniqueItems: true, maxItems: 1000, items: idParams.properties.id } },
      },
      response: { 200: listOf(summarySchema), ...problemResponses(400, 401, 409, 415) },
    },
  }, async (request) => {
    const owner = ownerOf(request);
    const res = await reorderDashboards(hub.db, owner, request.body.ids);
    if (res.status === 'mismatch') {
      throw new ApiError('DASHBOARD_CONFLICT',
        `The order must list exactly your ${res.current.length} dashboard(s) (${res.current.join(', ')}); reload the list and try again`);
    }
    return { data: (await listDashboards(hub.db, owner)).map(summaryToWire) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/dashboards/:id', {
    config: { access: 'read' },
    schema: {
      tags: ['dashboards'],
      summary: 'A dashboard with its cards',
      params: idParams,
      response: { 200: dashboardSchema, ...problemResponses(401, 404) },
    },
  }, async (request) => {
    const d = await getDashboard(hub.db, ownerOf(request), request.params.id);
    if (!d) throw notFound(request.params.id);
    return dashboardToWire(d);
  });

  app.put<{ Params: { id: string }; Body: PutBody }>('/api/v1/dashboards/:id', {
    config: { access: 'write' },
    schema: {
      tags: ['dashboards'],
      summary: 'Save a dashboard (title, cards, position)',
      description: 'With `version` (as last read), the save is refused with 409 when the dashboard was saved since, '
        + 'so changes made in another browser are never overwritten unseen.',
      params: idParams,
      body: {
        type: 'object', additionalProperties: false, required: ['title', 'cards'],
        properties: {
          title: titleSchema,
          cards: cardsSchema,
          position: { type: 'integer', minimum: 0, maximum: 10_000 },
          version: { type: 'integer', minimum: 1 },
        },
      },
      response: { 200: dashboardSchema, ...problemResponses(400, 401, 404, 409, 413, 415) },
    },
  }, async (request) => {
    const { id } = request.params;
    const { title, cards, position, version } = request.body;
    checkCards(cards);
    const res = await updateDashboard(hub.db, ownerOf(request), id, { title, layout: { cards }, position }, version);
    if (res.status === 'not_found') throw notFound(id);
    if (res.status === 'conflict') {
      throw new ApiError('DASHBOARD_CONFLICT',
        `Dashboard "${id}" was saved elsewhere since version ${version} (now version ${res.dashboard.version}); reload it and apply your changes again`);
    }
    return dashboardToWire(res.dashboard);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/dashboards/:id', {
    config: { access: 'write' },
    schema: {
      tags: ['dashboards'],
      summary: 'Delete a dashboard',
      params: idParams,
      response: { 204: { description: 'Deleted', type: 'null' }, ...problemResponses(401, 404) },
    },
  }, async (request, reply) => {
    if (!(await deleteDashboard(hub.db, ownerOf(request), request.params.id))) throw notFound(request.params.id);
    return reply.code(204).send();
  });
}
