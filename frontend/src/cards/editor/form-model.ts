/** The editor's pure side: which control each option gets, and reading a control's text back. */

export type FieldKind = 'text' | 'number' | 'integer' | 'boolean' | 'enum' | 'entity' | 'entities' | 'devices' | 'list' | 'json';

export interface Field {
  key: string;
  kind: FieldKind;
  title: string;
  description?: string;
  required: boolean;
  options?: readonly unknown[];
  default?: unknown;
}

type Schema = Record<string, any>;

/** The form's fields, in the schema's order; `type` is fixed and not shown. */
export function fieldsOf(schema: Schema): Field[] {
  const required = new Set<string>(schema.required ?? []);
  return Object.entries((schema.properties ?? {}) as Record<string, Schema>)
    .filter(([key]) => key !== 'type')
    .map(([key, s]) => {
      const widget = s['x-widget'] as string | undefined;
      const kind: FieldKind = widget === 'entity' || widget === 'entities' || widget === 'devices' ? widget
        : Array.isArray(s.enum) ? 'enum'
          : s.type === 'boolean' ? 'boolean'
            : s.type === 'integer' ? 'integer'
              : s.type === 'number' ? 'number'
                : s.type === 'string' ? 'text'
                  : s.type === 'array' && s.items?.type === 'string' ? 'list' : 'json';
      return {
        key, kind, title: s.title ?? key, required: required.has(key),
        ...(s.description ? { description: s.description } : {}),
        ...(Array.isArray(s.enum) ? { options: s.enum } : {}),
        ...(s.default !== undefined ? { default: s.default } : {}),
      };
    });
}

/**
 * A control's text → the option's value; undefined removes the option (an empty field means
 * "use the default"). Throws a readable error for text that is not a number or JSON.
 */
export function parseField(field: Field, text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  switch (field.kind) {
    case 'number': case 'integer': {
      const n = Number(t.replace(',', '.'));
      if (!Number.isFinite(n)) throw new Error(`${field.title}: "${t}" is not a number`);
      return n;
    }
    case 'list': case 'entities': case 'devices':
      return t.split(/[\s,]+/).filter(Boolean);
    case 'json':
      try { return JSON.parse(t); } catch { throw new Error(`${field.title}: not valid JSON`); }
    default:
      return t;
  }
}

/** The config with one option set (or removed when undefined), keeping the key order. */
export function withOption<C extends Record<string, unknown>>(config: C, key: string, value: unknown): C {
  const next = { ...config } as Record<string, unknown>;
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next as C;
}
