/** Notifications: GET /api/v1/notifications (the caller's own, newest first, unread count), POST …/{id}/read. */
import type { FastifyInstance } from 'fastify';
import { SYSTEM } from '../../auth/caller.js';
import type { RouteDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { problemResponses } from '../schemas.js';

const notification = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    user_id: { type: ['string', 'null'], description: 'null: addressed to every admin' },
    device_id: { type: ['string', 'null'] },
    rule_id: { type: ['string', 'null'] },
    level: { type: 'string', enum: ['info', 'warning', 'critical'] },
    title: { type: 'string' },
    message: { type: 'string' },
    created_at: { type: 'string' },
    read_at: { type: ['string', 'null'] },
  },
} as const;

export async function notificationRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub } = deps;

  app.get<{ Querystring: { limit?: number; unread?: boolean } }>('/api/v1/notifications', {
    config: { access: 'read' },
    schema: {
      tags: ['notifications'],
      summary: 'Your notifications, newest first, with the number unread',
      description: 'New ones also arrive live on the WebSocket as `{ "type": "notification", "notification": {…} }`.',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, unread: { type: 'boolean', description: 'Only unread ones' } },
      },
      response: { 200: { type: 'object', required: ['data', 'unread'], properties: { data: { type: 'array', items: notification }, unread: { type: 'integer' } } }, ...problemResponses(400) },
    },
  }, async (request) => hub.notifications.list(request.caller ?? SYSTEM, { limit: request.query.limit ?? 50, unreadOnly: request.query.unread === true }));

  app.post<{ Params: { id: string } }>('/api/v1/notifications/:id/read', {
    config: { access: 'write' },
    schema: {
      tags: ['notifications'], summary: 'Mark a notification read',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 20 } } },
      response: { 200: notification, ...problemResponses(404) },
    },
  }, async (request) => {
    const n = await hub.notifications.markRead(request.caller ?? SYSTEM, request.params.id);
    if (!n) throw new ApiError('NOTIFICATION_NOT_FOUND', `No notification "${request.params.id}"`);
    return n;
  });
}
