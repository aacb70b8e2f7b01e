/**
 * The seam authentication and authorization plug into (issue 4). Every `/api/v1` route declares
 * what it needs in `config.access`; buildServer refuses to register a route that does not.
 * Before the handler runs (and before a WebSocket upgrade), `policy.authorize(request, access)`
 * is awaited and may throw `ApiError('UNAUTHORIZED' | 'FORBIDDEN')`. Lists, energy aggregates and
 * WebSocket deliveries are filtered through `policy.canSeeDevice`.
 *
 * buildServer's default policy is auth/policy.ts (sessions and API tokens, enforced on every route);
 * `allowAll` below turns checking off and is used only where a caller asks for it explicitly.
 */
import type { FastifyRequest } from 'fastify';
export type { Caller, Role, Scope } from '../auth/caller.js';

export type RouteAccess =
  | 'public' // health, OpenAPI, docs
  | 'read' // reading devices, states, history, energy
  | 'write' // changing devices, sending commands
  | 'ingest' // posting readings
  | 'admin'; // reserved for user/admin routes

export const ROUTE_ACCESS: readonly RouteAccess[] = ['public', 'read', 'write', 'ingest', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a caller needs to use this route; see api/access.ts. */
    access?: RouteAccess;
  }
}

export interface AccessPolicy {
  /** Throws ApiError('UNAUTHORIZED' | 'FORBIDDEN') to refuse; may attach the caller to the request. */
  authorize(request: FastifyRequest, access: RouteAccess): void | Promise<void>;
  /** Whether the (already authorized) caller may see a device, its entities, states and energy. */
  canSeeDevice(request: FastifyRequest, deviceId: string): boolean;
}

/** No checks at all; never the default (pass it as `buildServer(hub, { access: allowAll })`). */
export const allowAll: AccessPolicy = {
  authorize() {},
  canSeeDevice() { return true; },
};
