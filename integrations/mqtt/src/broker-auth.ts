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
 * Authorization: the hub, the fixed device login and admins publish and subscribe freely. Others
 * (a household's devices logged in with its user's token) publish telemetry and subscribe to topic
 * filters that name their first level (a Tasmota listening on `cmnd/plug/#`), not to filters that
 * start with a wildcard (`#`, `+/…`): those would read every household's devices. Nobody publishes
 * to `$SYS/` (aedes' own rule, kept because this replaces its default hook).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthenticateError, Client } from 'aedes';
import type { CredentialVerifier } from '@joulehub/core/sdk';
import type { Logger } from 'pino';

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
  log: Logger;
}

interface Identity {
  /** Publishes and subscribes anything (the hub, the fixed device login, admins). */
  trusted: boolean;
  who: string;
}

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
        accept({ trusted: result.role === 'admin' && result.scopes.includes('admin'), who: `user ${result.userId} (${result.via})` });
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
      if (identity.trusted || !/^[#+]/u.test(sub.topic)) return callback(null, sub);
      opts.log.info({ clientId: client.id, topic: sub.topic, who: identity.who }, 'MQTT subscription refused: filters starting with a wildcard are for admins');
      // null = a refused subscription (SUBACK 0x80); the connection stays up.
      callback(null, null);
    },
  };
}
