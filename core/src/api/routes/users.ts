/**
 * Users (admin): GET/POST /api/v1/users, GET/PATCH/DELETE /api/v1/users/{id}; the registration
 * setting and invites. Every change is written to the audit log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { User } from '../../auth/users.js';
import type { Role } from '../../auth/caller.js';
import { REGISTRATION_MODES, type RegistrationMode } from '../../auth/settings.js';
import { MAX_PASSWORD_LENGTH } from '../../auth/passwords.js';
import { ApiError } from '../errors.js';
import type { RouteDeps } from '../deps.js';
import { listOf, problemResponses } from '../schemas.js';
import { formatInstant } from '../time.js';

export interface UserWire {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  has_password: boolean;
  created_at: string;
  updated_at: string;
}

export function userToWire(u: User): UserWire {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    has_password: u.hasPassword,
    created_at: formatInstant(u.createdAt.getTime()),
    updated_at: formatInstant(u.updatedAt.getTime()),
  };
}

export const emailProperty = { type: 'string', minLength: 3, maxLength: 320, example: 'ada@example.org' } as const;
export const passwordProperty = { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH, description: 'At least 8 characters' } as const;
const nameProperty = { type: ['string', 'null'], maxLength: 200, description: 'Display name' } as const;
const roleProperty = { type: 'string', enum: ['admin', 'user'] } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } } as const;

/** Who acts, for the audit log. */
export function actorOf(request: FastifyRequest): { id: string | null } {
  return { id: request.caller?.userId ?? null };
}

export async function userRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const auth = deps.hub.auth;

  app.get('/api/v1/users', {
    config: { access: 'admin' },
    schema: { tags: ['users'], summary: 'List users (admin)', response: { 200: listOf({ $ref: 'User#' }) } },
  }, async () => ({ data: (await auth.users.list()).map(userToWire) }));

  app.post<{ Body: { email: string; password?: string; name?: string | null; role?: Role } }>('/api/v1/users', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Create a user (admin)',
      description: 'Without a password the account cannot log in until one is set (PATCH) or it signs in another way.',
      body: {
        type: 'object', additionalProperties: false, required: ['email'],
        properties: { email: emailProperty, password: passwordProperty, name: nameProperty, role: { ...roleProperty, default: 'user' } },
      },
      response: { 201: { $ref: 'User#' }, ...problemResponses(400, 409, 415) },
    },
  }, async (request, reply) => {
    const { email, password, name, role } = request.body;
    const user = await auth.users.create({ email, role: role ?? 'user', name: name ?? null, ...(password !== undefined ? { password } : {}) });
    await auth.record({ actor: actorOf(request), action: 'user_created', target: user.id, ip: request.ip, detail: { email: user.email, role: user.role } });
    return reply.code(201).header('location', `/api/v1/users/${user.id}`).send(userToWire(user));
  });

  app.get<{ Params: { id: string } }>('/api/v1/users/:id', {
    config: { access: 'admin' },
    schema: { tags: ['users'], summary: 'Get a user (admin)', params: idParams, response: { 200: { $ref: 'User#' }, ...problemResponses(404) } },
  }, async (request) => {
    const user = await auth.users.get(request.params.id);
    if (!user) throw new ApiError('USER_NOT_FOUND', `No user "${request.params.id}"`);
    return userToWire(user);
  });

  app.patch<{ Params: { id: string }; Body: { email?: string; name?: string | null; role?: Role; password?: string } }>('/api/v1/users/:id', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: "Change a user's email, name or role, or reset their password (admin)",
      description: "A password reset ends the user's sessions.",
      params: idParams,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: { email: emailProperty, name: nameProperty, role: roleProperty, password: passwordProperty },
      },
      response: { 200: { $ref: 'User#' }, ...problemResponses(400, 404, 409, 415) },
    },
  }, async (request) => {
    const { id } = request.params;
    const user = await auth.users.update(id, request.body);
    if (request.body.password !== undefined) await auth.endSessions(id);
    else if (request.body.role !== undefined) auth.rightsChanged(id);
    await auth.record({
      actor: actorOf(request), action: 'user_updated', target: id, ip: request.ip,
      // Field names only: a new password never reaches the log.
      detail: { fields: Object.keys(request.body).sort(), ...(request.body.role ? { role: request.body.role } : {}), ...(request.body.email ? { email: user.email } : {}) },
    });
    return userToWire(user);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/users/:id', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Delete a user (admin); their devices become orphans, their sessions and tokens end',
      params: idParams,
      response: { 204: { description: 'Deleted', type: 'null' }, ...problemResponses(404, 409) },
    },
  }, async (request, reply) => {
    const user = await auth.deleteUser(request.params.id);
    await auth.record({ actor: actorOf(request), action: 'user_deleted', target: user.id, ip: request.ip, detail: { email: user.email } });
    return reply.code(204).send();
  });

  const registrationSchema = {
    type: 'object', required: ['registration'],
    properties: { registration: { type: 'string', enum: [...REGISTRATION_MODES], description: 'open: anyone may register; invite: only with an invite' } },
  } as const;

  app.get('/api/v1/settings/registration', {
    config: { access: 'admin' },
    schema: { tags: ['users'], summary: 'Who may register (admin)', response: { 200: registrationSchema } },
  }, async () => ({ registration: await auth.settings.registration() }));

  app.put<{ Body: { registration: RegistrationMode } }>('/api/v1/settings/registration', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Open registration, or make it invite-only (admin)',
      body: { ...registrationSchema, additionalProperties: false },
      response: { 200: registrationSchema, ...problemResponses(400, 415) },
    },
  }, async (request) => {
    await auth.settings.setRegistration(request.body.registration);
    await auth.record({ actor: actorOf(request), action: 'registration_changed', ip: request.ip, detail: { registration: request.body.registration } });
    return { registration: request.body.registration };
  });

  app.post<{ Body: { email?: string; role?: Role } }>('/api/v1/invites', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Create an invite (admin); its secret is shown once',
      body: { type: 'object', additionalProperties: false, properties: { email: { ...emailProperty, description: 'Only this email may use it' }, role: { ...roleProperty, default: 'user' } } },
      response: {
        201: {
          type: 'object', required: ['id', 'invite', 'email', 'role', 'expires_at'],
          properties: {
            id: { type: 'string' },
            invite: { type: 'string', description: 'Give this to the person: POST /api/v1/auth/register with it' },
            email: { type: ['string', 'null'] },
            role: roleProperty,
            expires_at: { type: 'string', format: 'date-time' },
          },
        },
        ...problemResponses(400, 415),
      },
    },
  }, async (request, reply) => {
    const { invite, secret } = await auth.invites.create({ email: request.body.email ?? null, role: request.body.role ?? 'user', createdBy: request.caller?.userId ?? null });
    await auth.record({ actor: actorOf(request), action: 'invite_created', target: invite.id, ip: request.ip, detail: { email: invite.email, role: invite.role } });
    return reply.code(201).send({ id: invite.id, invite: secret, email: invite.email, role: invite.role, expires_at: formatInstant(invite.expiresAt.getTime()) });
  });
}
