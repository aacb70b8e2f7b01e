/** Conditions, evaluated at a moment against entity states: pure. */
import type { Condition } from './rule.js';
import { localTime, parseHhmm } from './time.js';
import type { EntityStateView } from './env.js';

export interface ConditionContext {
  now: number;
  tz: string;
  state(entityId: string): EntityStateView | undefined;
}

/** The state as rules compare it: 'unavailable', 'on'/'off', or the number. */
export function stateValue(s: EntityStateView | undefined): string | number | null {
  if (!s) return null;
  if (!s.available) return 'unavailable';
  return s.value;
}

export function sameState(actual: string | number | null, wanted: string | number | boolean): boolean {
  if (actual === null) return false;
  if (typeof wanted === 'boolean') return actual === (wanted ? 'on' : 'off');
  if (typeof wanted === 'number' || typeof actual === 'number') return Number(actual) === Number(wanted);
  return String(actual) === wanted;
}

export function describeCondition(c: Condition): string {
  switch (c.type) {
    case 'time': return `time ${c.after ?? '00:00'}–${c.before ?? '24:00'}`;
    case 'weekday': return `weekday in ${c.days.join(',')}`;
    case 'state': return `${c.entity} is ${String(c.is)}`;
    case 'numeric': return `${c.entity}${c.above !== undefined ? ` > ${c.above}` : ''}${c.below !== undefined ? ` < ${c.below}` : ''}`;
    case 'and': return `(${c.conditions.map(describeCondition).join(' and ')})`;
    case 'or': return `(${c.conditions.map(describeCondition).join(' or ')})`;
    case 'not': return `not ${describeCondition(c.condition)}`;
  }
}

export function evalCondition(c: Condition, ctx: ConditionContext): boolean {
  switch (c.type) {
    case 'time': {
      const l = localTime(ctx.now, ctx.tz);
      const h = l.hour + l.minute / 60 + l.second / 3600;
      const after = c.after !== undefined ? parseHhmm(c.after) : 0;
      const before = c.before !== undefined ? parseHhmm(c.before) : 24;
      // after > before crosses midnight (22:00–06:00).
      return after <= before ? h >= after && h < before : h >= after || h < before;
    }
    case 'weekday':
      return c.days.includes(localTime(ctx.now, ctx.tz).weekday);
    case 'state':
      return sameState(stateValue(ctx.state(c.entity)), c.is);
    case 'numeric': {
      const v = stateValue(ctx.state(c.entity));
      if (typeof v !== 'number') return false;
      return (c.above === undefined || v > c.above) && (c.below === undefined || v < c.below);
    }
    case 'and': return c.conditions.every((x) => evalCondition(x, ctx));
    case 'or': return c.conditions.some((x) => evalCondition(x, ctx));
    case 'not': return !evalCondition(c.condition, ctx);
  }
}
