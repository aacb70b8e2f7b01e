/** GET /api/v1/quarantine — readings the plausibility guard refused, with the reason. */
import type { FastifyInstance } from 'fastify';
import { requireEntity, type RouteDeps } from '../deps.js';
import { listOf, problemResponses } from '../schemas.js';
import { quarantineToWire } from '../wire.js';

export async function quarantineRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub, policy } = deps;

  app.get<{ Querystring: { entity?: string; limit: number } }>('/api/v1/quarantine', {
    config: { access: 'read' },
    schema: {
      tags: ['states'],
      summary: 'Quarantined readings (sentinels, implausible power), newest first',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          entity: { type: 'string', minLength: 1, description: 'Only readings of this entity' },
          limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
        },
      },
      response: {
        200: listOf({
          type: 'object',
          required: ['entity_id', 'datetime', 'value', 'raw', 'reason', 'received_at'],
          properties: {
            entity_id: { type: 'string' },
            datetime: { type: 'string', format: 'date-time', description: 'Time of the reading' },
            value: { type: ['number', 'null'] },
            raw: { type: ['string', 'null'], description: 'The value as received, when it was not a number' },
            reason: { type: 'string' },
            received_at: { type: 'string', format: 'date-time' },
          },
        }),
        ...problemResponses(400, 404),
      },
    },
  }, async (request) => {
    const { entity, limit } = request.query;
    if (entity !== undefined) requireEntity(deps, request, entity);
    const rows = await hub.quarantine(entity !== undefined ? { entityId: entity, limit } : { limit });
    const visible = rows.filter((r) => {
      const e = hub.entities.get(r.entityId);
      return !e || policy.canSeeDevice(request, e.deviceId);
    });
    return { data: visible.map(quarantineToWire) };
  });
}
