/**
 * Your own API tokens: POST/GET /api/v1/auth/tokens, DELETE /api/v1/auth/tokens/{id}. The token
 * itself is returned once, at creation; afterwards only its name, scopes and use are shown.
 */
import type { FastifyInstance } from 'fastify';
import { SCOPES, type Scope } from '../../auth/caller.js';
import { ROLE_SCOPES } from '../../auth/service.js';
import type { ApiToken } from '../../auth/tokens.js';
import { ApiError } from '../errors.js';
import type { RouteDeps } from '../deps.js';
import { apiTokenSchema, listOf, problemResponses } from '../schemas.js';
import { formatInstant } from '../time.js';
import { actorOf } from './users.js';

export function tokenToWire(t: ApiToken) {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    devices: t.deviceIds,
    created_at: formatInstant(t.createdAt.getTime()),
    last_used_at: t.lastUsedAt ? formatInstant(t.lastUsedAt.getTime()) : null,
    revoked_at: t.revokedAt ? formatInstant(t.revokedAt.getTime()) : null,
  };
}

export async function tokenRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub } = deps;
  const auth = hub.auth;

  app.post<{ Body: { name: string; scopes: Scope[]; devices?: string[] } }>('/api/v1/auth/tokens', {
    config: { access: 'write' },
    schema: {
      tags: ['auth'],
      summary: 'Create an API token (from a logged-in session); the token is in this answer only',
      description: 'Send it as `Authorization: Bearer <token>` (REST and the WebSocket). Scopes: read, write, ingest; '
        + 'admin for admins. `devices` limits the token to some of your devices.',
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'scopes'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200, example: 'meter script' },
          scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] }, example: ['ingest'] },
          devices: { type: 'array', minItems: 1, maxItems: 10_000, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
        },
      },
      response: {
        201: {
          type: 'object', required: ['token', 'id', 'name', 'scopes', 'devices', 'created_at', 'last_used_at', 'revoked_at'],
          properties: { token: { type: 'string', description: 'The secret; shown only here' }, ...apiTokenSchema.properties },
        },
        ...problemResponses(400, 403, 404, 415),
      },
    },
  }, async (request, reply) => {
    const caller = request.caller!;
    // A token cannot mint tokens: a leaked one must not be able to outlive its own revocation.
    if (caller.kind !== 'session') throw new ApiError('FORBIDDEN', 'create API tokens from a logged-in session');
    const { name, scopes, devices } = request.body;
    const refused = scopes.filter((s) => !ROLE_SCOPES[caller.role!].includes(s));
    if (refused.length > 0) throw new ApiError('SCOPE_NOT_ALLOWED', `your account cannot grant: ${refused.join(', ')}`);
    for (const id of devices ?? []) {
      if (!hub.devices.get(id)) throw new ApiError('DEVICE_NOT_FOUND', `No device "${id}"`);
      if (!deps.policy.canSeeDevice(request, id)) throw new ApiError('FORBIDDEN', `Device "${id}" is not yours`);
    }
    const { token, secret } = await auth.tokens.create(caller.userId!, { name, scopes, deviceIds: devices ?? null });
    await auth.record({ actor: actorOf(request), action: 'token_created', target: token.id, ip: request.ip, detail: { name, scopes, devices: devices ?? null } });
    return reply.code(201).send({ token: secret, ...tokenToWire(token) });
  });

  app.get('/api/v1/auth/tokens', {
    config: { access: 'read' },
    schema: { tags: ['auth'], summary: 'Your API tokens, newest first (revoked ones too)', response: { 200: listOf({ $ref: 'ApiToken#' }) } },
  }, async (request) => ({ data: (await auth.tokens.list(request.caller!.userId!)).map(tokenToWire) }));

  app.delete<{ Params: { id: string } }>('/api/v1/auth/tokens/:id', {
    config: { access: 'write' },
    schema: {
      tags: ['auth'],
      summary: 'Revoke one of your API tokens; every later request with it is refused',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: { 204: { description: 'Revoked', type: 'null' }, ...problemResponses(404) },
    },
  }, async (request, reply) => {
    const token = await auth.revokeToken(request.caller!.userId!, request.params.id);
    await auth.record({ actor: actorOf(request), action: 'token_revoked', target: token.id, ip: request.ip });
    return reply.code(204).send();
  });
}
