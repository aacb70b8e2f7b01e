/**
 * Who may use the embedded broker, and for what. Logins:
 *  - the hub's own client: a random password made at each start, never configured or shown;
 *  - the fixed device login `broker_username`/`broker_password`, when configured;
 *  - with `require_auth`: a hub account (username = its email, password = its password) or an API
 *    token (username `token`, password = the token) with the `ingest` scope, both checked by the hub
 *    through `ctx.credentials` (rate limited there like the web login).
 * Refusals: CONNACK 5 (not authorized) without credentials or without the `ingest` scope, 4 (bad
 * username or password) for wrong ones.
 *
 * Authorization: the hub, the fixed device login and admins (a password login, or a token with the
 * `admin` scope) publish and subscribe freely. Every other login (a household's device with its
 * user's token) publishes as before, and subscribes only to concrete topics of devices it may see by
 * the hub's ownership rule (ctx.credentials.deviceAccess): its user's own devices, or a device the hub
 * does not know yet (a new device subscribing to its command topic before its first reading). Which
 * device a topic belongs to: topic-devices.ts. Filters with wildcards (`#`, `+`) would read devices
 * of every household and are refused, except Tasmota's `cmnd/<topic>/#` (one device's commands). A
 * refusal is SUBACK 0x80 for that filter (the connection stays up), logged once at info per login
 * and filter. Nobody publishes to `$SYS/` (aedes' own rule, kept because this replaces its default
 * hook), and only trusted logins read it (it names every connected client).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthenticateError, Client } from 'aedes';
import type { CredentialVerifier, VerifiedCredentials } from '@joulehub/core/sdk';
import type { Logger } from 'pino';
import type { TopicDevices } from './topic-devices.js';

/** Username devices use to log in with an API token as the password. */
export const TOKEN_USERNAME = 'token';

export interface BrokerLogin { username: string; password: string }

export interface BrokerAuthOptions {
  /** The hub's own client (always allowed everything). */
  hub: BrokerLogin;
  /** The fixed device login from the config, if any. */
  device?: BrokerLogin;
  /** Require a hub account or API token from every other client. */
  requireAuth: boolean;
  /** The hub's check of accounts and tokens; required when requireAuth is set. */
  credentials?: CredentialVerifier;
  /** The devices a subscription filter reaches (undefined: cannot be pinned); set once the router exists. */
  topicDevices?: () => TopicDevices | undefined;
  log: Logger;
}

interface Identity {
  /** Publishes and subscribes anything (the hub, the fixed device login, admins). */
  trusted: boolean;
  who: string;
  /** The hub's account or token behind a require_auth login. */
  verified?: VerifiedCredentials;
}

/** Distinct refusals remembered so each is logged once at info (repeats at debug). */
const LOGGED_REFUSALS_MAX = 1_000;

