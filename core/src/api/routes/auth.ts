/**
 * Logging in and out, the first admin (onboarding), registration and one's own password:
 * /api/v1/auth/*. A session is an HttpOnly, SameSite=Lax cookie (Secure when the request came over
 * TLS) holding a random secret; the database keeps only its hash.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../../auth/policy.js';
import type { Session } from '../../auth/sessions.js';
import { canonicalLocale, canonicalTimeZone, type Preferences, type User } from '../../auth/users.js';
import { ApiError } from '../errors.js';
import type { RouteDeps } from '../deps.js';
import { problemResponses } from '../schemas.js';
import { actorOf, emailProperty, passwordProperty, userToWire } from './users.js';

interface Credentials { email: string; password: string }

const credentialsBody = {
  type: 'object', additionalProperties: false, required: ['email', 'password'],
  properties: { email: emailProperty, password: passwordProperty },
} as const;

const sessionResponse = {
  type: 'object', required: ['user', 'expires_at'],
  properties: { user: { $ref: 'User#' }, expires_at: { type: 'string', format: 'date-time' } },
} as const;

const preferencesProperties = {
  locale: {
    type: ['string', 'null'], minLength: 1, maxLength: 64, example: 'de-DE',
    description: 'BCP 47 tag for numbers and dates; null = the browser\'s',
  },
  time_zone: {
    type: ['string', 'null'], minLength: 1, maxLength: 64, example: 'Asia/Kathmandu',
    description: 'IANA time zone for times and calendar days (the device page\'s "today", hourly charts); null = the browser\'s',
  },
} as const;

const meResponse = {
  type: 'object', required: ['user', 'via', 'scopes', 'devices', 'preferences'],
  properties: {
    user: { $ref: 'User#' },
    via: { type: 'string', enum: ['session', 'token'] },
    scopes: { type: 'array', items: { type: 'string' } },
    devices: { type: ['array', 'null'], items: { type: 'string' }, description: 'Device limit of the token; null = none' },
    preferences: { type: 'object', required: ['locale', 'time_zone'], properties: preferencesProperties },
  },
} as const;

function preferencesToWire(p: Preferences) {
  return { locale: p.locale, time_zone: p.timeZone };
}

/** The body's preferences, canonical; a value Intl does not know is a 400 naming the field. */
function readPreferences(body: { locale?: string | null; time_zone?: string | null }): Partial<Preferences> {
  const out: Partial<Preferences> = {};
  const bad: { pointer: string; reason: string }[] = [];
  if (body.locale !== undefined) {
    const locale = body.locale === null ? null : canonicalLocale(body.locale);
    if (locale === undefined) bad.push({ pointer: '/body/locale', reason: `"${body.locale}" is not a BCP 47 language tag (like en-GB or de-DE)` });
    else out.locale = locale;
  }
  if (body.time_zone !== undefined) {
    const zone = body.time_zone === null ? null : canonicalTimeZone(body.time_zone);
    if (zone === undefined) bad.push({ pointer: '/body/time_zone', reason: `"${body.time_zone}" is not an IANA time zone (like Europe/Berlin)` });
    else out.timeZone = zone;
  }
  if (bad.length > 0) {
    throw new ApiError('VALIDATION_FAILED', bad.map((b) => `${b.pointer.slice('/body/'.length)}: ${b.reason}`).join('; '), bad);
  }
  return out;
}

function meta(request: FastifyRequest) {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
}

/** Sets the session cookie; Secure when the request came over TLS (directly or via a trusted proxy). */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, secret: string, session: Session): void {
  reply.setCookie(SESSION_COOKIE, secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    expires: session.expiresAt,
  });
}

function sessionBody(user: User, session: Session) {
  return { user: userToWire(user), expires_at: session.expiresAt.toISOString() };
}

