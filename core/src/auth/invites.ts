/**
 * Invites for invite-only registration: an admin creates one (optionally for one email) and hands
 * the secret to the person; registering with it uses it up. Only the secret's SHA-256 is stored.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../sdk/types.js';
import type { Database } from '../storage/schema.js';
import type { Role } from './caller.js';
import { AuthError } from './errors.js';
import { hashSecret, INVITE_PREFIX, newSecret } from './secrets.js';

export interface Invite {
  id: string;
  email: string | null;
  role: Role;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date;
}

const WEEK = 7 * 86_400_000;

export class InviteStore {
  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  async create(input: { email?: string | null; role?: Role; createdBy: string | null; ttlMs?: number }): Promise<{ invite: Invite; secret: string }> {
    const secret = newSecret(INVITE_PREFIX);
    const now = this.clock.now();
    const row = await this.db.insertInto('invites').values({
      id: randomUUID(),
      secret_hash: hashSecret(secret),
      email: input.email?.trim() ?? null,
      role: input.role ?? 'user',
      created_by: input.createdBy,
      created_at: new Date(now),
      expires_at: new Date(now + (input.ttlMs ?? WEEK)),
      used_at: null,
      used_by: null,
    }).returningAll().executeTakeFirstOrThrow();
    return {
      secret,
      invite: {
        id: row.id, email: row.email, role: row.role as Role, createdBy: row.created_by,
        createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at),
      },
    };
  }

  /**
   * Marks the invite used (at most once, even under concurrent registrations) and returns it;
   * INVITE_INVALID when it is unknown, used, expired or meant for another email.
   */
  async claim(secret: string, email: string): Promise<Invite> {
    const row = await this.db.updateTable('invites')
      .set({ used_at: new Date(this.clock.now()) })
      .where('secret_hash', '=', hashSecret(secret))
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date(this.clock.now()))
      .where((eb) => eb.or([eb('email', 'is', null), eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase())]))
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new AuthError('INVITE_INVALID', 'the invite is unknown, used, expired or meant for another email');
    return {
      id: row.id, email: row.email, role: row.role as Role, createdBy: row.created_by,
      createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at),
    };
  }

  async markUsedBy(id: string, userId: string): Promise<void> {
    await this.db.updateTable('invites').set({ used_by: userId }).where('id', '=', id).execute();
  }

  /** Gives a claimed invite back (registration failed after claiming it). */
  async release(id: string): Promise<void> {
    await this.db.updateTable('invites').set({ used_at: null, used_by: null }).where('id', '=', id).execute();
  }
}
