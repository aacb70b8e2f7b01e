/**
 * The account services in one object, built once per hub (hub.auth): users, sessions, API tokens,
 * invites, settings, the audit log and the login limiter, plus the flows that combine them (login,
 * onboarding, registration, deleting a user). The HTTP access policy, the CLI, OpenID Connect
 * login (createSession) and the MQTT broker's credential check (verifyToken) all go through it.
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../sdk/types.js';
import type { Database } from '../storage/schema.js';
import type { DeviceRegistry } from '../hub/types.js';
import { SCOPES, type Caller, type Role, type Scope } from './caller.js';
import { AuditLog, type AuditInput } from './audit.js';
import { AuthError } from './errors.js';
import { InviteStore } from './invites.js';
import { LoginLimiter, type LoginLimiterOptions } from './login-limiter.js';
import { SessionStore, type Session, type SessionMeta, type SessionOptions } from './sessions.js';
import { SettingsStore } from './settings.js';
import { TokenStore, type ApiToken } from './tokens.js';
import { UserStore, type NewUser, type User } from './users.js';

/** What each role may do; a session has all of its role's scopes, a token at most these. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  user: ['read', 'write', 'ingest'],
};

export interface AuthOptions {
  sessions?: SessionOptions;
  loginLimit?: LoginLimiterOptions;
}

export interface AuthDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  /** To orphan a deleted user's devices in the registry (not only in the table). */
  devices: Pick<DeviceRegistry, 'list' | 'update'>;
}

/** Where a request came from, for sessions and the audit log. */
export interface RequestMeta extends SessionMeta {
  ip?: string | null;
}

export interface Authenticated {
  user: User;
  caller: Caller;
}

/**
 * Credentials that stopped being valid, so holders of long-lived connections (WebSockets) can drop
 * them: one session, one token, or every credential of a user (except `keepSession`).
 */
export type Revocation =
  | { sessionId: string }
  | { tokenId: string }
  | { userId: string; keepSession?: string };

/** Whether a caller used a credential that a revocation ends. */
export function revokes(r: Revocation, caller: Caller): boolean {
  if ('sessionId' in r) return caller.sessionId === r.sessionId;
  if ('tokenId' in r) return caller.tokenId === r.tokenId;
  return caller.userId === r.userId && (r.keepSession === undefined || caller.sessionId !== r.keepSession);
}

/** Any lock id shared by every hub on one database: serializes onboarding. */
const ONBOARDING_LOCK = 0x6a6875;

export class AuthService {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly tokens: TokenStore;
  readonly invites: InviteStore;
  readonly settings: SettingsStore;
  readonly audit: AuditLog;
  readonly limiter: LoginLimiter;
  private readonly log: Logger;
  private readonly revocationListeners = new Set<(r: Revocation) => void>();

  constructor(private readonly deps: AuthDeps, opts: AuthOptions = {}) {
    this.users = new UserStore(deps.db, deps.clock);
    this.sessions = new SessionStore(deps.db, deps.clock, opts.sessions);
    this.tokens = new TokenStore(deps.db, deps.clock);
    this.invites = new InviteStore(deps.db, deps.clock);
    this.settings = new SettingsStore(deps.db);
    this.audit = new AuditLog(deps.db, deps.clock);
    this.limiter = new LoginLimiter(deps.clock, opts.loginLimit);
    this.log = deps.log.child({ component: 'auth' });
  }

  /** The device registry, for ownership checks outside HTTP (device-credentials.ts). */
  get devices(): Pick<DeviceRegistry, 'list'> {
    return this.deps.devices;
  }

  callerForSession(user: User, session: Session): Caller {
    return { kind: 'session', userId: user.id, role: user.role, scopes: ROLE_SCOPES[user.role], sessionId: session.id };
  }

  callerForToken(user: User, token: ApiToken): Caller {
    const allowed = ROLE_SCOPES[user.role];
    return {
      kind: 'token',
      userId: user.id,
      role: user.role,
      // The role is checked on every use: a demoted admin's tokens lose the admin scope at once.
      scopes: token.scopes.filter((s) => allowed.includes(s)),
      tokenId: token.id,
      ...(token.deviceIds ? { deviceIds: token.deviceIds } : {}),
    };
  }

  /** The user and caller behind a session cookie's secret, or undefined. */
  async verifySession(secret: string): Promise<(Authenticated & { session: Session }) | undefined> {
    const session = await this.sessions.verify(secret);
    if (!session) return undefined;
    const user = await this.users.get(session.userId);
    if (!user) return undefined;
    return { user, session, caller: this.callerForSession(user, session) };
  }

  /** The user and caller behind an API token, or undefined (unknown or revoked). */
  async verifyToken(secret: string): Promise<(Authenticated & { token: ApiToken }) | undefined> {
    const token = await this.tokens.verify(secret);
    if (!token) return undefined;
    const user = await this.users.get(token.userId);
    if (!user) return undefined;
    return { user, token, caller: this.callerForToken(user, token) };
  }

  /** Starts a session for a user who proved who they are (password, OpenID Connect …). */
  createSession(userId: string, meta: SessionMeta = {}): Promise<{ session: Session; secret: string }> {
    return this.sessions.create(userId, meta);
  }

