/** Energy from the 15-minute ledger: per device/entity, the fleet, and the top consumers. */
import type { FastifyInstance } from 'fastify';
import type { EnergyInterval } from '../../hub/types.js';
import { requireDevice, requireEntity, visibleDeviceIds, type RouteDeps } from '../deps.js';
import { QueryProblems, rangeQueryProperties, tzQueryProperty } from '../query.js';
import { problemResponses } from '../schemas.js';
import { formatInstant } from '../time.js';

export const ENERGY_INTERVALS: readonly EnergyInterval[] = ['15m', 'hour', 'day', 'month'];
const ENERGY_KINDS = new Set(['power', 'energy_total', 'energy_interval']);

const intervalProperty = {
  type: 'string', enum: [...ENERGY_INTERVALS], default: '15m',
  description: 'Bucket size; hours, days and months are cut in `tz`',
} as const;

const dateTime = { type: 'string', format: 'date-time' } as const;

const rangeEcho = {
  start: dateTime,
  end: dateTime,
} as const;

interface EnergyQs { device?: string; entity?: string; start: string; end: string; interval: EnergyInterval; tz?: string }
interface FleetQs { start: string; end: string; interval: EnergyInterval; tz?: string }
interface TopQs { start: string; end: string; count: number; tz?: string }

export async function energyRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub } = deps;

  app.get<{ Querystring: EnergyQs }>('/api/v1/energy', {
    config: { access: 'read' },
    attachValidation: true,
    schema: {
      tags: ['energy'],
      summary: 'Energy of a device (or one of its entities) per interval',
      description: 'One row per bucket whose start lies in [start, end); buckets without energy data are omitted. '
        + "A device's energy comes from its meter, else its interval energy, else its integrated power; "
        + 'name `entity` to ask for one series (e.g. export).',
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['start', 'end'],
        properties: {
          device: { type: 'string', minLength: 1, description: 'Device id (this or `entity` is required)' },
          entity: { type: 'string', minLength: 1, description: 'Entity id, for one series of a device' },
          ...rangeQueryProperties,
          interval: intervalProperty,
          tz: tzQueryProperty,
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['device', 'entity', 'units', 'interval', 'tz', 'start', 'end', 'data'],
          properties: {
            device: { type: 'string' },
            entity: { type: ['string', 'null'] },
            units: { type: 'string', enum: ['kWh'] },
            interval: { type: 'string' },
            tz: { type: 'string' },
            ...rangeEcho,
            data: {
              type: 'array',
              items: {
                type: 'object',
                required: ['datetime', 'value'],
                properties: { datetime: { ...dateTime, description: 'Bucket start (UTC)' }, value: { type: 'number', description: 'kWh' } },
              },
            },
          },
        },
        ...problemResponses(400, 404),
      },
    },
  }, async (request) => {
    const q = request.query;
    const problems = new QueryProblems(request);
    const { tz, range } = problems.zonedRange(q, hub.config.tz);
    if (q.device === undefined && q.entity === undefined) problems.add('device', 'give a device or an entity');
    problems.throwIfAny();

    const device = q.device !== undefined ? requireDevice(deps, request, q.device) : undefined;
    const entity = q.entity !== undefined ? requireEntity(deps, request, q.entity) : undefined;
    if (entity && device && entity.deviceId !== device.id) problems.add('entity', `entity "${entity.id}" does not belong to device "${device.id}"`);
    if (entity && !ENERGY_KINDS.has(entity.kind)) problems.add('entity', `entity "${entity.id}" is a ${entity.kind} and has no energy`);
    problems.throwIfAny();

    const rows = await hub.energy.energy({
      ...(device ? { deviceId: device.id } : {}),
      ...(entity ? { entityId: entity.id } : {}),
      start: new Date(range!.start),
      end: new Date(range!.end),
      interval: q.interval,
      tz,
    });
    return {
      device: device?.id ?? entity!.deviceId,
      entity: entity?.id ?? null,
      units: 'kWh',
      interval: q.interval,
      tz,
      start: formatInstant(range!.start),
      end: formatInstant(range!.end),
      data: rows.map((r) => ({ datetime: formatInstant(r.datetime), value: r.value })),
    };
  });

  app.get<{ Querystring: FleetQs }>('/api/v1/energy/fleet', {
    config: { access: 'read' },
    attachValidation: true,
    schema: {
      tags: ['energy'],
      summary: 'Energy of all devices per interval: sum, and average over the devices with energy in that bucket',
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['start', 'end'],
        properties: { ...rangeQueryProperties, interval: intervalProperty, tz: tzQueryProperty },
      },
      response: {
        200: {
          type: 'object',
          required: ['units', 'interval', 'tz', 'start', 'end', 'data'],
          properties: {
            units: { type: 'string', enum: ['kWh'] },
            interval: { type: 'string' },
            tz: { type: 'string' },
            ...rangeEcho,
            data: {
              type: 'array',
              items: {
                type: 'object',
                required: ['datetime', 'sum', 'avg', 'devices'],
                properties: {
                  datetime: dateTime,
                  sum: { type: 'number', description: 'kWh over all devices' },
                  avg: { type: 'number', description: 'sum / devices' },
                  devices: { type: 'integer', description: 'Devices with energy in this bucket' },
                },
              },
            },
          },
        },
        ...problemResponses(400),
      },
    },
  }, async (request) => {
    const q = request.query;
    const problems = new QueryProblems(request);
    const { tz, range } = problems.zonedRange(q, hub.config.tz);
    problems.throwIfAny();
    const deviceIds = visibleDeviceIds(deps, request);
    const rows = await hub.energy.fleet({
      start: new Date(range!.start), end: new Date(range!.end), interval: q.interval, tz,
      ...(deviceIds ? { deviceIds } : {}),
    });
    return {
      units: 'kWh',
      interval: q.interval,
      tz,
      start: formatInstant(range!.start),
      end: formatInstant(range!.end),
      data: rows.map((r) => ({ ...r, datetime: formatInstant(r.datetime) })),
    };
  });

  app.get<{ Querystring: TopQs }>('/api/v1/energy/top', {
    config: { access: 'read' },
    attachValidation: true,
    schema: {
      tags: ['energy'],
      summary: 'Devices using the most energy in [start, end), largest first, ties by device id',
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['start', 'end'],
        properties: {
          ...rangeQueryProperties,
          tz: { ...tzQueryProperty, description: 'Time zone for local dates in start/end' },
          count: { type: 'integer', minimum: 1, maximum: 1000, default: 3 },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['units', 'start', 'end', 'data'],
          properties: {
            units: { type: 'string', enum: ['kWh'] },
            ...rangeEcho,
            data: {
              type: 'array',
              items: {
                type: 'object',
                required: ['device', 'kwh'],
                properties: { device: { type: 'string' }, kwh: { type: 'number' } },
              },
            },
          },
        },
        ...problemResponses(400),
      },
    },
  }, async (request) => {
    const q = request.query;
    const problems = new QueryProblems(request);
    const { tz, range } = problems.zonedRange(q, hub.config.tz);
    problems.throwIfAny();
    const deviceIds = visibleDeviceIds(deps, request);
    const rows = await hub.energy.top({
      start: new Date(range!.start), end: new Date(range!.end), count: q.count,
      ...(deviceIds ? { deviceIds } : {}),
    });
    return { units: 'kWh', start: formatInstant(range!.start), end: formatInstant(range!.end), data: rows };
  });
}
