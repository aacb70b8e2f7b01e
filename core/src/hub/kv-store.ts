/**
 * A small persistent key/value store per integration instance (table `kv`, scoped by instance id):
 * cursors, tokens a device handed out, the last file offset read. Values are JSON.
 */
import { sql, type Kysely } from 'kysely';
import type { KeyValueStore } from '../sdk/types.js';
import type { Database } from '../storage/schema.js';

export function createKvStore(db: Kysely<Database>, scope: string): KeyValueStore {
  return {
    async get<T = unknown>(key: string): Promise<T | undefined> {
      const row = await db.selectFrom('kv').select('value').where('scope', '=', scope).where('key', '=', key).executeTakeFirst();
      return row ? (row.value as T) : undefined;
    },
    async set(key: string, value: unknown): Promise<void> {
      if (value === undefined) {
        await this.delete(key);
        return;
      }
      // Always serialise ourselves: pg would turn a JS array into a PostgreSQL array, not JSON.
      const json = JSON.stringify(value);
      await db
        .insertInto('kv')
        .values({ scope, key, value: sql`${json}::jsonb` })
        .onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet({ value: sql`excluded.value`, updated_at: sql`now()` }))
        .execute();
    },
    async delete(key: string): Promise<void> {
      await db.deleteFrom('kv').where('scope', '=', scope).where('key', '=', key).execute();
    },
  };
}

/** Removes everything an instance stored (when the user removes the instance for good). */
export async function clearKvScope(db: Kysely<Database>, scope: string): Promise<void> {
  await db.deleteFrom('kv').where('scope', '=', scope).execute();
}
