/**
 * The messages table: queries only, the database (or a transaction) first. Who may do what is
 * decided in service.ts.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, MessagesTable } from '../storage/schema.js';

export interface StoredMessage {
  id: number;
  conversationId: string;
  authorId: string | null;
  /** true: written by the conversation's user to the admins; false: by an admin to the user. */
  toAdmins: boolean;
  body: string;
  createdAt: Date;
  readAt: Date | null;
  readBy: string | null;
}

function fromRow(r: Selectable<MessagesTable>): StoredMessage {
  return {
    id: Number(r.id),
    conversationId: r.conversation_id,
    authorId: r.author_id,
    toAdmins: r.to_admins,
    body: r.body,
    createdAt: new Date(r.created_at),
    readAt: r.read_at === null ? null : new Date(r.read_at),
    readBy: r.read_by,
  };
}

export async function insertMessage(
  db: Kysely<Database>,
  m: { conversationId: string; authorId: string; toAdmins: boolean; body: string; at: Date },
): Promise<StoredMessage> {
  const row = await db
    .insertInto('messages')
    .values({ conversation_id: m.conversationId, author_id: m.authorId, to_admins: m.toAdmins, body: m.body, created_at: m.at })
    .returningAll()
    .executeTakeFirstOrThrow();
  return fromRow(row);
}

/** One page of a conversation, oldest first: the `limit` messages before message `before` (or the newest). */
export async function messagePage(
  db: Kysely<Database>, conversationId: string, opts: { before?: number; limit: number },
): Promise<{ messages: StoredMessage[]; more: boolean }> {
  let q = db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId);
  if (opts.before !== undefined) q = q.where('id', '<', String(opts.before));
  const rows = await q.orderBy('id', 'desc').limit(opts.limit + 1).execute();
  const more = rows.length > opts.limit;
  return { messages: rows.slice(0, opts.limit).reverse().map(fromRow), more };
}

/**
 * Marks the unread messages written by one side of a conversation as read (all of them, or those up
 * to message `upTo`); returns the rows it changed.
 */
export async function markRead(
  db: Kysely<Database>,
  m: { conversationId: string; toAdmins: boolean; upTo?: number; readBy: string; at: Date },
): Promise<StoredMessage[]> {
  let q = db
    .updateTable('messages')
    .set({ read_at: m.at, read_by: m.readBy })
    .where('conversation_id', '=', m.conversationId)
    .where('to_admins', '=', m.toAdmins)
    .where('read_at', 'is', null);
  if (m.upTo !== undefined) q = q.where('id', '<=', String(m.upTo));
  const rows = await q.returningAll().execute();
  return rows.map(fromRow).sort((a, b) => a.id - b.id);
}

/** Unread counts per conversation, for messages written by the given side (optionally one conversation). */
export async function unreadCounts(
  db: Kysely<Database>, m: { toAdmins: boolean; conversationId?: string },
): Promise<Map<string, number>> {
  let q = db
    .selectFrom('messages')
    .select(['conversation_id', sql<string>`count(*)`.as('n')])
    .where('to_admins', '=', m.toAdmins)
    .where('read_at', 'is', null);
  if (m.conversationId !== undefined) q = q.where('conversation_id', '=', m.conversationId);
  const rows = await q.groupBy('conversation_id').execute();
  return new Map(rows.map((r) => [r.conversation_id, Number(r.n)]));
}

/** Every conversation that has a message, with its newest message, newest first. */
export async function latestPerConversation(db: Kysely<Database>, limit: number): Promise<StoredMessage[]> {
  const rows = await db
    .selectFrom('messages')
    .selectAll()
    .distinctOn('conversation_id')
    .orderBy('conversation_id')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(fromRow).sort((a, b) => b.id - a.id).slice(0, limit);
}

export async function latestIn(db: Kysely<Database>, conversationId: string): Promise<StoredMessage | undefined> {
  const row = await db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId)
    .orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}
