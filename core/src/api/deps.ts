/** What every route module is handed (no module-level state), plus small shared guards. */
import type { FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { Hub, Device, Entity } from '../hub/types.js';
import type { AccessPolicy } from './access.js';
import { ApiError } from './errors.js';

export interface RouteDeps {
  hub: Hub;
  policy: AccessPolicy;
  /** The server's validator compiler, for routes that override validation of one part only. */
  compile: FastifySchemaCompiler<unknown>;
  version: string;
  /** Hub-clock time the server was built, for uptime. */
  startedAt: number;
  readingsBodyLimit: number;
}

/** The device, or 404; 403 when the caller may not see it. */
export function requireDevice(deps: RouteDeps, request: FastifyRequest, id: string): Device {
  const device = deps.hub.devices.get(id);
  if (!device) throw new ApiError('DEVICE_NOT_FOUND', `No device "${id}"`);
  if (!deps.policy.canSeeDevice(request, id)) throw new ApiError('FORBIDDEN', `Device "${id}" is not visible to you`);
  return device;
}

/** The entity, or 404; 403 when the caller may not see its device. */
export function requireEntity(deps: RouteDeps, request: FastifyRequest, id: string): Entity {
  const entity = deps.hub.entities.get(id);
  if (!entity) throw new ApiError('ENTITY_NOT_FOUND', `No entity "${id}"`);
  if (!deps.policy.canSeeDevice(request, entity.deviceId)) throw new ApiError('FORBIDDEN', `Entity "${id}" is not visible to you`);
  return entity;
}

/**
 * Device ids the caller may see, or undefined when that is every device (so aggregates need no
 * filter).
 */
export function visibleDeviceIds(deps: RouteDeps, request: FastifyRequest): string[] | undefined {
  const all = deps.hub.devices.list();
  const visible = all.filter((d) => deps.policy.canSeeDevice(request, d.id)).map((d) => d.id);
  return visible.length === all.length ? undefined : visible;
}
