/**
 * The user store: accounts in the `users` table. Emails are unique case-insensitively and kept as
 * typed; lookups ignore case. Password hashes never leave this module except to verify.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Clock } from '../sdk/types.js';
import type { Database, UsersTable } from '../storage/schema.js';
import type { Role } from './caller.js';
import { AuthError } from './errors.js';
import { hashPassword, verifyPassword } from './passwords.js';

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  /** Whether the account can log in with a password. */
  hasPassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUser {
  email: string;
  password?: string;
  role?: Role;
  name?: string | null;
}

export interface UserPatch {
  email?: string;
  name?: string | null;
  role?: Role;
  password?: string;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/u;

/** How a user wants numbers and times shown; null = the browser's. */
export interface Preferences {
  /** BCP 47 tag, canonical (`de-DE`). */
  locale: string | null;
  /** IANA zone (`Asia/Kathmandu`). */
  timeZone: string | null;
}

/** The canonical form of one BCP 47 tag (`de-de` → `de-DE`), or undefined when it is not one. */
export function canonicalLocale(tag: string): string | undefined {
  if (tag.length === 0 || tag.length > 64) return undefined;
  try {
    const list = Intl.getCanonicalLocales(tag);
    return list.length === 1 ? list[0] : undefined;
  } catch {
    return undefined;
  }
}

let zoneNames: Map<string, string> | undefined;

/**
 * The IANA zone `name` spells, with the usual capitals (`asia/kathmandu` → `Asia/Kathmandu`), or
 * undefined when Intl does not know it. Offsets (`+05:45`) are refused: a fixed offset has no DST
 * and is not what a user means by their zone. The name is kept as given rather than resolved, since
 * Node 20's ICU resolves current names to old ones (Asia/Kathmandu → Asia/Katmandu).
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (name.length === 0 || name.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/u.test(name)) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
  } catch {
    return undefined;
  }
  zoneNames ??= new Map(['UTC', ...Intl.supportedValuesOf('timeZone')].map((z) => [z.toLowerCase(), z]));
  return zoneNames.get(name.toLowerCase()) ?? name;
}

export function normalizeEmail(email: string): string {
  return email.trim();
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    hasPassword: row.password_hash !== null,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

export class UserStore {
  private dummy: Promise<string> | undefined;

  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  async count(): Promise<number> {
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countAdmins(): Promise<number> {
    const row = await this.db.selectFrom('users').where('role', '=', 'admin')
      .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async get(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async getByEmail(email: string): Promise<User | undefined> {
    const row = await this.byEmail(email);
    return row ? toUser(row) : undefined;
  }

  /** Every user, ordered by email. */
  async list(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('email').execute();
    return rows.map(toUser);
  }

  async create(input: NewUser): Promise<User> {
    const email = this.checkEmail(input.email);
    const passwordHash = input.password !== undefined ? await hashPassword(input.password) : null;
    const now = new Date(this.clock.now());
    try {
      const row = await this.db.insertInto('users').values({
        id: randomUUID(),
        email,
        name: input.name ?? null,
        role: input.role ?? 'user',
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
      }).returningAll().executeTakeFirstOrThrow();
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AuthError('EMAIL_TAKEN', `an account with the email ${email} exists`);
      throw err;
    }
  }

  /** Changes the given fields; refuses to leave the instance without an admin. */
  async update(id: string, patch: UserPatch): Promise<User> {
    const current = await this.get(id);
    if (!current) throw new AuthError('USER_NOT_FOUND', `no user "${id}"`);
    const values: Updateable<UsersTable> = { updated_at: new Date(this.clock.now()) };
    if (patch.email !== undefined) values.email = this.checkEmail(patch.email);
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.role !== undefined) {
      if (current.role === 'admin' && patch.role !== 'admin' && (await this.countAdmins()) <= 1) {
        throw new AuthError('LAST_ADMIN', 'the last admin cannot be made a user; make someone else admin first');
      }
      values.role = patch.role;
    }
    if (patch.password !== undefined) values.password_hash = await hashPassword(patch.password);
    try {
      const row = await this.db.updateTable('users').set(values).where('id', '=', id).returningAll().executeTakeFirst();
      if (!row) throw new AuthError('USER_NOT_FOUND', `no user "${id}"`);
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AuthError('EMAIL_TAKEN', `an account with the email ${String(values.email)} exists`);
      throw err;
    }
  }

  async preferences(id: string): Promise<Preferences | undefined> {
    const row = await this.db.selectFrom('users').select(['locale', 'time_zone']).where('id', '=', id).executeTakeFirst();
    return row ? { locale: row.locale, timeZone: row.time_zone } : undefined;
  }

  /**
   * Changes the given preferences (undefined = keep, null = back to the browser's). Values must be
   * canonical already (see canonicalLocale, canonicalTimeZone): this throws on anything else.
   */
  async setPreferences(id: string, patch: Partial<Preferences>): Promise<Preferences> {
    if (patch.locale != null && canonicalLocale(patch.locale) !== patch.locale) throw new TypeError(`not a canonical locale: ${patch.locale}`);
    if (patch.timeZone != null && canonicalTimeZone(patch.timeZone) !== patch.timeZone) throw new TypeError(`not a time zone: ${patch.timeZone}`);
    const values: Updateable<UsersTable> = { updated_at: new Date(this.clock.now()) };
    if (patch.locale !== undefined) values.locale = patch.locale;
    if (patch.timeZone !== undefined) values.time_zone = patch.timeZone;
    const row = await this.db.updateTable('users').set(values).where('id', '=', id)
      .returning(['locale', 'time_zone']).executeTakeFirst();
    if (!row) throw new AuthError('USER_NOT_FOUND', `no user "${id}"`);
    return { locale: row.locale, timeZone: row.time_zone };
  }

  /** Deletes the account (its sessions and tokens go with it). Refuses to delete the last admin. */
  async delete(id: string): Promise<User> {
    const current = await this.get(id);
    if (!current) throw new AuthError('USER_NOT_FOUND', `no user "${id}"`);
    if (current.role === 'admin' && (await this.countAdmins()) <= 1) {
      throw new AuthError('LAST_ADMIN', 'the last admin cannot be deleted');
    }
    await this.db.deleteFrom('users').where('id', '=', id).execute();
    return current;
  }

  /**
   * The user whose email and password match, or undefined. Takes the same time whether or not the
   * account exists, so the answer does not reveal which emails have accounts.
   */
  async verifyCredentials(email: string, password: string): Promise<User | undefined> {
    const row = await this.byEmail(email);
    if (!row?.password_hash) {
      this.dummy ??= hashPassword(`no-such-account-${randomUUID()}`);
      await verifyPassword(await this.dummy, password);
      return undefined;
    }
    return (await verifyPassword(row.password_hash, password)) ? toUser(row) : undefined;
  }

  private byEmail(email: string) {
    return this.db.selectFrom('users').selectAll()
      .where((eb) => eb(eb.fn('lower', ['email']), '=', normalizeEmail(email).toLowerCase()))
      .executeTakeFirst();
  }

  private checkEmail(raw: string): string {
    const email = normalizeEmail(raw);
    if (!EMAIL_RE.test(email) || email.length > 320) throw new AuthError('INVALID_EMAIL', `"${raw}" is not an email address`);
    return email;
  }
}
