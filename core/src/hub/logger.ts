/**
 * The root pino logger and the redaction of secrets: well-known secret keys are censored wherever
 * they appear in a log line (a few levels deep), and `redactBySchema` censors the fields a JSON
 * Schema marks `x-secret` before a config object is logged or served.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACTED = '[redacted]';

/** Keys whose values never reach a log line, matched case-insensitively at any depth by redactSecrets. */
export const SECRET_KEYS = [
  'password', 'passwd', 'token', 'secret', 'authorization', 'cookie', 'apiKey', 'api_key', 'databaseUrl', 'database_url',
  // Accounts (issue 4): request bodies and stored hashes that must never be logged.
  'current_password', 'new_password', 'password_hash', 'secret_hash', 'invite', 'client_secret', 'set-cookie', 'access_token', 'refresh_token', 'id_token',
];

/**
 * Secrets that can hide inside text (an error message, a URL): the hub's own session cookies, API
 * tokens and invites (`jhs_…`, `jht_…`, `jhi_…`) and any `Bearer …` credential.
 */
const SECRET_TEXT = /\b(jh[sti]_)[A-Za-z0-9_-]{8,}|\b(Bearer\s+)\S+/giu;

/** `text` with every embedded hub secret or bearer credential replaced by `[redacted]`. */
export function scrubSecretText(text: string): string {
  return text.replace(SECRET_TEXT, (_m, prefix: string | undefined, bearer: string | undefined) => `${prefix ?? bearer ?? ''}${REDACTED}`);
}

function redactPaths(): string[] {
  const out: string[] = [];
  for (const k of SECRET_KEYS) out.push(k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`);
  out.push('req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*["set-cookie"]');
  return out;
}

export interface CreateLoggerOptions {
  level?: string;
  /** Where lines go (default stdout). Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'joulehub',
      level: opts.level ?? 'info',
      redact: { paths: redactPaths(), censor: REDACTED },
      serializers: {
        // Error messages and stacks can quote a header or a URL; the request URL can carry a token.
        err: (err: Error) => {
          const out = pino.stdSerializers.err(err);
          if (typeof out.message === 'string') out.message = scrubSecretText(out.message);
          if (typeof out.stack === 'string') out.stack = scrubSecretText(out.stack);
          return out;
        },
        // A request is logged as what it asked for and where from, never its headers or body.
        req: (req: { id?: unknown; method?: string; url?: string; hostname?: string; ip?: string; raw?: unknown; socket?: { remoteAddress?: string } }) => (
          // Plain objects a caller built are logged as given (the redact paths still apply).
          Object.getPrototypeOf(req) === Object.prototype && req.raw === undefined && req.socket === undefined ? req : {
          ...(req.id !== undefined ? { id: req.id } : {}),
          method: req.method,
          url: typeof req.url === 'string' ? scrubSecretText(req.url) : req.url,
          ...(req.hostname ? { host: req.hostname } : {}),
          remoteAddress: req.ip ?? req.socket?.remoteAddress,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      hooks: {
        // A secret interpolated into a message string is scrubbed too.
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecretText(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    opts.destination ?? pino.destination({ sync: false }),
  );
}

/** A logger that drops everything; for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

type Schema = Record<string, unknown>;

/**
 * A deep copy of `value` with every field its JSON Schema marks `x-secret: true` replaced by
 * `[redacted]` (objects via properties/additionalProperties/patternProperties, arrays via items,
 * and allOf/anyOf/oneOf branches).
 */
export function redactBySchema<T>(value: T, schema: Schema | undefined): T {
  if (!schema || value === null || value === undefined) return value;
  if (schema['x-secret'] === true) return REDACTED as unknown as T;
  const branches = ['allOf', 'anyOf', 'oneOf']
    .flatMap((k) => (Array.isArray(schema[k]) ? (schema[k] as Schema[]) : []));
  let out: unknown = value;
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    out = items ? value.map((v) => redactBySchema(v, items)) : [...value];
  } else if (typeof value === 'object') {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>)
      .map(([re, s]) => [new RegExp(re, 'u'), s] as const);
    const extra = typeof schema.additionalProperties === 'object' ? (schema.additionalProperties as Schema) : undefined;
    const obj: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = props[k] ?? patterns.find(([re]) => re.test(k))?.[1] ?? extra;
      obj[k] = sub ? redactBySchema(v, sub) : v;
    }
    out = obj;
  }
  for (const b of branches) out = redactBySchema(out, b);
  return out as T;
}

/** Censors well-known secret keys anywhere in a plain object (for values without a schema). */
export function redactSecrets<T>(value: T): T {
  const secret = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, secret.has(k.toLowerCase()) ? REDACTED : walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}
