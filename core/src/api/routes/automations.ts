/**
 * Automations: GET/POST /api/v1/automations, GET/PATCH/DELETE /api/v1/automations/{id} (the rule
 * JSON as joulehub.yaml holds it), POST …/{id}/backtest, GET …/{id}/runs, POST …/{id}/webhook.
 * Rules are validated by the engine with the one rule schema; a user may only automate devices
 * they may see, and sees only their own rules (admins see all).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SYSTEM, type Caller } from '../../auth/caller.js';
import type { AutomationService } from '../../hub/types.js';
import type { RouteDeps } from '../deps.js';
import { ApiError, type ProblemItem } from '../errors.js';
import { listOf, problemResponses } from '../schemas.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const ruleBody = {
  type: 'object',
  description: 'The rule as joulehub.yaml holds it (see the README, "Automations"); validated against the rule schema.',
  additionalProperties: true,
  example: { id: 'heater-night-off', triggers: [{ type: 'cron', cron: '0 22 * * *' }], actions: [{ type: 'switch', entity: 'heater.switch', command: 'turn_off' }] },
} as const;

const automationView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    owner_id: { type: ['string', 'null'] },
    source: { type: 'string', enum: ['config', 'api'], description: 'config: joulehub.yaml or automations/*.yaml (read-only here)' },
    file: { type: 'string' },
    line: { type: 'integer' },
    paused: { type: ['object', 'null'], properties: { reason: { type: 'string' }, at: { type: 'string' } } },
    definition: { type: 'object', additionalProperties: true },
  },
} as const;

const runView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    rule_id: { type: 'string' },
    started_at: { type: 'string' },
    finished_at: { type: ['string', 'null'] },
    trigger: {},
    conditions: {},
    actions: {},
    result: { type: 'string', enum: ['done', 'failed', 'skipped', 'paused', 'cancelled'] },
    explanation: { type: ['string', 'null'] },
    error: { type: ['string', 'null'] },
  },
} as const;

/** `triggers[0].cron` → `/body/triggers/0/cron`. */
function pointer(path: string): string {
  if (path === '(root)') return '/body';
  return `/body/${path.replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '').split('.').join('/')}`;
}

/** The engine's AutomationError → problem+json. */
function toApiError(err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== 'AutomationError') return err;
  const { code, problems } = err as Error & { code: string; problems?: { path: string; message: string }[] };
  const items: ProblemItem[] | undefined = problems?.map((p) => ({ pointer: pointer(p.path), reason: `${p.path} ${p.message}` }));
  switch (code) {
    case 'RULE_INVALID': return new ApiError('VALIDATION_FAILED', err.message, items);
    case 'RULE_NOT_FOUND': return new ApiError('AUTOMATION_NOT_FOUND', err.message);
    case 'RULE_EXISTS': return new ApiError('AUTOMATION_EXISTS', err.message);
    case 'RULE_READ_ONLY': return new ApiError('AUTOMATION_READ_ONLY', err.message);
    case 'RULE_FORBIDDEN': return new ApiError('FORBIDDEN', err.message);
    case 'BACKTEST_RANGE': return new ApiError('INVALID_BACKTEST_RANGE', err.message);
    default: return err;
  }
}

async function call<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApiError(err);
  }
}

export async function automationRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub } = deps;
  const engine = (): AutomationService => {
    if (!hub.automations) throw new ApiError('SERVICE_UNAVAILABLE', 'The automation engine is not running');
    return hub.automations;
  };
  // Today's allow-all policy sets no caller: that is the system (every rule, every device).
  const caller = (request: FastifyRequest): Caller => request.caller ?? SYSTEM;

  app.get('/api/v1/automations', {
    config: { access: 'read' },
    schema: { tags: ['automations'], summary: 'List automation rules (yours; admins: all)', response: { 200: listOf(automationView) } },
  }, async (request) => ({ data: engine().list(caller(request)) }));

  app.post<{ Body: Record<string, unknown> }>('/api/v1/automations', {
    config: { access: 'write' },
    schema: {
      tags: ['automations'], summary: 'Create an automation rule (owned by you)', body: ruleBody,
      response: { 201: automationView, ...problemResponses(400, 403, 409, 413, 415) },
    },
  }, async (request, reply) => {
    const view = await call(() => engine().create(request.body, caller(request)));
    return reply.code(201).header('location', `/api/v1/automations/${encodeURIComponent(view.id)}`).send(view);
  });

  app.get<{ Params: { id: string } }>('/api/v1/automations/:id', {
    config: { access: 'read' },
    schema: { tags: ['automations'], summary: 'Get an automation rule', params: idParams, response: { 200: automationView, ...problemResponses(404) } },
  }, async (request) => {
    const view = engine().get(request.params.id, caller(request));
    if (!view) throw new ApiError('AUTOMATION_NOT_FOUND', `No automation "${request.params.id}"`);
    return view;
  });

  app.patch<{ Params: { id: string }; Body: Record<string, unknown> }>('/api/v1/automations/:id', {
    config: { access: 'write' },
    schema: {
      tags: ['automations'], summary: 'Change a rule: top-level keys replace the stored ones, null removes one',
      params: idParams, body: { ...ruleBody, minProperties: 1 },
      response: { 200: automationView, ...problemResponses(400, 403, 404, 409, 413, 415) },
    },
  }, async (request) => call(() => engine().update(request.params.id, request.body, caller(request))));

  app.delete<{ Params: { id: string } }>('/api/v1/automations/:id', {
    config: { access: 'write' },
    schema: { tags: ['automations'], summary: 'Delete a rule', params: idParams, response: { 204: { description: 'Deleted', type: 'null' }, ...problemResponses(404, 409) } },
  }, async (request, reply) => {
    await call(() => engine().remove(request.params.id, caller(request)));
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string }; Body: { start: string; end: string } }>('/api/v1/automations/:id/backtest', {
    config: { access: 'read' },
    schema: {
      tags: ['automations'],
      summary: 'Dry-run a rule over recorded history',
      description: 'No command is sent. Lists each firing with its explanation and the actions it would take, and the energy the switch-offs would have saved.',
      params: idParams,
      body: {
        type: 'object', additionalProperties: false, required: ['start', 'end'],
        properties: { start: { type: 'string', format: 'date-time' }, end: { type: 'string', format: 'date-time' } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            firings: { type: 'array', items: { type: 'object', properties: { time: { type: 'string' }, explanation: { type: 'string' }, actions: { type: 'array', items: { type: 'string' } } } } },
            saved_kwh: { type: 'number' },
          },
        },
        ...problemResponses(400, 404),
      },
    },
  }, async (request) => call(() => engine().backtest(request.params.id, { start: new Date(request.body.start), end: new Date(request.body.end) }, caller(request))));

  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>('/api/v1/automations/:id/runs', {
    config: { access: 'read' },
    schema: {
      tags: ['automations'], summary: 'Live runs of a rule, newest first', params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: listOf(runView), ...problemResponses(400, 404) },
    },
  }, async (request) => ({ data: await call(() => engine().runs(request.params.id, caller(request), { limit: request.query.limit ?? 100 })) }));

  app.post<{ Params: { id: string } }>('/api/v1/automations/:id/webhook', {
    config: { access: 'write' },
    schema: {
      tags: ['automations'], summary: "Fire the rule's webhook trigger", params: idParams,
      response: { 202: { description: 'Fired', type: 'object', properties: { fired: { type: 'boolean' } } }, ...problemResponses(400, 404) },
    },
  }, async (request, reply) => {
    await call(() => engine().webhook(request.params.id, caller(request)));
    return reply.code(202).send({ fired: true });
  });
}
