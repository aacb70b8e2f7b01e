/**
 * Messages between users and the admins (issue 4): `/api/v1/messages/…`. A conversation is named by
 * its user's id; a user reaches only their own (403 otherwise), an admin every user's (404 for an
 * unknown user). Live delivery, typing and read receipts: see messages/service.ts and the WebSocket.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_BODY_LENGTH, MessageService, type Party } from '../../messages/service.js';
import type { RouteDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { problemResponses } from '../schemas.js';

const messageSchema = {
  type: 'object',
  required: ['id', 'conversation', 'author', 'from', 'body', 'created_at', 'read_at'],
  properties: {
    id: { type: 'integer' },
    conversation: { type: 'string', description: 'Id of the user whose conversation with the admins this is' },
    author: { type: ['string', 'null'], description: 'User id of the author; null once the account is deleted' },
    from: { type: 'string', enum: ['user', 'admins'], description: 'Which side wrote it' },
    body: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    read_at: { type: ['string', 'null'], format: 'date-time', description: 'When the other side read it (read receipt)' },
  },
} as const;

const conversationParams = {
  type: 'object',
  required: ['user_id'],
  properties: { user_id: { type: 'string', minLength: 1, maxLength: 200, description: 'The user whose conversation with the admins' } },
} as const;

/** The logged-in user behind a request; messages belong to people, not to the system or anonymous callers. */
function partyOf(request: FastifyRequest): Party {
  const caller = request.caller;
  if (!caller?.userId || !caller.role) throw new ApiError('UNAUTHORIZED', 'messages need a logged-in user (session or API token)');
  return { userId: caller.userId, role: caller.role };
}

export async function messageRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub } = deps;
  const service = new MessageService({ db: hub.db, bus: hub.bus, clock: hub.clock, users: hub.auth.users });

  app.get('/api/v1/messages/unread', {
    config: { access: 'read' },
    schema: {
      tags: ['messages'],
      summary: 'Unread messages: from the admins in your conversation; for admins, from every user too',
      response: {
        200: {
          type: 'object',
          required: ['total', 'conversations'],
          properties: {
            total: { type: 'integer' },
            conversations: {
              type: 'array',
              items: { type: 'object', required: ['conversation', 'unread'], properties: { conversation: { type: 'string' }, unread: { type: 'integer' } } },
            },
          },
        },
        ...problemResponses(401, 403),
      },
    },
  }, async (request) => service.unread(partyOf(request)));

  app.get<{ Querystring: { limit: number } }>('/api/v1/messages/conversations', {
    config: { access: 'read' },
    schema: {
      tags: ['messages'],
      summary: "Conversations with their newest message and unread count, newest first (a user: only their own)",
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      },
      response: {
        200: {
          type: 'object',
          required: ['data'],
          properties: {
            data: {
              type: 'array',
              items: {
                type: 'object',
                required: ['conversation', 'last_message', 'unread'],
                properties: {
                  conversation: { type: 'string' },
                  last_message: { anyOf: [messageSchema, { type: 'null' }] },
                  unread: { type: 'integer' },
                },
              },
            },
          },
        },
        ...problemResponses(400, 401, 403),
      },
    },
  }, async (request) => ({ data: await service.conversations(partyOf(request), request.query.limit) }));

  app.get<{ Params: { user_id: string }; Querystring: { before?: number; limit: number } }>('/api/v1/messages/conversations/:user_id', {
    config: { access: 'read' },
    schema: {
      tags: ['messages'],
      summary: 'A page of a conversation, oldest first; pass next_before as before for the page before it',
      params: conversationParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          before: { type: 'integer', minimum: 1, description: 'Only messages older than this message id' },
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['data', 'next_before'],
          properties: {
            data: { type: 'array', items: messageSchema },
            next_before: { type: ['integer', 'null'], description: 'Message id to page back from; null at the first message' },
          },
        },
        ...problemResponses(400, 401, 403, 404),
      },
    },
  }, async (request) => {
    const { before, limit } = request.query;
    const page = await service.history(partyOf(request), request.params.user_id, before !== undefined ? { before, limit } : { limit });
    return { data: page.messages, next_before: page.next_before };
  });

  app.post<{ Params: { user_id: string }; Body: { body: string } }>('/api/v1/messages/conversations/:user_id', {
    config: { access: 'write' },
    schema: {
      tags: ['messages'],
      summary: 'Send a message: a user to the admins (their own id), an admin to any user',
      params: conversationParams,
      body: {
        type: 'object',
        required: ['body'],
        additionalProperties: false,
        properties: { body: { type: 'string', minLength: 1, maxLength: MAX_BODY_LENGTH } },
      },
      response: { 201: messageSchema, ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const message = await service.send(partyOf(request), request.params.user_id, request.body.body);
    return reply.code(201).send(message);
  });

  app.post<{ Params: { user_id: string }; Body: { up_to?: number } | undefined }>('/api/v1/messages/conversations/:user_id/read', {
    config: { access: 'write' },
    schema: {
      tags: ['messages'],
      summary: "Mark the other side's messages read (all, or up to a message id); their authors get a read receipt",
      params: conversationParams,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { up_to: { type: 'integer', minimum: 1, description: 'Last message id read (default: all)' } },
      },
      response: {
        200: {
          type: 'object',
          required: ['read', 'read_at'],
          properties: {
            read: { type: 'array', items: { type: 'integer' }, description: 'Ids of the messages this marked read' },
            read_at: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        ...problemResponses(400, 401, 403, 404),
      },
    },
  }, async (request) => service.markRead(partyOf(request), request.params.user_id, request.body?.up_to));
}
