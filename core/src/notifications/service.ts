/**
 * Notifications: stored per user (or once for every admin), pushed live as a `user_frame`
 * (`{ type: 'notification', notification }`) that the WebSocket gateway delivers to the user's open
 * connections, and optionally POSTed to a webhook. The automation engine is the main sender; the
 * dashboard shows them as a banner and lists them through GET /api/v1/notifications.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { Caller } from '../auth/caller.js';
import type { Clock, EventBus } from '../sdk/types.js';
import type { Database, NotificationsTable } from '../storage/schema.js';

export type NotificationLevel = 'info' | 'warning' | 'critical';
export const NOTIFICATION_LEVELS: readonly NotificationLevel[] = ['info', 'warning', 'critical'];

export interface NotifyInput {
  /** Recipients by user id, or every admin. Either this or `owner`. */
  users?: readonly string[] | 'admins';
  /** A rule's owner: a user id, or null for system rules (→ every admin). */
  owner?: string | null;
  deviceId?: string;
  ruleId?: string;
  level: NotificationLevel;
  title: string;
  message: string;
  /** Also POST the notification as JSON here. */
  webhook?: string;
}

/** What clients see (the WebSocket frame and the REST list carry the same object). */
export interface Notification {
  id: string;
  /** null = addressed to every admin. */
  user_id: string | null;
  device_id: string | null;
  rule_id: string | null;
  level: NotificationLevel;
  title: string;
  message: string;
  created_at: string;
  read_at: string | null;
}

export interface WebhookOutcome { ok: boolean; status?: number; error?: string }

export interface NotificationService {
  notify(input: NotifyInput): Promise<{ notifications: Notification[]; webhook?: WebhookOutcome }>;
  /** The caller's notifications, newest first, and how many are unread. */
  list(caller: Caller, opts?: { limit?: number; unreadOnly?: boolean }): Promise<{ data: Notification[]; unread: number }>;
  /** Marks one read; undefined when it does not exist or is not the caller's. */
  markRead(caller: Caller, id: string): Promise<Notification | undefined>;
}

export interface NotificationDeps {
  db: Kysely<Database>;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  /** Webhook timeout, ms of real time (default 5 s). */
  webhookTimeoutMs?: number;
}

function toWire(row: Selectable<NotificationsTable>): Notification {
  return {
    id: String(row.id),
    user_id: row.user_id,
    device_id: row.device_id,
    rule_id: row.rule_id,
    level: row.level as NotificationLevel,
    title: row.title,
    message: row.message,
    created_at: new Date(row.created_at as Date).toISOString(),
    read_at: row.read_at ? new Date(row.read_at as Date).toISOString() : null,
  };
}

/** Which rows a caller may see: the system all; an admin theirs and the admins' ones; a user theirs. */
function visibleTo<QB extends { where: (...args: any[]) => QB }>(qb: QB, caller: Caller): QB {
  if (caller.kind === 'system') return qb;
  if (caller.role === 'admin') {
    return qb.where((eb: any) => eb.or([eb('user_id', '=', caller.userId ?? ''), eb('user_id', 'is', null)]));
  }
  return qb.where('user_id', '=', caller.userId ?? '\u0000');
}

export function createNotificationService(deps: NotificationDeps): NotificationService {
  const { db, bus, clock, log } = deps;
  const log2 = log.child({ component: 'notifications' });

  async function postWebhook(url: string, body: unknown): Promise<WebhookOutcome> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(deps.webhookTimeoutMs ?? 5_000),
      });
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) log2.warn({ url, status: res.status }, 'notification webhook answered with an error');
      return { ok: res.ok, status: res.status };
    } catch (err) {
      log2.warn({ err, url }, 'notification webhook failed');
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  return {
    async notify(input) {
      const users = input.users ?? (input.owner ? [input.owner] : 'admins');
      const recipients: (string | null)[] = users === 'admins' ? [null] : [...new Set(users)];
      const createdAt = new Date(clock.now());
      const rows = recipients.length === 0 ? [] : await db.insertInto('notifications').values(recipients.map((userId) => ({
        user_id: userId,
        device_id: input.deviceId ?? null,
        rule_id: input.ruleId ?? null,
        level: input.level,
        title: input.title,
        message: input.message,
        created_at: createdAt,
      }))).returningAll().execute();
      const notifications = rows.map(toWire);
      for (const n of notifications) {
        bus.emit('user_frame', { users: n.user_id === null ? 'admins' : [n.user_id], frame: { type: 'notification', notification: n } });
      }
      if (!input.webhook) return { notifications };
      const first = notifications[0];
      const webhook = await postWebhook(input.webhook, {
        type: 'notification',
        notification: first ?? { level: input.level, title: input.title, message: input.message, device_id: input.deviceId ?? null, rule_id: input.ruleId ?? null },
        recipients: users,
      });
      return { notifications, webhook };
    },

    async list(caller, opts = {}) {
      let q = visibleTo(db.selectFrom('notifications').selectAll(), caller);
      if (opts.unreadOnly) q = q.where('read_at', 'is', null);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit ?? 50).execute();
      const unread = await visibleTo(db.selectFrom('notifications').select((eb) => eb.fn.countAll<string>().as('n')), caller)
        .where('read_at', 'is', null).executeTakeFirst();
      return { data: rows.map(toWire), unread: Number(unread?.n ?? 0) };
    },

    async markRead(caller, id) {
      if (!/^\d{1,18}$/.test(id)) return undefined;
      const found = await visibleTo(db.selectFrom('notifications').selectAll(), caller).where('id', '=', id).executeTakeFirst();
      if (!found) return undefined;
      if (found.read_at) return toWire(found);
      const row = await db.updateTable('notifications').set({ read_at: new Date(clock.now()) }).where('id', '=', id).returningAll().executeTakeFirst();
      return row ? toWire(row) : undefined;
    },
  };
}
