/**
 * The access policy the API runs by default: reads `Authorization: Bearer <token>` or the session
 * cookie (REST and the WebSocket upgrade), sets `request.caller`, and refuses with 401 (nobody, or
 * a credential that is unknown, expired or revoked) or 403 (a caller without the route's scope).
 * Route access levels map to scopes one to one; `admin` also needs the admin role.
 */
import type { FastifyRequest } from 'fastify';
import type { AccessPolicy, RouteAccess } from '../api/access.js';
import { ApiError } from '../api/errors.js';
import type { DeviceRegistry } from '../hub/types.js';
import { ANONYMOUS, callerCanSeeDevice, hasScope, type Caller } from './caller.js';
import type { AuthService } from './service.js';

export const SESSION_COOKIE = 'joulehub_session';

export interface PolicyOptions {
  /** Origins (besides the hub's own) allowed to open a cookie-authenticated WebSocket. */
  allowedOrigins?: readonly string[];
}

/** The bearer secret of a request, '' for an empty header (an explicit "no credentials"). */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/iu.exec(header);
  return m ? m[1] : header.trim() === '' ? '' : header;
}

function sessionSecret(request: FastifyRequest): string | undefined {
  const cookies = (request as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies;
  return cookies?.[SESSION_COOKIE] || undefined;
}

/** Who the request is from; `invalid` when it carried a credential that did not verify. */
export async function identify(auth: AuthService, request: FastifyRequest): Promise<{ caller: Caller; invalid?: string }> {
  const token = bearer(request);
  if (token) {
    const found = await auth.verifyToken(token);
    return found ? { caller: found.caller } : { caller: ANONYMOUS, invalid: 'the API token is unknown or revoked' };
  }
  const secret = sessionSecret(request);
  if (secret && token === undefined) {
    const found = await auth.verifySession(secret);
    return found ? { caller: found.caller } : { caller: ANONYMOUS, invalid: 'the session has expired; log in again' };
  }
  return { caller: ANONYMOUS };
}

function originAllowed(request: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (!origin) return true;
  try {
    const url = new URL(origin);
    return url.host === request.headers.host || allowed.includes(url.origin);
  } catch {
    return false;
  }
}

export function createAccessPolicy(auth: AuthService, devices: Pick<DeviceRegistry, 'get'>, opts: PolicyOptions = {}): AccessPolicy {
  const allowedOrigins = opts.allowedOrigins ?? [];
  return {
    async authorize(request: FastifyRequest, access: RouteAccess) {
      if (access === 'public') {
        // Public routes (health, login …) answer whatever the credentials: a database that cannot
        // check a token must not turn a health check into a 500.
        request.caller = await identify(auth, request).then((r) => r.caller, () => ANONYMOUS);
        return;
      }
      const { caller, invalid } = await identify(auth, request);
      request.caller = caller;
      if (caller.kind === 'anonymous') {
        throw new ApiError('UNAUTHORIZED', invalid ?? 'log in, or send an API token as "Authorization: Bearer <token>"');
      }
      if (!hasScope(caller, access)) {
        throw new ApiError('FORBIDDEN', caller.kind === 'token'
          ? `this API token lacks the "${access}" scope`
          : `this needs the "${access}" role`);
      }
      // A cookie rides along on cross-site WebSocket upgrades; only the hub's own pages (and the
      // configured origins) may open a socket with one.
      if (caller.kind === 'session' && request.headers.upgrade?.toLowerCase() === 'websocket' && !originAllowed(request, allowedOrigins)) {
        throw new ApiError('FORBIDDEN', `WebSocket from origin ${String(request.headers.origin)} is not allowed`);
      }
    },
    canSeeDevice(request: FastifyRequest, deviceId: string) {
      const device = devices.get(deviceId);
      if (!device) return false;
      return callerCanSeeDevice(request.caller ?? ANONYMOUS, device);
    },
  };
}
