/**
 * The subset of Home Assistant value templates a hub without Jinja can honour exactly:
 * `{{ value }}` or `{{ value_json<path> }}` (`.a.b`, `['a']`, `[0]`), optionally times or divided by a
 * number, then filters `float`, `float(d)`, `int`, `int(d)`, `round(n)`, `multiply(k)`. Anything else is
 * reported as unsupported rather than guessed at.
 */
import { compilePath, follow, parseJson, toNumber, type PathStep } from '../values.js';

type Filter = { op: 'float' | 'int'; fallback?: number } | { op: 'round'; digits: number } | { op: 'multiply'; by: number };

export interface CompiledTemplate {
  source: string;
  /** null: the raw payload (`{{ value }}`). */
  path: PathStep[] | null;
  factor: number;
  filters: Filter[];
}

const NUM = String.raw`-?\d+(?:\.\d+)?(?:e[+-]?\d+)?`;

export function compileTemplate(source: string): CompiledTemplate | { error: string } {
  const m = /^\s*\{\{-?\s*([\s\S]*?)\s*-?\}\}\s*$/.exec(source);
  if (!m) return { error: `template ${JSON.stringify(source)} is not a single {{ … }} expression` };
  const [head, ...rest] = m[1].split('|').map((s) => s.trim());
  const hm = new RegExp(String.raw`^(value_json|value)((?:\s*(?:\.[A-Za-z_$][\w$-]*|\[\s*\d+\s*\]|\[\s*'[^']*'\s*\]|\[\s*"[^"]*"\s*\]))*)\s*(?:([*/])\s*(${NUM}))?$`, 'i').exec(head);
  if (!hm) return { error: `template ${JSON.stringify(source)}: only value or value_json paths are supported` };
  let path: PathStep[] | null = null;
  if (hm[1] === 'value_json') {
    try {
      path = compilePath(hm[2]);
    } catch (err) {
      return { error: `template ${JSON.stringify(source)}: ${(err as Error).message}` };
    }
  } else if (hm[2]) {
    return { error: `template ${JSON.stringify(source)}: value has no fields (use value_json)` };
  }
  let factor = 1;
  if (hm[3]) {
    const n = Number(hm[4]);
    if (hm[3] === '/' && n === 0) return { error: `template ${JSON.stringify(source)} divides by zero` };
    factor = hm[3] === '*' ? n : 1 / n;
  }
  const filters: Filter[] = [];
  for (const f of rest) {
    const fm = new RegExp(String.raw`^(float|int|round|multiply)\s*(?:\(\s*(${NUM})?\s*\))?$`).exec(f);
    if (!fm) return { error: `template ${JSON.stringify(source)}: filter "${f}" is not supported (float, int, round, multiply)` };
    const arg = fm[2] !== undefined ? Number(fm[2]) : undefined;
    if (fm[1] === 'float' || fm[1] === 'int') filters.push({ op: fm[1], ...(arg !== undefined ? { fallback: arg } : {}) });
    else if (fm[1] === 'round') filters.push({ op: 'round', digits: arg ?? 0 });
    else {
      if (arg === undefined) return { error: `template ${JSON.stringify(source)}: multiply needs a factor` };
      filters.push({ op: 'multiply', by: arg });
    }
  }
  return { source, path, factor, filters };
}

/** Applies a compiled template to a payload; undefined when the path is missing or the value unusable. */
export function renderTemplate(t: CompiledTemplate | null, payload: string): unknown {
  let v: unknown;
  if (!t || t.path === null) v = payload.trim();
  else {
    const json = parseJson(payload);
    if (json === undefined) return undefined;
    v = follow(json, t.path);
  }
  if (!t || (t.factor === 1 && t.filters.length === 0)) return v;
  let n = toNumber(v);
  if (t.factor !== 1) {
    if (n === undefined) return undefined;
    n *= t.factor;
  }
  for (const f of t.filters) {
    if (f.op === 'float' || f.op === 'int') {
      if (n === undefined) {
        if (f.fallback === undefined) return undefined;
        n = f.fallback;
      }
      if (f.op === 'int') n = Math.trunc(n);
    } else if (n === undefined) return undefined;
    else if (f.op === 'round') n = Math.round(n * 10 ** f.digits) / 10 ** f.digits;
    else if (f.op === 'multiply') n *= f.by;
  }
  return n;
}
