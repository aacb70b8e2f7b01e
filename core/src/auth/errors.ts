/**
 * Errors of the account services, with the HTTP status the API answers with. Codes are declared
 * in api/errors.ts too (same status), so server.ts maps them to problem+json without a second table.
 */
import { JoulehubError } from '../sdk/errors.js';

export const AUTH_ERRORS = {
  INVALID_CREDENTIALS: 401,
  TOO_MANY_ATTEMPTS: 429,
  WEAK_PASSWORD: 400,
  INVALID_EMAIL: 400,
  USER_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  LAST_ADMIN: 409,
  ALREADY_ONBOARDED: 409,
  REGISTRATION_CLOSED: 403,
  INVITE_INVALID: 400,
  SCOPE_NOT_ALLOWED: 403,
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERRORS;

export class AuthError extends JoulehubError {
  declare readonly code: AuthErrorCode;
  readonly statusCode: number;
  /** Seconds until a refused login may be tried again (TOO_MANY_ATTEMPTS). */
  readonly retryAfterS?: number;
  constructor(code: AuthErrorCode, message: string, extra: { retryAfterS?: number } = {}) {
    super(code, message);
    this.statusCode = AUTH_ERRORS[code];
    if (extra.retryAfterS !== undefined) this.retryAfterS = extra.retryAfterS;
  }
}
