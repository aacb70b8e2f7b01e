/**
 * ajv set up the way the hub uses it everywhere (the config file and every integration's config
 * schema), and the translation of ajv errors into `path message` problems a user can act on.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { CUSTOM_KEYWORDS } from './config-schema.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (a: Ajv) => Ajv;

/** True when `tz` names a time zone the runtime knows (IANA names, `UTC`). */
export function isValidTimeZone(tz: string): boolean {
  if (!tz || tz.startsWith(':')) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function createAjv(opts: { useDefaults?: boolean } = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: opts.useDefaults ?? false, strict: false, allowUnionTypes: true });
  addFormats(ajv);
  for (const keyword of CUSTOM_KEYWORDS) {
    if (keyword === 'x-timezone') continue;
    ajv.addKeyword({ keyword });
  }
  ajv.addKeyword({
    keyword: 'x-timezone',
    type: 'string',
    errors: true,
    validate: function timezone(this: unknown, enabled: boolean, data: string) {
      if (!enabled || isValidTimeZone(data)) return true;
      (timezone as unknown as { errors: Partial<ErrorObject>[] }).errors = [
        { keyword: 'x-timezone', message: `must be a valid IANA time zone (got "${data}")`, params: {} },
      ];
      return false;
    },
  });
  return ajv;
}

export interface Problem {
  /** Dotted path with [n] for array items: `integrations[0].config.speed`. */
  path: string;
  message: string;
}

/** `integrations` + `/0/config/speed` → `integrations[0].config.speed`. */
export function joinPath(base: string, pointer: string | string[]): string {
  const segments = Array.isArray(pointer)
    ? pointer
    : pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = base;
  for (const seg of segments) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Turns ajv errors into one problem per user-visible mistake, paths below `base`. */
export function ajvProblems(errors: ErrorObject[] | null | undefined, base = ''): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    let path = joinPath(base, e.instancePath);
    let message = e.message ?? 'is invalid';
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        path = joinPath(path, [String(params.missingProperty)]);
        message = 'is required';
        break;
      case 'additionalProperties':
        path = joinPath(path, [String(params.additionalProperty)]);
        message = 'is not a known option';
        break;
      case 'enum':
        message = `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'if':
        continue; // the failing branch reports the real cause
      default:
        break;
    }
    const display = path || '(root)';
    const key = `${display}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: display, message });
  }
  return out;
}
