/**
 * Every error the API can answer with, declared once: a code, its HTTP status and a title.
 * Routes throw `new ApiError('DEVICE_NOT_FOUND', 'No device "x"')`; the one error handler in
 * server.ts turns it (and fastify's own errors) into `application/problem+json` (RFC 9457).
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const API_ERRORS = {
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  VALIDATION_FAILED: { status: 400, title: 'Request did not match the schema' },
  MESSAGE_INVALID: { status: 400, title: 'Invalid message' },
  INVALID_QUERY: { status: 400, title: 'Invalid query parameters' },
  INVALID_READINGS: { status: 400, title: 'Invalid readings batch' },
  INVALID_BACKTEST_RANGE: { status: 400, title: 'Invalid backtest range' },
  INVALID_EMAIL: { status: 400, title: 'Not an email address' },
  WEAK_PASSWORD: { status: 400, title: 'Password not accepted' },
  INVITE_INVALID: { status: 400, title: 'Invite not valid' },
  UNAUTHORIZED: { status: 401, title: 'Authentication required' },
  INVALID_CREDENTIALS: { status: 401, title: 'Wrong email or password' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  REGISTRATION_CLOSED: { status: 403, title: 'Registration needs an invite' },
  SCOPE_NOT_ALLOWED: { status: 403, title: 'Scope not allowed for this account' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  DEVICE_NOT_FOUND: { status: 404, title: 'Device not found' },
  AUTOMATION_NOT_FOUND: { status: 404, title: 'Automation not found' },
  NOTIFICATION_NOT_FOUND: { status: 404, title: 'Notification not found' },
  ENTITY_NOT_FOUND: { status: 404, title: 'Entity not found' },
  STATE_NOT_FOUND: { status: 404, title: 'Entity has no state yet' },
  INTEGRATION_NOT_FOUND: { status: 404, title: 'Integration instance not found' },
  CONVERSATION_NOT_FOUND: { status: 404, title: 'Conversation not found' },
  USER_NOT_FOUND: { status: 404, title: 'User not found' },
  TOKEN_NOT_FOUND: { status: 404, title: 'API token not found' },
  DASHBOARD_NOT_FOUND: { status: 404, title: 'Dashboard not found' },
  CONFLICT: { status: 409, title: 'Conflict' },
  DEVICE_EXISTS: { status: 409, title: 'Device already exists' },
  AUTOMATION_EXISTS: { status: 409, title: 'Automation already exists' },
  AUTOMATION_READ_ONLY: { status: 409, title: 'Automation is defined in a config file' },
  ENTITY_KIND_CONFLICT: { status: 409, title: 'Entity exists with another kind' },
  EMAIL_TAKEN: { status: 409, title: 'Email already in use' },
  LAST_ADMIN: { status: 409, title: 'The last admin must stay' },
  ALREADY_ONBOARDED: { status: 409, title: 'The first admin exists already' },
  NOT_COMMANDABLE: { status: 409, title: 'Entity does not accept commands' },
  COMMAND_FAILED: { status: 409, title: 'Command could not be delivered' },
  DASHBOARD_CONFLICT: { status: 409, title: 'Dashboard was changed elsewhere' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  UPGRADE_REQUIRED: { status: 426, title: 'WebSocket upgrade required' },
  TOO_MANY_ATTEMPTS: { status: 429, title: 'Too many attempts' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** One entry of a problem's `errors` list: where (JSON pointer into the request) and why. */
export interface ProblemItem {
  /** e.g. `/body/data/3/value`, `/query/start`. */
  pointer?: string;
  /** Index of the offending record for batch inputs. */
  index?: number;
  reason: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** Machine-readable code (a key of API_ERRORS). */
  code: ApiErrorCode;
  errors?: ProblemItem[];
}

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  readonly errors?: ProblemItem[];
  constructor(code: ApiErrorCode, detail?: string, errors?: ProblemItem[]) {
    super(detail ?? API_ERRORS[code].title);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = API_ERRORS[code].status;
    if (errors) this.errors = errors;
  }
}

/** A stable URI per code (RFC 9457 `type`); a URN because the project has no problem pages to link. */
export function problemType(code: ApiErrorCode): string {
  return `urn:joulehub:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

export function problem(
  code: ApiErrorCode, detail: string, extra: { instance?: string; errors?: ProblemItem[]; status?: number } = {},
): Problem {
  const status = extra.status ?? API_ERRORS[code].status;
  const p: Problem = { type: problemType(code), title: API_ERRORS[code].title, status, detail, code };
  if (extra.instance !== undefined) p.instance = extra.instance;
  if (extra.errors !== undefined) p.errors = extra.errors;
  return p;
}

/**
 * The first (most generic) code declared for an HTTP status, for errors that only carry a status
 * (fastify's own); declaration order above puts the generic code first.
 */
export function codeForStatus(status: number): ApiErrorCode {
  for (const [code, def] of Object.entries(API_ERRORS)) {
    if (def.status === status) return code as ApiErrorCode;
  }
  return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
}
