/**
 * API tokens: a random secret shown once at creation, stored as its SHA-256. A token carries
 * scopes (never more than its user's role allows, checked again on every use) and optionally a
 * list of devices it is limited to. Revoked tokens stay listed with their revocation time.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../sdk/types.js';
import type { ApiTokensTable, Database } from '../storage/schema.js';
import { SCOPES, type Scope } from './caller.js';
import { AuthError } from './errors.js';
import { hashSecret, newSecret, TOKEN_PREFIX } from './secrets.js';

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  scopes: Scope[];
  /** Null: every device the user may see. */
  deviceIds: string[] | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface NewToken {
  name: string;
  scopes: Scope[];
  deviceIds?: string[] | null;
}

function toToken(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    scopes: row.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)),
    deviceIds: row.device_ids,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
  };
}

export class TokenStore {
  /** last_used_at is written at most this often per token. */
  private readonly touchEveryMs = 60_000;

  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  /** Creates a token; the secret is returned here only. */
  async create(userId: string, input: NewToken): Promise<{ token: ApiToken; secret: string }> {
    const secret = newSecret(TOKEN_PREFIX);
    const row = await this.db.insertInto('api_tokens').values({
      id: randomUUID(),
      secret_hash: hashSecret(secret),
      user_id: userId,
      name: input.name,
      scopes: [...new Set(input.scopes)],
      device_ids: input.deviceIds ? [...new Set(input.deviceIds)] : null,
      created_at: new Date(this.clock.now()),
      last_used_at: null,
      revoked_at: null,
    }).returningAll().executeTakeFirstOrThrow();
    return { token: toToken(row), secret };
  }

  /**
   * The live (not revoked) token for a secret, or undefined. This is what the HTTP API and the MQTT
   * broker's credential check call.
   */
  async verify(secret: string): Promise<ApiToken | undefined> {
    if (!secret.startsWith(TOKEN_PREFIX)) return undefined;
    const row = await this.db.selectFrom('api_tokens').selectAll()
      .where('secret_hash', '=', hashSecret(secret)).where('revoked_at', 'is', null).executeTakeFirst();
    if (!row) return undefined;
    const token = toToken(row);
    const now = this.clock.now();
    if (!token.lastUsedAt || now - token.lastUsedAt.getTime() >= this.touchEveryMs) {
      await this.db.updateTable('api_tokens').set({ last_used_at: new Date(now) }).where('id', '=', token.id).execute();
      token.lastUsedAt = new Date(now);
    }
    return token;
  }

  async get(id: string): Promise<ApiToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toToken(row) : undefined;
  }

  /** A user's tokens, newest first, revoked ones included. */
  async list(userId: string): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId)
      .orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toToken);
  }

  /** Revokes one of the user's tokens (idempotent); TOKEN_NOT_FOUND when it is not theirs. */
  async revoke(userId: string, id: string): Promise<ApiToken> {
    const current = await this.get(id);
    if (!current || current.userId !== userId) throw new AuthError('TOKEN_NOT_FOUND', `no token "${id}"`);
    if (current.revokedAt) return current;
    const row = await this.db.updateTable('api_tokens').set({ revoked_at: new Date(this.clock.now()) })
      .where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    return toToken(row);
  }
}
