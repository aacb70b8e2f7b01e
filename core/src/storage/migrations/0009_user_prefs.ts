/**
 * Frozen once released. Per-user display preferences: `locale` (a BCP 47 tag, e.g. `de-DE`) and
 * `time_zone` (an IANA zone, e.g. `Asia/Kathmandu`), both nullable: null = use the browser's.
 * The API validates them with Intl; the database only bounds their length.
 * (Dashboards' order needs nothing here: 0008 has `dashboards.position` already.)
 * Imports nothing from the app.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('locale', 'text', (c) => c.check(sql`char_length(locale) <= 64`))
    .addColumn('time_zone', 'text', (c) => c.check(sql`char_length(time_zone) <= 64`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('locale').dropColumn('time_zone').execute();
}
