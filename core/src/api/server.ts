/**
 * buildServer(hub): the HTTP API and WebSocket gateway as a fastify instance that is not
 * listening. Only the CLI listens; tests use `inject()` (or listen on port 0 for WebSockets).
 */
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import { createAccessPolicy } from '../auth/policy.js';
import type { Hub } from '../hub/types.js';
import { ROUTE_ACCESS, type AccessPolicy, type RouteAccess } from './access.js';
import { API_ERRORS, ApiError, codeForStatus, problem, PROBLEM_CONTENT_TYPE, type ApiErrorCode, type Problem } from './errors.js';
import type { RouteDeps } from './deps.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { ajvErrorsToItems, createValidatorCompiler, summarize } from './validation.js';
import { registerWsGateway, type WsGateway, type WsGatewayOptions } from './ws/gateway.js';
import { defaultFrontendDir, registerFrontend } from './static.js';
import { healthRoutes } from './routes/health.js';
import { deviceRoutes } from './routes/devices.js';
import { entityRoutes } from './routes/entities.js';
import { stateRoutes } from './routes/states.js';
import { historyRoutes } from './routes/history.js';
import { quarantineRoutes } from './routes/quarantine.js';
import { integrationRoutes } from './routes/integrations.js';
import { readingRoutes } from './routes/readings.js';
import { energyRoutes } from './routes/energy.js';
import { automationRoutes } from './routes/automations.js';
import { notificationRoutes } from './routes/notifications.js';
import { messageRoutes } from './routes/messages.js';
import { authRoutes } from './routes/auth.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';
import { auditRoutes } from './routes/audit.js';
import { dashboardRoutes } from './routes/dashboards.js';
import { cardRoutes } from './routes/cards.js';
import { oidcRoutes } from './routes/oidc.js';
import type { OidcSettings } from '../auth/oidc.js';

export const API_PREFIX = '/api/v1';
export const OPENAPI_PATH = '/api/v1/openapi.json';
export const DOCS_PATH = '/api/docs';

export interface BuildServerOptions {
  /**
   * Authentication/authorization. Default: sessions and API tokens of hub.auth, enforced on every
   * route; `allowAll` (from api/access.ts) turns checking off and must be asked for explicitly.
   */
  access?: AccessPolicy;
  /**
   * Origins other web pages may call the API from with credentials (CORS). Default: the hub's
   * config `http.cors_origins`, else none (CORS closed).
   */
  corsOrigins?: readonly string[];
  /**
   * Trust X-Forwarded-* from these proxies (fastify's trustProxy), so a TLS-terminating proxy's
   * requests count as https (Secure session cookies) and carry the client's address (rate limits,
   * audit log). Default: the hub's config `http.trust_proxy`, else false.
   */
  trustProxy?: boolean | string | string[];

  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Largest batch-readings body in bytes (default 16 MiB). */
  readingsBodyLimit?: number;
  /** Log every request at info level (default false: only failures are logged). */
  logRequests?: boolean;
  ws?: WsGatewayOptions;
  /** Reported by /health and the OpenAPI document; default the core package version. */
  version?: string;
  /** Folder of the built dashboard served at `/` (default frontend/dist); false serves none. */
  frontendDir?: string | false;
  /** OpenID Connect login; default the hub's config `auth.oidc` (none: not offered). */
  oidc?: OidcSettings;
  /** Serve HTTPS with this certificate and key (PEM); the CLI reads them from `http.tls_cert`/`http.tls_key`. */
  https?: { cert: string | Buffer; key: string | Buffer };
}

/** One registered API route and the access it declared (issue 4's authorization matrix walks these). */
export interface ApiRoute { method: string; url: string; access: RouteAccess; hidden: boolean }

declare module 'fastify' {
  interface FastifyInstance {
    /** The WebSocket gateway (connection and frame counters). */
    wsGateway: WsGateway;
    /** Every `/api/v1` route, in registration order (HEAD twins of GET routes left out). */
    apiRoutes: readonly ApiRoute[];
  }
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Any error → problem+json. fastify's own errors carry a status (and `validation` for schemas). */
function toProblem(err: FastifyError, instance: string): Problem {
  if (err instanceof ApiError) return problem(err.code, err.message, { instance, ...(err.errors ? { errors: err.errors } : {}) });
  if (err.validation) {
    const items = ajvErrorsToItems(err.validation as Parameters<typeof ajvErrorsToItems>[0], err.validationContext);
    const code = err.validationContext === 'querystring' ? 'INVALID_QUERY' : 'VALIDATION_FAILED';
    return problem(code, summarize(items), { instance, errors: items });
  }
  const status = err.statusCode ?? 500;
  // Hub errors (hub/errors.ts) share codes with API_ERRORS where one exists and carry their status.
  const known = typeof err.code === 'string' && Object.hasOwn(API_ERRORS, err.code) ? (err.code as ApiErrorCode) : undefined;
  if (known && API_ERRORS[known].status === status) return problem(known, err.message, { instance });
  if (status >= 400 && status < 500) return problem(codeForStatus(status), err.message, { instance, status });
  if (status === 503) return problem('SERVICE_UNAVAILABLE', err.message, { instance });
  return problem('INTERNAL', 'An unexpected error occurred; it has been logged.', { instance });
}

export async function buildServer(hub: Hub, opts: BuildServerOptions = {}): Promise<FastifyInstance> {
  const corsOrigins = opts.corsOrigins ?? hub.config.http?.corsOrigins ?? [];
  const policy = opts.access ?? createAccessPolicy(hub.auth, hub.devices, { allowedOrigins: corsOrigins });
  const version = opts.version ?? packageVersion();
  const app = Fastify({
    loggerInstance: hub.log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: !opts.logRequests }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    trustProxy: opts.trustProxy ?? hub.config.http?.trustProxy ?? false,
    // Entity ids contain dots; keep paths exact otherwise.
    routerOptions: { ignoreTrailingSlash: false },
    // Typed as the plain http server: only the listening socket differs, and only the CLI listens.
    ...(opts.https ? ({ https: opts.https } as object) : {}),
  });