  /**
   * Email + password → a session. Rate limited per account and per address with a growing
   * back-off; every attempt is audited. Wrong email and wrong password are one error.
   */
  async login(email: string, password: string, meta: RequestMeta = {}): Promise<{ user: User; session: Session; secret: string }> {
    const ip = meta.ip ?? null;
    const wait = this.limiter.waitMs(email, ip);
    if (wait > 0) {
      await this.record({ action: 'login_failed', target: email.trim(), ip, detail: { reason: 'rate_limited' } });
      throw new AuthError('TOO_MANY_ATTEMPTS', 'too many failed logins; wait before trying again', { retryAfterS: Math.ceil(wait / 1000) });
    }
    const user = await this.users.verifyCredentials(email, password);
    if (!user) {
      this.limiter.failed(email, ip);
      await this.record({ action: 'login_failed', target: email.trim(), ip, detail: { reason: 'bad_credentials' } });
      throw new AuthError('INVALID_CREDENTIALS', 'wrong email or password');
    }
    this.limiter.succeeded(email);
    const { session, secret } = await this.sessions.create(user.id, meta);
    await this.record({ actor: user, action: 'login', target: user.id, ip, detail: { session: session.id } });
    return { user, session, secret };
  }

  /** Whether the instance still needs its first admin. */
  async needsOnboarding(): Promise<boolean> {
    return (await this.users.count()) === 0;
  }

  /**
   * Creates the first admin, only while no user exists (serialized across concurrent requests and
   * hubs on one database); ALREADY_ONBOARDED afterwards.
   */
  async createFirstAdmin(input: Omit<NewUser, 'role'> & { password: string }, meta: RequestMeta & { via: string }): Promise<User> {
    const user = await this.deps.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${ONBOARDING_LOCK})`.execute(trx);
      const users = new UserStore(trx, this.deps.clock);
      if ((await users.count()) > 0) throw new AuthError('ALREADY_ONBOARDED', 'the first admin exists already; log in instead');
      return users.create({ ...input, role: 'admin' });
    });
    await this.record({ actor: user, action: 'onboarding', target: user.id, ip: meta.ip ?? null, detail: { via: meta.via } });
    this.log.info({ userId: user.id, via: meta.via }, 'first admin created');
    return user;
  }

  /** Self-registration: open, or with an invite (which also decides the role). */
  async register(input: { email: string; password: string; name?: string | null; invite?: string }, meta: RequestMeta = {}): Promise<User> {
    const mode = await this.settings.registration();
    if (input.invite === undefined) {
      if (mode !== 'open') throw new AuthError('REGISTRATION_CLOSED', 'registration needs an invite from an admin');
      const user = await this.users.create({ email: input.email, password: input.password, name: input.name ?? null, role: 'user' });
      await this.record({ actor: user, action: 'register', target: user.id, ip: meta.ip ?? null, detail: { mode } });
      return user;
    }
    const invite = await this.invites.claim(input.invite, input.email);
    try {
      const user = await this.users.create({ email: input.email, password: input.password, name: input.name ?? null, role: invite.role });
      await this.invites.markUsedBy(invite.id, user.id);
      await this.record({ actor: user, action: 'register', target: user.id, ip: meta.ip ?? null, detail: { invite: invite.id, role: invite.role } });
      return user;
    } catch (err) {
      await this.invites.release(invite.id);
      throw err;
    }
  }

  /** Deletes a user; their devices become orphans, their sessions and tokens end. */
  async deleteUser(id: string): Promise<User> {
    const user = await this.users.delete(id);
    this.revoked({ userId: id });
    for (const device of this.deps.devices.list()) {
      if (device.ownerId === id) await this.deps.devices.update(device.id, { ownerId: null });
    }
    return user;
  }

  /** Calls `fn` whenever credentials end (logout, revoked token, password change, role change, deletion); returns the unsubscribe. */
  onRevoked(fn: (r: Revocation) => void): () => void {
    this.revocationListeners.add(fn);
    return () => { this.revocationListeners.delete(fn); };
  }

  private revoked(r: Revocation): void {
    for (const fn of this.revocationListeners) {
      try {
        fn(r);
      } catch (err) {
        this.log.error({ err }, 'a revocation listener failed');
      }
    }
  }

  /** Ends one session (logout). */
  async endSession(sessionId: string): Promise<void> {
    await this.sessions.delete(sessionId);
    this.revoked({ sessionId });
  }

  /** Ends every session of a user but `keep` (password change or reset). */
  async endSessions(userId: string, keep?: string): Promise<void> {
    await this.sessions.deleteForUser(userId, keep);
    this.revoked({ userId, ...(keep ? { keepSession: keep } : {}) });
  }

  async revokeToken(userId: string, tokenId: string): Promise<ApiToken> {
    const token = await this.tokens.revoke(userId, tokenId);
    this.revoked({ tokenId });
    return token;
  }

  /**
   * A user's rights changed (role): their open connections are closed so they reconnect with the
   * new rights; sessions and tokens stay valid.
   */
  rightsChanged(userId: string): void {
    this.revoked({ userId });
  }

  /** Audit entry; a failure to write one is logged and does not fail the action it records. */
  async record(input: AuditInput): Promise<void> {
    try {
      const actor = input.actor;
      // The email is kept with the entry, so the trail stays readable after the account is gone.
      if (actor?.id && actor.email === undefined) input = { ...input, actor: { id: actor.id, email: (await this.users.get(actor.id))?.email ?? null } };
      await this.audit.record(input);
    } catch (err) {
      this.log.error({ err, action: input.action }, 'could not write the audit log');
    }
  }
}
