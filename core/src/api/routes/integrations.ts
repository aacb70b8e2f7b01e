/**
 * GET /api/v1/integrations — status of every configured integration instance;
 * GET /api/v1/integrations/{instance_id}/diagnostics — what a running instance reports about itself
 * (per-device counters of bad input, command failures, …), with secret-looking keys redacted.
 */
import type { FastifyInstance } from 'fastify';
import { redactSecrets } from '../../hub/logger.js';
import { ApiError } from '../errors.js';
import type { RouteDeps } from '../deps.js';
import { listOf } from '../schemas.js';
import { integrationToWire } from '../wire.js';

const STATUSES = ['starting', 'running', 'not_ready', 'config_error', 'failed', 'stopped'];

export async function integrationRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.get('/api/v1/integrations', {
    config: { access: 'read' },
    schema: {
      tags: ['system'],
      summary: 'Integration instances and their status',
      response: {
        200: listOf({
          type: 'object',
          required: ['instance_id', 'integration_id', 'status', 'error', 'attempts'],
          properties: {
            instance_id: { type: 'string' },
            integration_id: { type: 'string' },
            status: { type: 'string', enum: STATUSES },
            error: { type: ['string', 'null'] },
            attempts: { type: 'integer', description: 'Setup attempts so far (retries with backoff when not ready)' },
          },
        }),
      },
    },
  }, async () => ({ data: deps.hub.integrations().map(integrationToWire) }));

  app.get<{ Params: { instance_id: string } }>('/api/v1/integrations/:instance_id/diagnostics', {
    config: { access: 'admin' },
    schema: {
      tags: ['system'],
      summary: "An integration instance's diagnostics",
      params: {
        type: 'object',
        required: ['instance_id'],
        properties: { instance_id: { type: 'string', minLength: 1, maxLength: 200 } },
      },
      response: {
        200: {
          type: 'object',
          required: ['instance_id', 'status', 'diagnostics'],
          properties: {
            instance_id: { type: 'string' },
            status: { type: 'string', enum: STATUSES },
            diagnostics: {
              type: ['object', 'null'],
              additionalProperties: true,
              description: 'Whatever the integration reports; null while the instance is not running',
            },
          },
        },
      },
    },
  }, async (request) => {
    const id = request.params.instance_id;
    const status = deps.hub.integrations().find((s) => s.instanceId === id);
    if (!status) throw new ApiError('INTEGRATION_NOT_FOUND', `No integration instance "${id}"`);
    const diagnostics = await deps.hub.diagnostics(id);
    return { instance_id: id, status: status.status, diagnostics: diagnostics === undefined ? null : redactSecrets(diagnostics) };
  });
}
