/**
 * OpenID Connect login (`auth.oidc` in joulehub.yaml), next to passwords:
 *   GET /api/v1/auth/oidc            whether it is configured, and the button label
 *   GET /api/v1/auth/oidc/login      → 302 to the provider (state, nonce, PKCE S256)
 *   GET /api/v1/auth/oidc/callback   ← the provider's redirect: code exchange, account by verified
 *                                      email, session cookie, 302 back into the dashboard
 * The attempt's state also rides in a short-lived HttpOnly cookie scoped to these paths, so a
 * callback only completes in the browser that started it. Not configured: 404 on login/callback.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OidcLogin, type OidcSettings } from '../../auth/oidc.js';
import type { RouteDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { problemResponses } from '../schemas.js';
import { setSessionCookie } from './auth.js';

export const OIDC_STATE_COOKIE = 'joulehub_oidc_state';
const OIDC_PATH = '/api/v1/auth/oidc';
const CALLBACK_PATH = `${OIDC_PATH}/callback`;

/** This hub's callback URL as the browser reaches it (used when auth.oidc.redirect_uri is not set). */
function callbackUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${CALLBACK_PATH}`;
}

export async function oidcRoutes(app: FastifyInstance, deps: RouteDeps, settings: OidcSettings | undefined): Promise<void> {
  const login = settings ? new OidcLogin(settings, deps.hub.auth, deps.hub.clock) : undefined;
  const configured = (): OidcLogin => {
    if (!login) throw new ApiError('NOT_FOUND', 'OpenID Connect login is not configured (auth.oidc in joulehub.yaml)');
    return login;
  };
  const redirect = { 302: { description: 'Redirect', type: 'null' } };

  app.get(OIDC_PATH, {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'Whether OpenID Connect login is offered, and the label for its button',
      response: {
        200: {
          type: 'object', required: ['enabled', 'name', 'login_url'],
          properties: {
            enabled: { type: 'boolean' },
            name: { type: ['string', 'null'] },
            login_url: { type: ['string', 'null'], description: 'Send the browser here (add ?return_to=/path to come back there)' },
          },
        },
      },
    },
  }, async () => ({
    enabled: Boolean(login),
    name: login ? login.displayName : null,
    login_url: login ? `${OIDC_PATH}/login` : null,
  }));

  app.get<{ Querystring: { return_to?: string } }>(`${OIDC_PATH}/login`, {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'Start an OpenID Connect login: redirects to the identity provider',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { return_to: { type: 'string', maxLength: 2000, description: 'Dashboard path to come back to after logging in (default /)' } },
      },
      response: { ...redirect, ...problemResponses(400, 404, 503) },
    },
  }, async (request, reply) => {
    const { url, state } = await configured().start({
      redirectUri: callbackUrlOf(request),
      ...(request.query.return_to !== undefined ? { returnTo: request.query.return_to } : {}),
    });
    reply.setCookie(OIDC_STATE_COOKIE, state, {
      path: OIDC_PATH, httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https', maxAge: 600,
    });
    return reply.redirect(url, 302);
  });

  app.get(CALLBACK_PATH, {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: "The identity provider's redirect back: logs in (session cookie) and redirects into the dashboard",
      description: 'Finds the account by the verified email the provider vouches for, or creates one (role user) '
        + 'when auth.oidc.create_users is true, or unset while registration is open.',
      response: { ...redirect, ...problemResponses(401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const oidc = configured();
    const cookies = (request as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies ?? {};
    reply.clearCookie(OIDC_STATE_COOKIE, { path: OIDC_PATH });
    const url = new URL(request.url, callbackUrlOf(request));
    const { session, secret, returnTo } = await oidc.finish(url, cookies[OIDC_STATE_COOKIE], {
      ip: request.ip, userAgent: request.headers['user-agent'] ?? null,
    });
    setSessionCookie(request, reply, secret, session);
    return reply.redirect(returnTo, 302);
  });
}
