/**
 * Password hashing with argon2id (@node-rs/argon2, OWASP's minimum parameters: 19 MiB, 2 passes,
 * 1 lane; ~50 ms here). Hashes are PHC strings, so parameters can be raised later and old hashes
 * still verify.
 */
import { hash, verify } from '@node-rs/argon2';
import { AuthError } from './errors.js';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** `algorithm: 2` is Argon2id (the package's enum is an ambient const enum, unusable under isolatedModules). */
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). */
export async function hashPassword(password: string): Promise<string> {
  checkPassword(password);
  return hash(password, OPTIONS);
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    // A malformed stored hash must read as "wrong password", never as a server error that says more.
    return false;
  }
}

/** Throws WEAK_PASSWORD for a password that cannot be accepted. */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AuthError('WEAK_PASSWORD', `a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new AuthError('WEAK_PASSWORD', `a password has at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}
