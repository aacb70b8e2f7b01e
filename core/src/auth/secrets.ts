/**
 * Bearer secrets (session cookies, API tokens, invites): 32 random bytes, base64url, with a short
 * prefix saying what they are (so a leaked string is recognisable in a secret scanner). Only their
 * SHA-256 is stored; a fast hash is right here because the secrets are random, not chosen by people.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'jht_';
export const SESSION_PREFIX = 'jhs_';
export const INVITE_PREFIX = 'jhi_';

export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time string comparison (for secrets compared outside the database). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
