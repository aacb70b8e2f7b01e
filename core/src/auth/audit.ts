/**
 * The audit log: who did what to what, when and from which address. Logins (success and failure)
 * and every admin action are recorded. `detail` never holds a secret (callers pass ids and field
 * names, not values); redactSecrets runs over it anyway.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../sdk/types.js';
import type { Database } from '../storage/schema.js';
import { redactSecrets } from '../hub/logger.js';

export type AuditAction =
  | 'login' | 'login_failed' | 'logout' | 'onboarding' | 'register'
  | 'password_changed' | 'token_created' | 'token_revoked'
  | 'user_created' | 'user_updated' | 'user_deleted'
  | 'device_owner_changed' | 'registration_changed' | 'invite_created';

export interface AuditEntry {
  id: number;
  at: Date;
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

export interface AuditInput {
  actor?: { id: string | null; email?: string | null } | null;
  action: AuditAction;
  target?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditQuery {
  limit?: number;
  /** Entries with an id below this (paging backwards). */
  before?: number;
  action?: string;
  actorId?: string;
}

export class AuditLog {
  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  async record(input: AuditInput): Promise<void> {
    await this.db.insertInto('audit_log').values({
      at: new Date(this.clock.now()),
      actor_id: input.actor?.id ?? null,
      actor_email: input.actor?.email ?? null,
      action: input.action,
      target: input.target ?? null,
      ip: input.ip ?? null,
      detail: JSON.stringify(redactSecrets(input.detail ?? {})),
    }).execute();
  }

  /** Newest first. */
  async list(q: AuditQuery = {}): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(q.limit ?? 100);
    if (q.before !== undefined) query = query.where('id', '<', q.before);
    if (q.action !== undefined) query = query.where('action', '=', q.action);
    if (q.actorId !== undefined) query = query.where('actor_id', '=', q.actorId);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: new Date(r.at),
      actorId: r.actor_id,
      actorEmail: r.actor_email,
      action: r.action,
      target: r.target,
      ip: r.ip,
      detail: r.detail,
    }));
  }
}
