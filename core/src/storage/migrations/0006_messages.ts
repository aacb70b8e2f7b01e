/**
 * Frozen. Messages between a user and the admins (issue 4): one conversation per user, named by
 * that user's id. `to_admins` says which side wrote: true = the user, false = an admin.
 * `read_at`/`read_by` are the read receipt (any admin reading a user's message marks it read).
 * Imports nothing from the app.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('messages')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('author_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('to_admins', 'boolean', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('read_at', 'timestamptz')
    .addColumn('read_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .execute();
  // History pages walk one conversation by id; unread counts only look at unread rows.
  await db.schema.createIndex('messages_conversation_idx').on('messages').columns(['conversation_id', 'id']).execute();
  await db.schema
    .createIndex('messages_unread_idx')
    .on('messages')
    .columns(['to_admins', 'conversation_id'])
    .where(sql.ref('read_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('messages').ifExists().execute();
}
