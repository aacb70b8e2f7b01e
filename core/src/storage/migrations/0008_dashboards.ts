/**
 * Frozen. Dashboards, per user: a title, an order among the user's dashboards, and the layout
 * (cards with their configs) as one JSON document. `version` counts saves, so a save based on an
 * older copy is refused instead of silently overwriting another browser's changes.
 * `user_id` null = the install's own dashboards (callers without a user: the system, or every
 * caller while no authentication is configured). Imports nothing from the app.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dashboards')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Deleting an account deletes its dashboards (0005_auth's users, like its sessions and tokens).
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('layout', 'jsonb', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('dashboards_user_idx').on('dashboards').columns(['user_id', 'position']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dashboards').ifExists().execute();
}
