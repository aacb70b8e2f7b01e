/**
 * The two ways setup (or a running integration) can fail, in the Home Assistant sense:
 * NotReadyError is transient (retried with backoff, entities shown unavailable);
 * ConfigError means the user must act (reported, not retried).
 */
export class JoulehubError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(code: string, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? code);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

export class NotReadyError extends JoulehubError {}

export class ConfigError extends JoulehubError {}
