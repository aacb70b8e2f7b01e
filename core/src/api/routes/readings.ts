/** POST /api/v1/devices/{id}/readings — a validated batch of readings for one device. */
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { ApiError } from '../errors.js';
import { requireDevice, type RouteDeps } from '../deps.js';
import { MAX_BATCH_RECORDS, parseReadingsBatch, READING_MODES, READING_UNITS, type ReadingsBatch } from '../readings.js';
import { problemResponses } from '../schemas.js';
import { formatInstant } from '../time.js';
import { validationError } from '../validation.js';

const ENTITY_NAMES: Record<string, string> = { power: 'Power', energy: 'Energy', energy_total: 'Energy meter' };

/** Documents the body for OpenAPI; the batch itself is checked by parseReadingsBatch (see below). */
const bodySchema = {
  type: 'object',
  required: ['units', 'data'],
  additionalProperties: false,
  properties: {
    units: { type: 'string', enum: [...READING_UNITS], description: 'Case-insensitive' },
    reading: {
      type: 'string', enum: [...READING_MODES], default: 'interval',
      description: 'For energy units: `interval` (energy of the period starting at the reading) or `cumulative` (meter reading). Not used with power units.',
    },
    data: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BATCH_RECORDS,
      description: 'Any order; at most one record per instant',
      items: {
        type: 'object',
        required: ['datetime', 'value'],
        properties: {
          datetime: { type: 'string', format: 'date-time', description: 'ISO 8601 with offset (Z or ±hh:mm)', example: '2018-08-24T00:00:00Z' },
          value: { type: 'number', minimum: 0, example: 12 },
        },
      },
    },
  },
} as const;

/**
 * The whole batch is checked at once so the 400 lists every bad record by index, which a schema
 * validator stopping at the first error (or unable to see duplicate instants) would not. On success
 * the body is replaced by the parsed batch: canonical values, sorted by time.
 */
function batchValidator(): (data: unknown) => { value: ReadingsBatch } | { error: Error } {
  return (data) => {
    const result = parseReadingsBatch(data);
    return result.ok ? { value: result.batch } : { error: validationError(result.errors, 'INVALID_READINGS') };
  };
}

export async function readingRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub } = deps;
  const compileBody = batchValidator();
  const validatorCompiler: FastifySchemaCompiler<unknown> = (route) =>
    route.httpPart === 'body' ? compileBody : deps.compile(route);

  app.post<{ Params: { id: string }; Body: ReadingsBatch }>('/api/v1/devices/:id/readings', {
    config: { access: 'ingest' },
    bodyLimit: deps.readingsBodyLimit,
    validatorCompiler,
    schema: {
      tags: ['readings'],
      summary: 'Store a batch of readings of a device',
      description: 'Power units land on the entity `<id>.power`, interval energy on `<id>.energy`, cumulative '
        + 'energy on `<id>.energy_total` (registered on first use). The batch is stored whole or not at all: '
        + 'any bad record fails it with a 400 listing every bad record by index. Re-sending a reading replaces it.',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } },
      body: bodySchema,
      response: {
        200: {
          description: 'Stored',
          type: 'object',
          required: ['device', 'entity_id', 'kind', 'stored', 'quarantined', 'first', 'last'],
          properties: {
            device: { type: 'string' },
            entity_id: { type: 'string' },
            kind: { type: 'string' },
            stored: { type: 'integer', description: 'Readings written' },
            quarantined: { type: 'integer', description: 'Readings the plausibility guard refused (see /api/v1/quarantine)' },
            first: { type: 'string', format: 'date-time' },
            last: { type: 'string', format: 'date-time' },
          },
        },
        ...problemResponses(400, 404, 409, 413, 415),
      },
    },
  }, async (request) => {
    const device = requireDevice(deps, request, request.params.id);
    const { target, samples, unit } = request.body;
    const entityId = `${device.id}.${target.key}`;
    const existing = hub.entities.get(entityId);
    if (existing && existing.kind !== target.kind) {
      throw new ApiError('ENTITY_KIND_CONFLICT', `Entity "${entityId}" is a ${existing.kind}, but these readings describe ${target.kind}`);
    }
    if (!existing) {
      await hub.entities.register(device.id, { key: target.key, kind: target.kind, name: ENTITY_NAMES[target.key] });
    }
    const { stored, quarantined } = await hub.writeSamples(entityId, samples);
    request.log.debug({ entityId, unit, stored, quarantined }, 'readings batch stored');
    return {
      device: device.id,
      entity_id: entityId,
      kind: target.kind,
      stored,
      quarantined,
      first: formatInstant(samples[0].t),
      last: formatInstant(samples[samples.length - 1].t),
    };
  });
}