export async function authRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const auth = deps.hub.auth;

  app.get('/api/v1/auth/status', {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'Whether the first admin must still be created (onboarding), and who may register',
      response: {
        200: {
          type: 'object', required: ['onboarding', 'registration'],
          properties: {
            onboarding: { type: 'boolean', description: 'true while no user exists: POST /api/v1/auth/onboarding creates the first admin' },
            registration: { type: 'string', enum: ['open', 'invite'] },
          },
        },
      },
    },
  }, async () => ({ onboarding: await auth.needsOnboarding(), registration: await auth.settings.registration() }));

  app.post<{ Body: Credentials & { name?: string | null } }>('/api/v1/auth/onboarding', {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'Create the first admin (only while no user exists) and log in as them',
      description: 'For the dashboard\'s onboarding page. Answers 409 ALREADY_ONBOARDED once any user exists. '
        + 'Sets the session cookie like login.',
      body: { ...credentialsBody, properties: { ...credentialsBody.properties, name: { type: ['string', 'null'], maxLength: 200 } } },
      response: { 201: sessionResponse, ...problemResponses(400, 409, 415) },
    },
  }, async (request, reply) => {
    const { email, password, name } = request.body;
    const user = await auth.createFirstAdmin({ email, password, name: name ?? null }, { ...meta(request), via: 'api' });
    const { session, secret } = await auth.createSession(user.id, meta(request));
    setSessionCookie(request, reply, secret, session);
    return reply.code(201).send(sessionBody(user, session));
  });

  app.post<{ Body: Credentials }>('/api/v1/auth/login', {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'Log in with email and password; sets the session cookie',
      description: 'Failed logins are rate limited per account and per address with a growing back-off (429 with Retry-After).',
      body: credentialsBody,
      response: { 200: sessionResponse, ...problemResponses(400, 401, 415, 429) },
    },
  }, async (request, reply) => {
    try {
      const { user, session, secret } = await auth.login(request.body.email, request.body.password, meta(request));
      setSessionCookie(request, reply, secret, session);
      return sessionBody(user, session);
    } catch (err) {
      const retry = (err as { retryAfterS?: number }).retryAfterS;
      if (retry !== undefined) reply.header('retry-after', String(retry));
      throw err;
    }
  });

  app.post('/api/v1/auth/logout', {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'End the current session and clear its cookie (does nothing without one)',
      response: { 204: { description: 'Logged out', type: 'null' } },
    },
  }, async (request, reply) => {
    const caller = request.caller;
    if (caller?.kind === 'session' && caller.sessionId) {
      await auth.endSession(caller.sessionId);
      await auth.record({ actor: actorOf(request), action: 'logout', target: caller.userId, ip: request.ip });
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  /** The calling user, or 401 when the account is gone. */
  async function callingUser(request: FastifyRequest): Promise<User> {
    const caller = request.caller!;
    const user = caller.userId ? await auth.users.get(caller.userId) : undefined;
    if (!user) throw new ApiError('UNAUTHORIZED', 'the account no longer exists');
    return user;
  }

  async function meBody(request: FastifyRequest, user: User) {
    const caller = request.caller!;
    const prefs = (await auth.users.preferences(user.id)) ?? { locale: null, timeZone: null };
    return {
      user: userToWire(user), via: caller.kind, scopes: [...caller.scopes],
      devices: caller.deviceIds ? [...caller.deviceIds] : null, preferences: preferencesToWire(prefs),
    };
  }

  app.get('/api/v1/auth/me', {
    config: { access: 'read' },
    schema: {
      tags: ['auth'],
      summary: 'Who is calling: the user, how they authenticated, their scopes and display preferences',
      response: { 200: meResponse, ...problemResponses(401) },
    },
  }, async (request) => meBody(request, await callingUser(request)));

  app.patch<{ Body: { locale?: string | null; time_zone?: string | null } }>('/api/v1/auth/me', {
    config: { access: 'write' },
    schema: {
      tags: ['auth'],
      summary: 'Change your own display preferences (locale, time zone); null = use the browser\'s',
      description: 'Only the fields sent change. A locale or zone Intl does not know is a 400 naming the field.',
      body: { type: 'object', additionalProperties: false, properties: preferencesProperties },
      response: { 200: meResponse, ...problemResponses(400, 401, 403, 415) },
    },
  }, async (request) => {
    const user = await callingUser(request);
    await auth.users.setPreferences(user.id, readPreferences(request.body));
    return meBody(request, user);
  });

  app.post<{ Body: Credentials & { name?: string | null; invite?: string } }>('/api/v1/auth/register', {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'Create an account (open registration, or with an invite) and log in',
      body: {
        ...credentialsBody,
        properties: {
          ...credentialsBody.properties,
          name: { type: ['string', 'null'], maxLength: 200 },
          invite: { type: 'string', minLength: 1, maxLength: 200, description: 'Invite from an admin (needed unless registration is open)' },
        },
      },
      response: { 201: sessionResponse, ...problemResponses(400, 403, 409, 415) },
    },
  }, async (request, reply) => {
    const { email, password, name, invite } = request.body;
    const user = await auth.register({ email, password, name: name ?? null, ...(invite !== undefined ? { invite } : {}) }, meta(request));
    const { session, secret } = await auth.createSession(user.id, meta(request));
    setSessionCookie(request, reply, secret, session);
    return reply.code(201).send(sessionBody(user, session));
  });

  app.post<{ Body: { current_password: string; new_password: string } }>('/api/v1/auth/password', {
    config: { access: 'write' },
    schema: {
      tags: ['auth'],
      summary: 'Change your own password (logged in with a session); ends your other sessions',
      body: {
        type: 'object', additionalProperties: false, required: ['current_password', 'new_password'],
        properties: { current_password: passwordProperty, new_password: passwordProperty },
      },
      response: { 204: { description: 'Changed', type: 'null' }, ...problemResponses(400, 401, 403, 415) },
    },
  }, async (request, reply) => {
    const caller = request.caller!;
    // An API token must not be able to take over its account.
    if (caller.kind !== 'session') throw new ApiError('FORBIDDEN', 'change your password from a logged-in session, not with an API token');
    const user = await auth.users.get(caller.userId!);
    if (!user || !(await auth.users.verifyCredentials(user.email, request.body.current_password))) {
      throw new ApiError('INVALID_CREDENTIALS', 'the current password is wrong');
    }
    await auth.users.update(user.id, { password: request.body.new_password });
    await auth.endSessions(user.id, caller.sessionId);
    await auth.record({ actor: actorOf(request), action: 'password_changed', target: user.id, ip: request.ip });
    return reply.code(204).send();
  });

}