  // The API speaks JSON only: a text/plain body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');

  const compile = createValidatorCompiler();
  app.setValidatorCompiler(compile);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const body = toProblem(err, pathOf(request.url));
    if (body.status >= 500) request.log.error({ err, method: request.method, url: request.url }, 'request failed');
    else if (opts.logRequests) request.log.info({ code: body.code, status: body.status }, body.detail);
    return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body = problem('NOT_FOUND', `No route ${request.method} ${pathOf(request.url)}`, { instance: pathOf(request.url) });
    return reply.code(404).type(PROBLEM_CONTENT_TYPE).send(body);
  });

  // Every API route says what access it needs, so issue 4's checks cannot miss one.
  const apiRoutes: ApiRoute[] = [];
  app.decorate('apiRoutes', apiRoutes);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(API_PREFIX)) return;
    const access = route.config?.access;
    if (!access || !ROUTE_ACCESS.includes(access)) {
      throw new Error(`route ${String(route.method)} ${route.url} must declare config.access (one of ${ROUTE_ACCESS.join(', ')})`);
    }
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      apiRoutes.push({ method, url: route.url, access, hidden: route.schema?.hide === true });
    }
  });
  // Cookies are parsed (onRequest) before the access policy reads the session cookie.
  await app.register(cookie);
  // CORS closed unless origins are configured; preflights answer before the policy runs.
  await app.register(cors, corsOrigins.length > 0
    ? { origin: [...corsOrigins], credentials: true, methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] }
    : { origin: false });
  // Before the access check: @fastify/websocket's own onRequest hook marks upgrade requests, so its
  // onResponse hook destroys the socket of an upgrade refused with 401/403 (otherwise the socket
  // stays open and app.close() never finishes).
  await app.register(websocket, { options: { maxPayload: opts.ws?.maxPayload ?? 64 * 1024 } });
  app.addHook('onRequest', async (request) => {
    // Routes outside /api/v1 (the docs page and its assets) are public.
    const access: RouteAccess = request.routeOptions.config?.access ?? 'public';
    await policy.authorize(request, access);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Joulehub API',
        version,
        description: 'Devices, entities, live states, readings and the exact 15-minute energy ledger. '
          + 'Errors are application/problem+json (RFC 9457). Live states: WebSocket at /api/v1/ws.',
      },
      tags: [
        { name: 'system' }, { name: 'devices' }, { name: 'entities' }, { name: 'states' },
        { name: 'readings' }, { name: 'energy' }, { name: 'live' }, { name: 'auth' }, { name: 'users' },
      ],
    },
    // Shared schemas keep their $id as the component name (Device, Problem …).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PATH });

  const deps: RouteDeps = {
    hub,
    policy,
    compile,
    version,
    startedAt: hub.clock.now(),
    readingsBodyLimit: opts.readingsBodyLimit ?? 16 * 1024 * 1024,
  };

  app.get(OPENAPI_PATH, { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(async (scope) => {
    await healthRoutes(scope, deps);
    await deviceRoutes(scope, deps);
    await readingRoutes(scope, deps);
    await entityRoutes(scope, deps);
    await stateRoutes(scope, deps);
    await historyRoutes(scope, deps);
    await quarantineRoutes(scope, deps);
    await integrationRoutes(scope, deps);
    await energyRoutes(scope, deps);
    await automationRoutes(scope, deps);
    await notificationRoutes(scope, deps);
    await messageRoutes(scope, deps);
    await authRoutes(scope, deps);
    await tokenRoutes(scope, deps);
    await userRoutes(scope, deps);
    await auditRoutes(scope, deps);
    await dashboardRoutes(scope, deps);
    await cardRoutes(scope, deps);
    await oidcRoutes(scope, deps, opts.oidc ?? hub.config.oidc);
  });

  const gateway = registerWsGateway(app, hub, policy, opts.ws);
  app.decorate('wsGateway', gateway);
  app.addHook('onClose', async () => gateway.close());

  // The dashboard at `/` (static.ts): public, never shadowing /api.
  if (opts.frontendDir !== false) await registerFrontend(app, opts.frontendDir ?? defaultFrontendDir());

  await app.ready();
  return app;
}
