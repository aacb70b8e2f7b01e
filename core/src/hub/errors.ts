/**
 * Errors the hub raises to its callers (API, CLI, automations), declared once. Codes match the API's
 * error table where one exists, so the API maps them without a second table.
 */
import { JoulehubError } from '../sdk/errors.js';

export const HUB_ERRORS = {
  DEVICE_NOT_FOUND: 404,
  ENTITY_NOT_FOUND: 404,
  INVALID_ID: 400,
  INVALID_ENTITY: 400,
  ENTITY_KIND_CONFLICT: 409,
  NOT_COMMANDABLE: 409,
  COMMAND_FAILED: 409,
  HUB_STOPPED: 503,
} as const;

export type HubErrorCode = keyof typeof HUB_ERRORS;

export class HubError extends JoulehubError {
  declare readonly code: HubErrorCode;
  /** The HTTP status the API answers with. */
  readonly statusCode: number;
  constructor(code: HubErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.statusCode = HUB_ERRORS[code];
  }
}