/** A fresh login for the hub's own client. */
export function hubLogin(): BrokerLogin {
  return { username: `joulehub-${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('base64url') };
}

function same(expected: string, given: Buffer | undefined): boolean {
  if (!given) return false;
  const x = Buffer.from(expected);
  return x.length === given.length && timingSafeEqual(x, given);
}

function refusal(returnCode: 4 | 5, message: string): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  // aedes declares the codes as a const enum, which isolated modules cannot read; the values are MQTT's.
  err.returnCode = returnCode as AuthenticateError['returnCode'];
  return err;
}

/** `undefined` = everyone may connect (the broker's old default: no device login, no require_auth). */
export function brokerAuthHooks(opts: BrokerAuthOptions) {
  if (opts.requireAuth && !opts.credentials) throw new Error('require_auth needs the hub to check credentials, and this hub cannot');
  const identities = new WeakMap<Client, Identity>();
  const loggedRefusals = new Set<string>();
  const open = !opts.requireAuth && !opts.device;

  const authenticate = (client: Client, username: string | undefined, password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void) => {
    const accept = (identity: Identity) => {
      identities.set(client, identity);
      done(null, true);
    };
    if (username === opts.hub.username && same(opts.hub.password, password)) return accept({ trusted: true, who: 'hub' });
    if (opts.device && username === opts.device.username && same(opts.device.password, password)) {
      return accept({ trusted: true, who: 'device login' });
    }
    if (open) return accept({ trusted: true, who: 'anyone' });
    if (!opts.requireAuth || !opts.credentials) return done(refusal(4, 'bad username or password'), false);
    if (!username || !password || password.length === 0) {
      return done(refusal(5, 'log in with a hub account or an API token (username "token")'), false);
    }
    opts.credentials.verify(username, password.toString('utf8'), { ip: client.conn && 'remoteAddress' in client.conn ? String(client.conn.remoteAddress) : null })
      .then((result) => {
        if (!result) {
          opts.log.info({ clientId: client.id, username: username === TOKEN_USERNAME ? TOKEN_USERNAME : username }, 'MQTT login refused');
          return done(refusal(4, 'bad username or password'), false);
        }
        if (!result.scopes.includes('ingest')) {
          opts.log.info({ clientId: client.id, userId: result.userId }, 'MQTT login refused: the token lacks the ingest scope');
          return done(refusal(5, 'the token needs the ingest scope'), false);
        }
        accept({
          trusted: result.role === 'admin' && result.scopes.includes('admin') && !result.deviceIds,
          // The email a person logged in with, or "token": never the secret.
          who: `${result.via === 'token' ? TOKEN_USERNAME : username} (user ${result.userId})`,
          verified: result,
        });
      })
      .catch((err: unknown) => {
        opts.log.error({ err, clientId: client.id }, 'checking MQTT credentials failed');
        done(refusal(5, 'credentials could not be checked'), false);
      });
  };

  return {
    authenticate,
    authorizePublish(client: Client | null, packet: { topic: string }, callback: (error?: Error | null) => void) {
      if (packet.topic.startsWith('$SYS/')) return callback(new Error('$SYS/ topics are reserved'));
      // client null: aedes publishing a will of a client that is gone; it was authorized when it connected.
      if (client && !identities.has(client)) return callback(new Error('not logged in'));
      callback(null);
    },
    authorizeSubscribe<S extends { topic: string }>(client: Client, sub: S, callback: (error: Error | null, sub?: S | null) => void) {
      const identity = identities.get(client);
      if (!identity) return callback(new Error('not logged in'));
      if (identity.trusted) return callback(null, sub);
      const why = subscriptionRefusal(identity, sub.topic);
      if (!why) return callback(null, sub);
      const key = `${identity.who}\u0000${sub.topic}`;
      const first = !loggedRefusals.has(key);
      if (first) {
        if (loggedRefusals.size >= LOGGED_REFUSALS_MAX) loggedRefusals.delete(loggedRefusals.values().next().value as string);
        loggedRefusals.add(key);
      }
      opts.log[first ? 'info' : 'debug']({ clientId: client.id, login: identity.who, filter: sub.topic, reason: why }, 'MQTT subscription refused');
      // null = a refused subscription (SUBACK 0x80); the connection stays up.
      callback(null, null);
    },
  };

  /** Why a login that is not trusted may not subscribe to `filter`; undefined = it may. */
  function subscriptionRefusal(identity: Identity, filter: string): string | undefined {
    // `$SYS/` names every connected client; other `$` prefixes (`$share/…`) would hide the real topic.
    if (filter.startsWith('$')) return '$ topics are for admins';
    // The fixed device login and the open broker are trusted; only hub logins get here.
    const who = identity.verified;
    const access = opts.credentials?.deviceAccess;
    if (!who || !access) return 'this hub cannot check device owners';
    const mapper = opts.topicDevices?.();
    if (!mapper) return 'the MQTT integration is still starting';
    const devices = mapper(filter);
    if (!devices) return 'wildcard filters (# and +) are for admins; subscribe to your devices\' topics';
    const denied = devices.filter((id) => access.call(opts.credentials, who, id) === 'denied');
    return denied.length ? `device ${denied.join(', ')} is not yours` : undefined;
  }
}
