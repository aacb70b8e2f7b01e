/** GET /api/v1/health — liveness and database reachability (the Docker healthcheck calls it). */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { RouteDeps } from '../deps.js';

const DB_CHECK_TIMEOUT_MS = 2000;

const healthSchema = {
  type: 'object',
  required: ['status', 'version', 'database', 'uptime_s'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    version: { type: 'string' },
    database: {
      type: 'object',
      required: ['ok'],
      properties: { ok: { type: 'boolean' }, error: { type: 'string' } },
    },
    uptime_s: { type: 'number', description: 'Seconds since the API was started (hub clock)' },
  },
} as const;

async function databaseOk(deps: RouteDeps): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  // A hung connection must not hang the healthcheck; this guard uses wall time on purpose.
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${DB_CHECK_TIMEOUT_MS} ms`)), DB_CHECK_TIMEOUT_MS);
    timer.unref();
  });
  try {
    await Promise.race([sql`select 1`.execute(deps.hub.db), timeout]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.get('/api/v1/health', {
    config: { access: 'public' },
    schema: {
      tags: ['system'],
      summary: 'Health of the hub and its database',
      response: {
        200: { description: 'Healthy', ...healthSchema },
        503: { description: 'The database is unreachable', ...healthSchema },
      },
    },
  }, async (request, reply) => {
    const database = await databaseOk(deps);
    if (!database.ok) request.log.warn({ error: database.error }, 'health check: database unreachable');
    return reply.code(database.ok ? 200 : 503).send({
      status: database.ok ? 'ok' : 'degraded',
      version: deps.version,
      database,
      uptime_s: Math.max(0, (deps.hub.clock.now() - deps.startedAt) / 1000),
    });
  });
}
