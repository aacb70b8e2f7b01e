/**
 * Device logins for servers that integrations run themselves (the embedded MQTT broker), handed to
 * them as `ctx.credentials`: username = an account's email with its password, or username `token`
 * with an API token as the password. Goes through the same services and the same per-account and
 * per-address back-off as the web login; nothing is logged here (the caller logs refusals without
 * the password). `deviceAccess` applies the hub's ownership rule (callerCanSeeDevice) to such a
 * login, for the broker's subscription check.
 */
import type { CredentialVerifier, DeviceAccess, VerifiedCredentials } from '../sdk/types.js';
import { callerCanSeeDevice } from './caller.js';
import { ROLE_SCOPES, type AuthService } from './service.js';

/** The username that says "the password is an API token". */
export const TOKEN_USERNAME = 'token';

export function deviceCredentials(auth: AuthService): CredentialVerifier {
  return {
    async verify(username, password, meta = {}): Promise<VerifiedCredentials | undefined> {
      const ip = meta.ip ?? null;
      // Token guesses back off per address only: one shared "token" account key would let anyone
      // lock every token-using device out.
      const key = username === TOKEN_USERNAME ? `${TOKEN_USERNAME}@${ip ?? 'unknown'}` : username;
      if (auth.limiter.waitMs(key, ip) > 0) return undefined;
      if (username === TOKEN_USERNAME) {
        const found = await auth.verifyToken(password);
        if (!found) {
          auth.limiter.failed(key, ip);
          return undefined;
        }
        const { caller } = found;
        return {
          userId: found.user.id,
          role: found.user.role,
          scopes: caller.scopes,
          via: 'token',
          ...(caller.deviceIds ? { deviceIds: caller.deviceIds } : {}),
        };
      }
      const user = await auth.users.verifyCredentials(username, password);
      if (!user) {
        auth.limiter.failed(key, ip);
        return undefined;
      }
      auth.limiter.succeeded(key);
      return { userId: user.id, role: user.role, scopes: ROLE_SCOPES[user.role], via: 'password' };
    },

    deviceAccess(who, deviceId): DeviceAccess {
      const caller = { kind: who.via === 'token' ? 'token' as const : 'session' as const, userId: who.userId, role: who.role, scopes: who.scopes,
        ...(who.deviceIds ? { deviceIds: who.deviceIds } : {}) };
      if (caller.deviceIds && !caller.deviceIds.includes(deviceId)) return 'denied';
      // The registry is in memory; a subscription is rare enough for a scan.
      const device = auth.devices.list().find((d) => d.id === deviceId);
      if (!device) return 'unknown';
      return callerCanSeeDevice(caller, device) ? 'allowed' : 'denied';
    },
  };
}
