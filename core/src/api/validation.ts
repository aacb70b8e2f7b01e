/**
 * Request validation: one Ajv for bodies, one for the query string, params and headers.
 *
 * Bodies are JSON, so nothing is coerced: `"value": "12"` is a string, not a number, and unknown
 * fields are refused rather than silently dropped. Query strings and path params are text by
 * nature, so they are coerced to the schema's types (`count=3` → 3). Both report all errors, which
 * is affordable because bodies are capped by the body limit and the schemas carry no costly patterns.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { ApiError, type ProblemItem } from './errors.js';

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: true,
    strict: false, // schemas carry OpenAPI-only keywords (example, description …)
  });
  formats.default(ajv);
  return ajv;
}

/** A validator compiler for fastify: bodies strict, everything else coerced. */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = makeAjv(false);
  const text = makeAjv(true);
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? body : text;
    return ajv.compile(schema as object) as ValidateFunction;
  };
}

/** Where a fastify validation context puts its data, as the first segment of a JSON pointer. */
const PART_PREFIX: Record<string, string> = { body: '/body', querystring: '/query', params: '/params', headers: '/headers' };

/** Ajv errors → problem items with a JSON pointer into the request and a readable reason. */
export function ajvErrorsToItems(errors: ErrorObject[], context: string | undefined): ProblemItem[] {
  const prefix = PART_PREFIX[context ?? ''] ?? '';
  return errors.map((e) => {
    let pointer = `${prefix}${e.instancePath}`;
    let reason = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      const missing = String((e.params as { missingProperty?: string }).missingProperty);
      pointer = `${pointer}/${missing}`;
      reason = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty?: string }).additionalProperty);
      pointer = `${pointer}/${extra}`;
      reason = 'is not a known field';
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      reason = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    return { pointer: pointer || '/', reason };
  });
}

/** Human summary of validation problems for `detail`. */
export function summarize(items: ProblemItem[]): string {
  const first = items.slice(0, 3).map((i) => `${i.index !== undefined ? `record ${i.index}, ` : ''}${i.pointer ? `${i.pointer}: ` : ''}${i.reason}`);
  const more = items.length > 3 ? ` (and ${items.length - 3} more)` : '';
  return `${first.join('; ')}${more}`;
}

export function validationError(items: ProblemItem[], code: 'VALIDATION_FAILED' | 'INVALID_QUERY' | 'INVALID_READINGS' = 'VALIDATION_FAILED'): ApiError {
  return new ApiError(code, summarize(items), items);
}
