/**
 * Login sessions. The cookie carries a random secret; the table keeps its SHA-256, so a copy of the
 * database cannot be used to log in. A session expires `ttlMs` after it was last used (sliding),
 * and never later than `maxAgeMs` after login. All times come from the hub clock.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../sdk/types.js';
import type { Database } from '../storage/schema.js';
import { hashSecret, newSecret, SESSION_PREFIX } from './secrets.js';

export interface SessionMeta {
  ip?: string | null;
  userAgent?: string | null;
}

export interface Session {
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  ip: string | null;
  userAgent: string | null;
}

export interface SessionOptions {
  /** Idle lifetime (default 14 days). */
  ttlMs?: number;
  /** Absolute lifetime (default 90 days). */
  maxAgeMs?: number;
  /** last_seen/expiry are written at most this often per session (default 60 s). */
  touchEveryMs?: number;
}

const DAY = 86_400_000;

export class SessionStore {
  readonly ttlMs: number;
  private readonly maxAgeMs: number;
  private readonly touchEveryMs: number;

  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock, opts: SessionOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 14 * DAY;
    this.maxAgeMs = opts.maxAgeMs ?? 90 * DAY;
    this.touchEveryMs = opts.touchEveryMs ?? 60_000;
  }

  /** Starts a session; the secret goes into the cookie and is not kept. */
  async create(userId: string, meta: SessionMeta = {}): Promise<{ session: Session; secret: string }> {
    const secret = newSecret(SESSION_PREFIX);
    const now = new Date(this.clock.now());
    const row = await this.db.insertInto('sessions').values({
      id: randomUUID(),
      secret_hash: hashSecret(secret),
      user_id: userId,
      created_at: now,
      expires_at: new Date(now.getTime() + this.ttlMs),
      last_seen_at: now,
      ip: meta.ip ?? null,
      user_agent: meta.userAgent?.slice(0, 500) ?? null,
    }).returningAll().executeTakeFirstOrThrow();
    return { session: toSession(row), secret };
  }

  /** The live session for a cookie secret (extending it), or undefined (unknown or expired). */
  async verify(secret: string): Promise<Session | undefined> {
    if (!secret.startsWith(SESSION_PREFIX)) return undefined;
    const row = await this.db.selectFrom('sessions').selectAll().where('secret_hash', '=', hashSecret(secret)).executeTakeFirst();
    if (!row) return undefined;
    const now = this.clock.now();
    const session = toSession(row);
    if (session.expiresAt.getTime() <= now) {
      await this.db.deleteFrom('sessions').where('id', '=', session.id).execute();
      return undefined;
    }
    if (now - session.lastSeenAt.getTime() >= this.touchEveryMs) {
      const expiresAt = new Date(Math.min(now + this.ttlMs, session.createdAt.getTime() + this.maxAgeMs));
      await this.db.updateTable('sessions').set({ last_seen_at: new Date(now), expires_at: expiresAt }).where('id', '=', session.id).execute();
      session.lastSeenAt = new Date(now);
      session.expiresAt = expiresAt;
    }
    return session;
  }

  async list(userId: string): Promise<Session[]> {
    const rows = await this.db.selectFrom('sessions').selectAll().where('user_id', '=', userId)
      .where('expires_at', '>', new Date(this.clock.now())).orderBy('created_at', 'desc').execute();
    return rows.map(toSession);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', id).execute();
  }

  /** Ends every session of a user, except `keep` (the one changing its password). */
  async deleteForUser(userId: string, keep?: string): Promise<number> {
    let q = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (keep) q = q.where('id', '!=', keep);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Removes expired rows (housekeeping). */
  async prune(): Promise<number> {
    const res = await this.db.deleteFrom('sessions').where('expires_at', '<=', new Date(this.clock.now())).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

function toSession(row: { id: string; user_id: string; created_at: Date | string; expires_at: Date | string; last_seen_at: Date | string; ip: string | null; user_agent: string | null }): Session {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    lastSeenAt: new Date(row.last_seen_at),
    ip: row.ip,
    userAgent: row.user_agent,
  };
}
