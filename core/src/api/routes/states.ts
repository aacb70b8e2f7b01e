/** States: GET /api/v1/states, GET /api/v1/states/{entity_id}. */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { requireDevice, requireEntity, type RouteDeps } from '../deps.js';
import { listOf, problemResponses } from '../schemas.js';
import { stateToWire } from '../wire.js';

export async function stateRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub, policy } = deps;

  app.get<{ Querystring: { device?: string } }>('/api/v1/states', {
    config: { access: 'read' },
    schema: {
      tags: ['states'],
      summary: 'Latest state of every entity (optionally of one device)',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { device: { type: 'string', minLength: 1, description: 'Only states of this device' } },
      },
      response: { 200: listOf({ $ref: 'State#' }), ...problemResponses(400, 404) },
    },
  }, async (request) => {
    const { device } = request.query;
    if (device !== undefined) requireDevice(deps, request, device);
    const states = hub.states.all()
      .filter((s) => (device === undefined || s.deviceId === device) && policy.canSeeDevice(request, s.deviceId))
      .sort((a, b) => (a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0));
    return { data: states.map(stateToWire) };
  });

  app.get<{ Params: { entity_id: string } }>('/api/v1/states/:entity_id', {
    config: { access: 'read' },
    schema: {
      tags: ['states'],
      summary: 'Latest state of one entity',
      params: { type: 'object', required: ['entity_id'], properties: { entity_id: { type: 'string', minLength: 1 } } },
      response: { 200: { $ref: 'State#' }, ...problemResponses(404) },
    },
  }, async (request) => {
    const entity = requireEntity(deps, request, request.params.entity_id);
    const state = hub.states.get(entity.id);
    if (!state) throw new ApiError('STATE_NOT_FOUND', `Entity "${entity.id}" has not reported a value yet`);
    return stateToWire(state);
  });
}
