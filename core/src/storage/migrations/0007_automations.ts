/**
 * Frozen. Automation rules made through the API, the record of every live run, and the
 * notifications users see as a banner. Imports nothing from the app.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('automations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // null = a system/admin rule; otherwise the user whose devices the rule may read and switch.
    .addColumn('owner_id', 'text')
    .addColumn('owner_role', 'text')
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    // Set when the rate limit paused the rule: why, and since when.
    .addColumn('paused_reason', 'text')
    .addColumn('paused_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('automation_runs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // No foreign key: rules from joulehub.yaml are not in the automations table.
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addColumn('trigger', 'jsonb', (c) => c.notNull())
    .addColumn('conditions', 'jsonb', (c) => c.notNull())
    .addColumn('actions', 'jsonb', (c) => c.notNull())
    // 'done' | 'failed' | 'skipped' (conditions false) | 'paused' (rate limit) | 'cancelled'
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('explanation', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('automation_runs_rule_idx').on('automation_runs').columns(['rule_id', 'started_at']).execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // A user's own notification, or (user_id null) one for every admin.
    .addColumn('user_id', 'text')
    .addColumn('device_id', 'text')
    .addColumn('rule_id', 'text')
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('read_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('notifications_user_idx').on('notifications').columns(['user_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications').ifExists().execute();
  await db.schema.dropTable('automation_runs').ifExists().execute();
  await db.schema.dropTable('automations').ifExists().execute();
}
