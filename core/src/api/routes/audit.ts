/** The audit log (admin): GET /api/v1/audit, newest first, paged with `before`. */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.js';
import { problemResponses } from '../schemas.js';
import { formatInstant } from '../time.js';

interface AuditQs { limit: number; before?: number; action?: string; actor?: string }

export async function auditRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const auth = deps.hub.auth;

  app.get<{ Querystring: AuditQs }>('/api/v1/audit', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Audit log of logins and admin actions, newest first (admin)',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          before: { type: 'integer', minimum: 1, description: 'Only entries with a smaller id (the next page: the last id you got)' },
          action: { type: 'string', minLength: 1, maxLength: 64, description: 'Only this action, e.g. login_failed' },
          actor: { type: 'string', minLength: 1, maxLength: 100, description: 'Only actions of this user id' },
        },
      },
      response: {
        200: {
          type: 'object', required: ['data'],
          properties: {
            data: {
              type: 'array',
              items: {
                type: 'object',
                required: ['id', 'at', 'actor_id', 'actor_email', 'action', 'target', 'ip', 'detail'],
                properties: {
                  id: { type: 'integer' },
                  at: { type: 'string', format: 'date-time' },
                  actor_id: { type: ['string', 'null'] },
                  actor_email: { type: ['string', 'null'] },
                  action: { type: 'string', example: 'login_failed' },
                  target: { type: ['string', 'null'], description: 'What was acted on: a user id, a token id, an email for failed logins' },
                  ip: { type: ['string', 'null'] },
                  detail: { type: 'object', additionalProperties: true },
                },
              },
            },
          },
        },
        ...problemResponses(400),
      },
    },
  }, async (request) => {
    const q = request.query;
    const entries = await auth.audit.list({
      limit: q.limit,
      ...(q.before !== undefined ? { before: q.before } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.actor !== undefined ? { actorId: q.actor } : {}),
    });
    return {
      data: entries.map((e) => ({
        id: e.id, at: formatInstant(e.at.getTime()), actor_id: e.actorId, actor_email: e.actorEmail,
        action: e.action, target: e.target, ip: e.ip, detail: e.detail,
      })),
    };
  });
}
