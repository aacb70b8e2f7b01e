/**
 * Card config validation: ajv against the card's JSON Schema, with messages a dashboard author can
 * act on ("max: must be greater than 0", "unknown option \"colour\""). Pure (no DOM), so it is
 * tested in plain vitest. Defaults from the schema are filled into a copy of the config.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { CardConfig } from './types.js';

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
const compiled = new WeakMap<object, ValidateFunction>();

/** A card config the card cannot show; `problems` lists each in readable form. */
export class CardConfigError extends Error {
  readonly problems: string[];
  constructor(type: string, problems: string[]) {
    super(`${type} card: ${problems.join('; ')}`);
    this.name = 'CardConfigError';
    this.problems = problems;
  }
}

function where(e: ErrorObject): string {
  // "/entities/1" → "entities[1]"
  return e.instancePath.slice(1).split('/').map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function describe(e: ErrorObject): string | undefined {
  const at = where(e);
  const prefix = at ? `${at}: ` : '';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': return `${at ? `${at}: ` : ''}missing required option "${String(p.missingProperty)}"`;
    case 'additionalProperties': return `${prefix}unknown option "${String(p.additionalProperty)}"`;
    case 'enum': return `${prefix}must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type': return `${prefix}must be ${p.type === 'array' ? 'a list' : `a ${String(p.type)}`}`;
    case 'minimum': return `${prefix}must be at least ${String(p.limit)}`;
    case 'maximum': return `${prefix}must be at most ${String(p.limit)}`;
    case 'exclusiveMinimum': return `${prefix}must be greater than ${String(p.limit)}`;
    case 'exclusiveMaximum': return `${prefix}must be less than ${String(p.limit)}`;
    case 'minItems': return `${prefix}needs at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems': return `${prefix}takes at most ${String(p.limit)} items`;
    case 'minLength': return p.limit === 1 ? `${prefix}must not be empty` : `${prefix}must be at least ${String(p.limit)} characters`;
    case 'pattern': return `${prefix}${JSON.stringify(e.data)} is not valid${typeof (e.parentSchema as { description?: string })?.description === 'string' ? ` (${(e.parentSchema as { description: string }).description})` : ''}`;
    case 'const': return `${prefix}must be ${JSON.stringify(p.allowedValue)}`;
    case 'anyOf': case 'oneOf': case 'if': return undefined; // the branch errors say more; see below
    default: return `${prefix}${e.message ?? 'is not valid'}`;
  }
}

/** Readable problems of an ajv run, without duplicates. `anyOf` groups become one "needs one of" line. */
export function describeErrors(errors: readonly ErrorObject[], schema: Record<string, unknown>): string[] {
  const out: string[] = [];
  const anyOfHint = (schema as { 'x-anyOf-message'?: string })['x-anyOf-message'];
  let sawAnyOf = false;
  for (const e of errors) {
    if ((e.keyword === 'anyOf' || e.keyword === 'oneOf') && e.instancePath === '') { sawAnyOf = true; continue; }
    // Errors inside a top-level anyOf branch (schemaPath "#/anyOf/0/required") are summarised by the hint.
    if (/^#\/(anyOf|oneOf)\//.test(e.schemaPath) && e.instancePath === '') continue;
    const text = describe(e);
    if (text && !out.includes(text)) out.push(text);
  }
  if (sawAnyOf) out.push(anyOfHint ?? 'the options do not match any allowed combination');
  return out;
}

/** The config with schema defaults filled in; throws CardConfigError listing every problem. */
export function validateCardConfig<C extends CardConfig>(schema: Record<string, unknown>, config: unknown): C {
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new CardConfigError('card', ['the config must be an object with a "type"']);
  }
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const copy = structuredClone(config) as C;
  if (!validate(copy)) {
    throw new CardConfigError(String((config as { type?: unknown }).type ?? 'card'), describeErrors(validate.errors ?? [], schema));
  }
  return copy;
}

/** Entity ids as the hub writes them (`<device>.<key>`). */
export const ENTITY_ID_PATTERN = '^[a-z0-9_-]+\\.[a-z0-9_]+$';
export const DEVICE_ID_PATTERN = '^[a-z0-9_-]+$';

/** Schema pieces the built-in cards share. */
export const schemaParts = {
  name: { type: 'string', maxLength: 100, title: 'Title', description: 'Shown above the card' },
  entity: (title: string, description = 'an entity id such as fridge.power') => ({
    type: 'string', pattern: ENTITY_ID_PATTERN, title, description, 'x-widget': 'entity',
  }),
  entities: (title: string, max: number) => ({
    type: 'array', minItems: 1, maxItems: max, title, items: { type: 'string', pattern: ENTITY_ID_PATTERN, description: 'an entity id such as fridge.power' }, 'x-widget': 'entities',
  }),
  devices: (title: string, max: number) => ({
    type: 'array', minItems: 1, maxItems: max, title, items: { type: 'string', pattern: DEVICE_ID_PATTERN, description: 'a device id' }, 'x-widget': 'devices',
  }),
} as const;
