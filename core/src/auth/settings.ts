/** Instance settings kept in the `settings` table (today: who may register). */
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

export type RegistrationMode = 'open' | 'invite';
export const REGISTRATION_MODES: readonly RegistrationMode[] = ['open', 'invite'];

export class SettingsStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Invite-only unless an admin opened registration. */
  async registration(): Promise<RegistrationMode> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', 'registration').executeTakeFirst();
    return row?.value === 'open' ? 'open' : 'invite';
  }

  async setRegistration(mode: RegistrationMode): Promise<void> {
    await this.db.insertInto('settings').values({ key: 'registration', value: JSON.stringify(mode) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(mode), updated_at: new Date() }))
      .execute();
  }
}
