/** Devices: POST/GET /api/v1/devices, GET/PATCH/DELETE /api/v1/devices/{id}. */
import type { FastifyInstance } from 'fastify';
import type { DeviceInfo } from '../../sdk/types.js';
import type { Device } from '../../hub/types.js';
import { ApiError } from '../errors.js';
import { requireDevice, type RouteDeps } from '../deps.js';
import { deviceIdPattern, listOf, problemResponses } from '../schemas.js';
import { deviceToWire as baseDeviceToWire } from '../wire.js';

interface DeviceFields {
  name?: string;
  /** null (PATCH only) clears the field. */
  description?: string | null;
  address?: string | null;
  manufacturer?: string | null;
  model?: string | null;
  max_hourly_kwh?: number | null;
  max_power_w?: number | null;
}
type DeviceCreateBody = DeviceFields & { id: string; name: string };
type DevicePatchBody = DeviceFields & { owner?: string | null };

/** The device as the API shows it, with its owner (a user id, or null for an orphan). */
function deviceToWire(d: Device) {
  return { ...baseDeviceToWire(d), owner: d.ownerId };
}

const text = (max: number, description?: string) => ({ type: 'string', maxLength: max, ...(description ? { description } : {}) });

const editableProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200, example: 'Kitchen fridge' },
  description: text(2000),
  address: text(500, 'Address or location'),
  manufacturer: text(200),
  model: text(200),
  max_hourly_kwh: { type: 'number', exclusiveMinimum: 0, description: 'Maximum hourly consumption (kWh), for over-consumption rules' },
  max_power_w: { type: 'number', exclusiveMinimum: 0, description: 'Maximum plausible power (W); readings implying more are quarantined (default 60 kW)' },
};

/** PATCH may send null to clear an optional field. */
const patchProperties = Object.fromEntries(Object.entries(editableProperties).map(([key, schema]) => [
  key,
  key === 'name' ? schema : { ...schema, type: [schema.type, 'null'], description: `${(schema as { description?: string }).description ?? key}; null clears it` },
]));

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const WIRE_TO_INFO = {
  description: 'description',
  address: 'address',
  manufacturer: 'manufacturer',
  model: 'model',
  max_hourly_kwh: 'maxHourlyKwh',
  max_power_w: 'maxPowerW',
} as const;

/**
 * Wire (snake_case) → registry (camelCase), leaving out what the client did not send. A null
 * becomes a present-but-undefined key, which the registry's update() reads as "clear".
 */
function fromWire(body: DeviceFields): Partial<Omit<DeviceInfo, 'id'>> {
  const out: Record<string, unknown> = {};
  if (body.name !== undefined) out.name = body.name;
  for (const [wire, field] of Object.entries(WIRE_TO_INFO)) {
    const v = body[wire as keyof typeof WIRE_TO_INFO];
    if (v === null) out[field] = undefined;
    else if (v !== undefined) out[field] = v;
  }
  return out as Partial<Omit<DeviceInfo, 'id'>>;
}

export async function deviceRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { hub, policy } = deps;

  app.post<{ Body: DeviceCreateBody }>('/api/v1/devices', {
    config: { access: 'admin' },
    schema: {
      tags: ['devices'],
      summary: 'Create a device (admin)',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name'],
        properties: {
          id: {
            type: 'string', minLength: 1, maxLength: 64, pattern: deviceIdPattern, example: 'fridge',
            description: 'Stable id (lower-case letters, digits, _ and -), e.g. from a serial number; never changes',
          },
          ...editableProperties,
        },
      },
      response: {
        201: { description: 'Created', $ref: 'Device#' },
        ...problemResponses(400, 409, 413, 415),
      },
    },
  }, async (request, reply) => {
    const { id } = request.body;
    // Not atomic with the upsert below; two racing creates of one id both succeed as one device.
    if (hub.devices.get(id)) throw new ApiError('DEVICE_EXISTS', `A device with id "${id}" already exists`);
    const device = await hub.devices.upsert({ id, name: request.body.name, ...fromWire(request.body) }, null);
    return reply.code(201).header('location', `/api/v1/devices/${encodeURIComponent(id)}`).send(deviceToWire(device));
  });

  app.get<{ Querystring: { orphans?: boolean; owner?: string } }>('/api/v1/devices', {
    config: { access: 'read' },
    schema: {
      tags: ['devices'],
      summary: 'List the devices you may see (admins: all; users: their own)',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          orphans: { type: 'boolean', description: 'Only devices without an owner (admin)' },
          owner: { type: 'string', minLength: 1, maxLength: 100, description: 'Only devices of this user (admin)' },
        },
      },
      response: { 200: listOf({ $ref: 'Device#' }), ...problemResponses(400, 403) },
    },
  }, async (request) => {
    const { orphans, owner } = request.query;
    if ((orphans !== undefined || owner !== undefined) && request.caller?.role !== 'admin' && request.caller?.kind !== 'system') {
      throw new ApiError('FORBIDDEN', 'only admins filter devices by owner');
    }
    const devices = hub.devices.list()
      .filter((d) => policy.canSeeDevice(request, d.id))
      .filter((d) => (orphans === undefined || (d.ownerId === null) === orphans) && (owner === undefined || d.ownerId === owner))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { data: devices.map(deviceToWire) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/devices/:id', {
    config: { access: 'read' },
    schema: {
      tags: ['devices'],
      summary: 'Get a device',
      params: idParams,
      response: { 200: { $ref: 'Device#' }, ...problemResponses(404) },
    },
  }, async (request) => deviceToWire(requireDevice(deps, request, request.params.id)));

  app.patch<{ Params: { id: string }; Body: DevicePatchBody }>('/api/v1/devices/:id', {
    config: { access: 'admin' },
    schema: {
      tags: ['devices'],
      summary: 'Change some fields of a device, or assign it to a user (admin)',
      params: idParams,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          ...patchProperties,
          owner: { type: ['string', 'null'], minLength: 1, maxLength: 100, description: 'User id of the new owner; null makes the device an orphan' },
        },
      },
      response: { 200: { $ref: 'Device#' }, ...problemResponses(400, 404, 413, 415) },
    },
  }, async (request) => {
    const { id } = request.params;
    const previousOwner = requireDevice(deps, request, id).ownerId;
    const { owner, ...fields } = request.body;
    const patch: Parameters<typeof hub.devices.update>[1] = fromWire(fields);
    if (owner !== undefined) {
      if (owner !== null && !(await hub.auth.users.get(owner))) {
        throw new ApiError('VALIDATION_FAILED', `No user "${owner}"`, [{ pointer: '/body/owner', reason: `no user "${owner}"` }]);
      }
      patch.ownerId = owner;
    }
    const device = await hub.devices.update(id, patch);
    if (!device) throw new ApiError('DEVICE_NOT_FOUND', `No device "${id}"`);
    if (owner !== undefined && owner !== previousOwner) {
      await hub.auth.record({
        actor: { id: request.caller?.userId ?? null }, action: 'device_owner_changed', target: id, ip: request.ip,
        detail: { from: previousOwner, to: owner },
      });
    }
    return deviceToWire(device);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/devices/:id', {
    config: { access: 'admin' },
    schema: {
      tags: ['devices'],
      summary: 'Delete a device with its entities, samples and energy (admin)',
      params: idParams,
      response: { 204: { description: 'Deleted', type: 'null' }, ...problemResponses(404) },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    requireDevice(deps, request, id);
    if (!(await hub.devices.delete(id))) throw new ApiError('DEVICE_NOT_FOUND', `No device "${id}"`);
    return reply.code(204).send();
  });
}
