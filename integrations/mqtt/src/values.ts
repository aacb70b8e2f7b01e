/** Pure helpers for payload values: numbers, switch states, timestamps, JSON paths. */

/** A finite number from a number or a numeric string; undefined otherwise. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** 'on' / 'off' from the many ways devices say it; undefined when it is none of them. */
export function toSwitch(v: unknown): 'on' | 'off' | undefined {
  if (v === true || v === 1) return 'on';
  if (v === false || v === 0) return 'off';
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'on' || s === 'true' || s === '1') return 'on';
    if (s === 'off' || s === 'false' || s === '0') return 'off';
  }
  return undefined;
}

/** Below this a numeric timestamp is Unix seconds, above it Unix milliseconds (1e11 s is year 5138). */
const SECONDS_LIMIT = 1e11;

/**
 * Epoch ms from an ISO 8601 string (an offset or Z is required: a local time without one is
 * ambiguous), Unix seconds or Unix milliseconds (numbers or numeric strings). Undefined if none.
 */
export function parseTimestamp(v: unknown): number | undefined {
  const n = toNumber(v);
  if (n !== undefined) {
    if (n <= 0) return undefined;
    return n < SECONDS_LIMIT ? Math.round(n * 1000) : Math.round(n);
  }
  if (typeof v !== 'string') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(v.trim())) return undefined;
  const t = Date.parse(v.trim());
  return Number.isFinite(t) ? t : undefined;
}

/** Parses JSON; undefined when the text is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type PathStep = string | number;

/**
 * Compiles a value path: a JSON pointer (`/ENERGY/Power`, RFC 6901 escapes) or a field path
 * (`ENERGY.Power`, `meters[0].power`, `['odd key']`). Throws with a message on a bad path.
 */
export function compilePath(path: string): PathStep[] {
  if (path === '') return [];
  if (path.startsWith('/')) {
    return path.slice(1).split('/').map((s) => {
      const step = s.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^(0|[1-9]\d*)$/.test(step) ? Number(step) : step;
    });
  }
  const steps: PathStep[] = [];
  const re = /\s*(?:\.?([A-Za-z_$][\w$-]*)|\[\s*(\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\])/y;
  let i = 0;
  while (i < path.length) {
    re.lastIndex = i;
    const m = re.exec(path);
    if (!m || m[0].length === 0) throw new Error(`cannot read the path "${path}" at character ${i + 1}`);
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push(m[3] ?? m[4] ?? '');
    i = re.lastIndex;
  }
  return steps;
}

/** Follows compiled steps into a parsed JSON value; undefined when a step is missing. */
export function follow(value: unknown, steps: readonly PathStep[]): unknown {
  let cur = value;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[step];
    } else {
      if (!isObject(cur)) return undefined;
      cur = cur[step];
    }
  }
  return cur;
}

/** Matches an MQTT topic against a filter; returns what the wildcards matched, or null. */
export function matchTopic(filter: string, topic: string): string[] | null {
  return compileFilter(filter)(topic);
}

/** A matcher for one filter, split once (it runs for every message). */
export function compileFilter(filter: string): (topic: string) => string[] | null {
  const f = filter.split('/');
  const literal = f.every((p) => p !== '+' && p !== '#');
  // The first level, when literal, rejects most topics without splitting them.
  const head = f[0] !== '+' && f[0] !== '#' ? `${f[0]}/` : undefined;
  if (literal) return (topic) => (topic === filter ? [] : null);
  return (topic) => (head && !topic.startsWith(head) && topic !== f[0] ? null : matchSplit(f, topic.split('/')));
}

function matchSplit(f: string[], t: string[]): string[] | null {
  const caught: string[] = [];
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') {
      caught.push(t.slice(i).join('/'));
      return caught;
    }
    if (i >= t.length) return null;
    if (f[i] === '+') caught.push(t[i]);
    else if (f[i] !== t[i]) return null;
  }
  return f.length === t.length ? caught : null;
}
