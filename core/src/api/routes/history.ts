/** GET /api/v1/history — raw samples of one entity, bounded by a limit with a continuation point. */
import type { FastifyInstance } from 'fastify';
import { requireEntity, type RouteDeps } from '../deps.js';
import { QueryProblems, rangeQueryProperties, tzQueryProperty } from '../query.js';
import { problemResponses } from '../schemas.js';
import { formatInstant } from '../time.js';

export const HISTORY_DEFAULT_LIMIT = 1000;
export const HISTORY_MAX_LIMIT = 10_000;
const DEFAULT_SPAN_MS = 24 * 3600 * 1000;

interface HistoryQuery { entity: string; start?: string; end?: string; limit: number; tz?: string }

export async function historyRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub } = deps;

  app.get<{ Querystring: HistoryQuery }>('/api/v1/history', {
    config: { access: 'read' },
    attachValidation: true,
    schema: {
      tags: ['states'],
      summary: 'Raw samples of an entity in [start, end), oldest first',
      description: 'Values are canonical (W, kWh …); null marks the entity unavailable from that time. '
        + 'Defaults to the last 24 hours. When more samples match than `limit`, `next` is the start of the next page.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['entity'],
        properties: {
          entity: { type: 'string', minLength: 1, example: 'fridge.power' },
          ...rangeQueryProperties,
          tz: tzQueryProperty,
          limit: { type: 'integer', minimum: 1, maximum: HISTORY_MAX_LIMIT, default: HISTORY_DEFAULT_LIMIT },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['entity', 'start', 'end', 'data', 'next'],
          properties: {
            entity: { type: 'string' },
            start: { type: 'string', format: 'date-time' },
            end: { type: 'string', format: 'date-time' },
            data: {
              type: 'array',
              items: {
                type: 'object',
                required: ['datetime', 'value'],
                properties: { datetime: { type: 'string', format: 'date-time' }, value: { type: ['number', 'null'] } },
              },
            },
            next: { type: ['string', 'null'], format: 'date-time', description: 'Pass as `start` for the next page; null when complete' },
          },
        },
        ...problemResponses(400, 404),
      },
    },
  }, async (request) => {
    const q = request.query;
    const problems = new QueryProblems(request);
    const tz = problems.timeZone(q.tz, hub.config.tz);
    const end = q.end !== undefined ? problems.instant('end', q.end, tz) : hub.clock.now();
    const start = q.start !== undefined ? problems.instant('start', q.start, tz) : (end ?? 0) - DEFAULT_SPAN_MS;
    if (start !== undefined && end !== undefined && start > end) problems.add('start', 'start is after end');
    problems.throwIfAny();
    const entity = requireEntity(deps, request, q.entity);

    const rows = await hub.db
      .selectFrom('samples')
      .select(['time', 'value'])
      .where('entity_id', '=', entity.id)
      .where('time', '>=', new Date(start!))
      .where('time', '<', new Date(end!))
      .orderBy('time')
      .limit(q.limit + 1)
      .execute();
    const page = rows.slice(0, q.limit);
    return {
      entity: entity.id,
      start: formatInstant(start!),
      end: formatInstant(end!),
      data: page.map((r) => ({ datetime: formatInstant(r.time), value: r.value === null ? null : Number(r.value) })),
      next: rows.length > q.limit ? formatInstant(rows[q.limit].time) : null,
    };
  });
}
