/** GET /api/v1/integrations — status of every configured integration instance. */
import type { FastifyInstance } from 'fastify';
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
}
