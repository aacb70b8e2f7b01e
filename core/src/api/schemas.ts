/**
 * JSON Schemas shared by several routes. The ones with an `$id` are registered with fastify
 * (`app.addSchema`) and become `components.schemas` in the OpenAPI document; routes refer to them
 * with `{ $ref: 'Device#' }` in responses. Request schemas stay inline (they are validated by our
 * own Ajv instances, see validation.ts).
 */
import { ENTITY_KINDS } from '../sdk/types.js';
import { PROBLEM_CONTENT_TYPE } from './errors.js';

const nullableString = { type: ['string', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details; `errors` lists every validation problem.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', description: 'URI naming the kind of problem' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The request path' },
    code: { type: 'string', description: 'Machine-readable code, e.g. DEVICE_NOT_FOUND' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['reason'],
        properties: {
          pointer: { type: 'string', description: 'JSON pointer into the request, e.g. /body/data/3/value' },
          index: { type: 'integer', description: 'Index of the offending record in a batch' },
          reason: { type: 'string' },
        },
      },
    },
  },
} as const;

export const deviceSchema = {
  $id: 'Device',
  type: 'object',
  required: ['id', 'name', 'description', 'address', 'manufacturer', 'model', 'max_hourly_kwh', 'max_power_w', 'integration', 'created_at', 'updated_at'],
  properties: {
    id: { type: 'string', example: 'fridge' },
    name: { type: 'string', example: 'Kitchen fridge' },
    description: nullableString,
    address: nullableString,
    manufacturer: nullableString,
    model: nullableString,
    max_hourly_kwh: { ...nullableNumber, description: 'Maximum hourly consumption (kWh)' },
    max_power_w: { ...nullableNumber, description: 'Maximum plausible power (W); readings above are quarantined' },
    integration: { ...nullableString, description: 'Integration instance owning the device; null when created through the API' },
    owner: { ...nullableString, description: 'Id of the user who owns the device; null for an orphan (only admins see it)' },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const entitySchema = {
  $id: 'Entity',
  type: 'object',
  required: ['id', 'device_id', 'key', 'kind', 'unit', 'name', 'role', 'source_unit', 'reports_on_change', 'max_gap_s', 'flow'],
  properties: {
    id: { type: 'string', example: 'fridge.power' },
    device_id: { type: 'string' },
    key: { type: 'string' },
    kind: { type: 'string', enum: [...ENTITY_KINDS] },
    unit: { ...nullableString, description: 'Canonical unit of the kind' },
    name: nullableString,
    role: nullableString,
    source_unit: nullableString,
    reports_on_change: { type: 'boolean' },
    max_gap_s: nullableNumber,
    flow: { type: 'string', enum: ['in', 'out'] },
  },
} as const;

export const stateSchema = {
  $id: 'State',
  type: 'object',
  required: ['entity_id', 'device_id', 'kind', 'value', 'text', 'available', 'last_changed', 'last_reported'],
  properties: {
    entity_id: { type: 'string' },
    device_id: { type: 'string' },
    kind: { type: 'string', enum: [...ENTITY_KINDS] },
    value: { ...nullableNumber, description: 'Canonical value (W, kWh, V …); 1/0 for switches; null when unknown' },
    text: { ...nullableString, description: "'on'/'off' for switches" },
    available: { type: 'boolean' },
    last_changed: dateTime,
    last_reported: dateTime,
  },
} as const;

export const userSchema = {
  $id: 'User',
  type: 'object',
  required: ['id', 'email', 'name', 'role', 'has_password', 'created_at', 'updated_at'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string', example: 'ada@example.org' },
    name: nullableString,
    role: { type: 'string', enum: ['admin', 'user'] },
    has_password: { type: 'boolean', description: 'Whether the account can log in with a password' },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const apiTokenSchema = {
  $id: 'ApiToken',
  type: 'object',
  required: ['id', 'name', 'scopes', 'devices', 'created_at', 'last_used_at', 'revoked_at'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: ['read', 'write', 'ingest', 'admin'] } },
    devices: { type: ['array', 'null'], items: { type: 'string' }, description: 'Devices the token is limited to; null = all the user may see' },
    created_at: dateTime,
    last_used_at: { type: ['string', 'null'], format: 'date-time' },
    revoked_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export const SHARED_SCHEMAS = [problemSchema, deviceSchema, entitySchema, stateSchema, userSchema, apiTokenSchema];

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (problem+json listing every problem)',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request body too large',
  415: 'Unsupported media type',
  426: 'Upgrade required',
  429: 'Too many attempts; see Retry-After',
  503: 'Service unavailable',
};

/** Response entries for error statuses, documented as problem+json. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const s of statuses) {
    out[s] = {
      description: STATUS_TEXT[s] ?? 'Error',
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } },
    };
  }
  return out;
}

export const deviceIdPattern = '^[a-z0-9_-]+$';
export const entityIdPattern = '^[a-z0-9_-]+\\.[a-z0-9_]+$';

/** `{ data: [...] }` list envelope. */
export function listOf(items: unknown, extra: Record<string, unknown> = {}) {
  return { type: 'object', required: ['data'], properties: { ...extra, data: { type: 'array', items } } } as const;
}
