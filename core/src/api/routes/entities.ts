/** Entities: GET /api/v1/entities, POST /api/v1/entities/{entity_id}/command. */
import type { FastifyInstance } from 'fastify';
import { JoulehubError } from '../../sdk/errors.js';
import { ApiError } from '../errors.js';
import { requireDevice, requireEntity, type RouteDeps } from '../deps.js';
import { listOf, problemResponses } from '../schemas.js';
import { entityToWire } from '../wire.js';

export const API_COMMANDS = ['turn_on', 'turn_off', 'toggle'] as const;
type ApiCommand = (typeof API_COMMANDS)[number];

export async function entityRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub, policy } = deps;

  app.get<{ Querystring: { device?: string } }>('/api/v1/entities', {
    config: { access: 'read' },
    schema: {
      tags: ['entities'],
      summary: 'List entities, optionally of one device',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { device: { type: 'string', minLength: 1, description: 'Only entities of this device' } },
      },
      response: { 200: listOf({ $ref: 'Entity#' }), ...problemResponses(400, 404) },
    },
  }, async (request) => {
    const { device } = request.query;
    if (device !== undefined) requireDevice(deps, request, device);
    const entities = hub.entities.list(device !== undefined ? { deviceId: device } : undefined)
      .filter((e) => policy.canSeeDevice(request, e.deviceId))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { data: entities.map(entityToWire) };
  });

  app.post<{ Params: { entity_id: string }; Body: { command: ApiCommand } }>('/api/v1/entities/:entity_id/command', {
    config: { access: 'write' },
    schema: {
      tags: ['entities'],
      summary: 'Send a command to a switch; its new state arrives when the device confirms',
      params: { type: 'object', required: ['entity_id'], properties: { entity_id: { type: 'string', minLength: 1 } } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['command'],
        properties: { command: { type: 'string', enum: [...API_COMMANDS] } },
      },
      response: {
        202: {
          description: 'Handed to the owning integration',
          type: 'object',
          required: ['entity_id', 'command', 'status'],
          properties: {
            entity_id: { type: 'string' },
            command: { type: 'string' },
            status: { type: 'string', enum: ['accepted'] },
          },
        },
        ...problemResponses(400, 404, 409, 415),
      },
    },
  }, async (request, reply) => {
    const entity = requireEntity(deps, request, request.params.entity_id);
    if (entity.kind !== 'switch') {
      throw new ApiError('NOT_COMMANDABLE', `Entity "${entity.id}" is a ${entity.kind}; only switches accept commands`);
    }
    const { command } = request.body;
    try {
      await hub.sendCommand({ entityId: entity.id, command });
    } catch (err) {
      // Hub errors carry their own status (see server.ts); other coded refusals (an integration's
      // onCommand throwing) are the caller's problem to see, not a server fault.
      if (err instanceof JoulehubError && !('statusCode' in err)) throw new ApiError('COMMAND_FAILED', err.message);
      throw err;
    }
    return reply.code(202).send({ entity_id: entity.id, command, status: 'accepted' });
  });
}
