/**
 * Who is calling: the contract between authentication (issue 4) and everything that checks
 * ownership — REST routes, the WebSocket gateway, messages, notifications, automations, dashboards.
 *
 * The access policy's `authorize()` sets `request.caller` before a handler (or a WebSocket upgrade)
 * runs. Code that needs to know the user reads `request.caller` and nothing else.
 */
export type Role = 'admin' | 'user';

/** Token scopes; a session has every scope its role allows (`admin` only for admins). */
export type Scope = 'read' | 'write' | 'ingest' | 'admin';

export const SCOPES: readonly Scope[] = ['read', 'write', 'ingest', 'admin'];

export interface Caller {
  /** How the caller proved who they are. `system` = in-process (CLI, automations of the hub itself). */
  kind: 'session' | 'token' | 'anonymous' | 'system';
  /** The user acting; null for anonymous and system callers. */
  userId: string | null;
  role: Role | null;
  scopes: readonly Scope[];
  /** Set when an API token is limited to these devices; undefined = no device limit beyond ownership. */
  deviceIds?: readonly string[];
  /** The API token used, when `kind` is 'token'. */
  tokenId?: string;
  /** The session used, when `kind` is 'session'. */
  sessionId?: string;
}

export const ANONYMOUS: Caller = Object.freeze<Caller>({ kind: 'anonymous', userId: null, role: null, scopes: [] });

/** Full access, for in-process callers and for tests of code that does not concern authorization. */
export const SYSTEM: Caller = Object.freeze<Caller>({ kind: 'system', userId: null, role: 'admin', scopes: ['read', 'write', 'ingest', 'admin'] });

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access policy before the handler runs; see auth/caller.ts. */
    caller?: Caller;
  }
}

/**
 * The ownership rule, in one place: admins and the system see every device; a user sees the
 * devices they own; a device-limited token narrows that further to its listed devices.
 */
export function callerCanSeeDevice(caller: Caller, device: { id: string; ownerId: string | null }): boolean {
  if (caller.deviceIds && !caller.deviceIds.includes(device.id)) return false;
  if (caller.kind === 'system' || caller.role === 'admin') return true;
  return caller.userId !== null && device.ownerId === caller.userId;
}

export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.scopes.includes(scope);
}
