/**
 * Rule types (the JSON that joulehub.yaml, automations/*.yaml and the API hold) and their
 * validation with the one rule schema that core's config schema uses for joulehub.yaml.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { configSchema } from '@joulehub/core';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
export type PowerLevel = 'D0' | 'D1' | 'D2' | 'D3hot' | 'D3cold';
export type Level = 'info' | 'warning' | 'critical';
export type Scalar = string | number | boolean;
export type Window = [number, number];

export type Trigger =
  | { type: 'cron'; cron: string }
  | { type: 'sun'; event: 'sunrise' | 'sunset'; offset_min?: number; latitude: number; longitude: number }
  | { type: 'state'; entity: string; to?: Scalar; from?: Scalar }
  | { type: 'numeric'; entity: string; above?: number; below?: number; for_s?: number; hysteresis?: number }
  | { type: 'energy'; device: string; period?: 'hour' | 'day'; limit_kwh?: number }
  | { type: 'unavailable'; device?: string; entity?: string; for_s?: number }
  | { type: 'webhook' };

export type Condition =
  | { type: 'time'; after?: string; before?: string }
  | { type: 'weekday'; days: Weekday[] }
  | { type: 'state'; entity: string; is: Scalar }
  | { type: 'numeric'; entity: string; above?: number; below?: number }
  | { type: 'and' | 'or'; conditions: Condition[] }
  | { type: 'not'; condition: Condition };

export type Action =
  | { type: 'switch'; entity: string; command: 'turn_on' | 'turn_off' | 'toggle' }
  | { type: 'notify'; title?: string; message: string; level?: Level; webhook?: string }
  | { type: 'delay'; seconds: number }
  | { type: 'wait'; entity: string; state: Scalar; timeout_s?: number }
  | { type: 'set_level'; entity: string; level: PowerLevel }
  | { type: 'run'; rule: string };

interface Common {
  id: string;
  name?: string;
  description?: string;
  enabled?: boolean;
  mode?: 'single' | 'restart' | 'queued';
  max_runs_per_hour?: number;
  tz?: string;
}

export type Rule = Common & (
  | { type?: 'custom'; triggers: Trigger[]; conditions?: Condition[]; actions: Action[] }
  | { type: 'on_windows'; entity: string; windows: Window[] | Partial<Record<Weekday, Window[]>>; days?: Weekday[] }
  | { type: 'shutdown' | 'startup'; triggers: Trigger[]; conditions?: Condition[]; devices?: string[]; always_on?: string[] }
  | { type: 'power_level'; entity: string; windows: { from: number; to: number; level: PowerLevel }[]; outside?: PowerLevel; days?: Weekday[] }
  | { type: 'alarm'; triggers?: Trigger[]; after_s: number; repeat?: number; interval_s?: number; title?: string; message: string; level?: Level }
  | { type: 'over_consumption'; devices?: string[]; period?: 'hour' | 'day'; limit_kwh?: number; switch_off?: boolean; level?: Level }
  | {
    type: 'left_running'; device: string; entity?: string; start_w?: number; stop_w?: number; min_on_s?: number; min_off_s?: number;
    max_run_s?: number; usual_hours?: Window[]; switch_off?: boolean; level?: Level;
  }
);

export type RuleType = NonNullable<Rule['type']>;

export interface RuleProblem { path: string; message: string }

const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (a: Ajv) => Ajv;

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
addFormats(ajv);
for (const keyword of ['x-secret', 'x-env', 'x-restart', 'x-unit', 'x-widget']) ajv.addKeyword({ keyword });
ajv.addKeyword({
  keyword: 'x-timezone',
  type: 'string',
  errors: true,
  validate: function timezone(enabled: boolean, data: string) {
    if (!enabled || isValidTimeZone(data)) return true;
    (timezone as unknown as { errors: Partial<ErrorObject>[] }).errors = [
      { keyword: 'x-timezone', message: `must be a valid IANA time zone (got "${data}")`, params: {} },
    ];
    return false;
  },
});

/** The rule schema: the `items` of joulehub.yaml's `automations`. */
export const ruleSchema = configSchema.properties.automations.items;
const validate = ajv.compile(ruleSchema);

function joinPath(pointer: string, extra?: string): string {
  const segs = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segs.push(extra);
  let out = '';
  for (const s of segs) out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  return out || '(root)';
}

/** Schema problems of a rule, as `path message` (empty when valid). */
export function ruleProblems(raw: unknown): RuleProblem[] {
  if (validate(raw)) return [];
  const out: RuleProblem[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    if (e.keyword === 'if') continue;
    const params = e.params as Record<string, unknown>;
    let p = joinPath(e.instancePath);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      p = joinPath(e.instancePath, String(params.missingProperty));
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      p = joinPath(e.instancePath, String(params.additionalProperty));
      message = 'is not a known option';
    } else if (e.keyword === 'enum') {
      message = `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const key = `${p}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: p, message });
  }
  return out;
}

/** Every device a rule names (path → device id), for ownership checks and "no such device" errors. */
export function referencedDevices(rule: Rule): { path: string; device: string }[] {
  const out: { path: string; device: string }[] = [];
  const ent = (path: string, entity: string | undefined) => {
    if (entity) out.push({ path, device: entity.slice(0, entity.indexOf('.')) });
  };
  const dev = (path: string, device: string | undefined) => {
    if (device) out.push({ path, device });
  };
  const r = rule as unknown as Record<string, unknown>;
  const triggers = (r.triggers as Trigger[] | undefined) ?? [];
  triggers.forEach((t, i) => {
    if ('entity' in t) ent(`triggers[${i}].entity`, t.entity);
    if ('device' in t) dev(`triggers[${i}].device`, t.device);
  });
  const walk = (c: Condition, path: string) => {
    if (c.type === 'and' || c.type === 'or') c.conditions.forEach((x, i) => walk(x, `${path}.conditions[${i}]`));
    else if (c.type === 'not') walk(c.condition, `${path}.condition`);
    else if ('entity' in c) ent(`${path}.entity`, c.entity);
  };
  ((r.conditions as Condition[] | undefined) ?? []).forEach((c, i) => walk(c, `conditions[${i}]`));
  ((r.actions as Action[] | undefined) ?? []).forEach((a, i) => {
    if ('entity' in a) ent(`actions[${i}].entity`, a.entity);
  });
  if (typeof r.entity === 'string') ent('entity', r.entity);
  if (typeof r.device === 'string') dev('device', r.device);
  for (const key of ['devices', 'always_on']) {
    ((r[key] as string[] | undefined) ?? []).forEach((d, i) => dev(`${key}[${i}]`, d));
  }
  return out;
}
