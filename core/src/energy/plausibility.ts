/**
 * The plausibility guard: values that are device sentinels or physically implausible are
 * quarantined with a reason instead of reaching the ledger.
 */
import type { EntityKind } from '../sdk/types.js';
import type { Sample } from './types.js';

export const DEFAULT_MAX_POWER_W = 60_000;

/**
 * Values devices send for "no reading": all-ones registers of 16 and 32 bits, the signed 32-bit
 * maximum, and that maximum in hundredths (registers scaled by 0.01, e.g. SDM/Growatt).
 */
export const SENTINELS: readonly number[] = [2147483647, 2147483647 / 100, 65535, 4294967295];

export interface PlausibilityContext {
  /** The entity's previous accepted reading (canonical units). */
  prev?: Sample;
  /** When the value was measured (epoch ms); needed with `prev` for rate checks. */
  at?: number;
  /** The device's maximum plausible power in W (default 60 kW). */
  maxPowerW?: number;
  /** The value as reported, before unit conversion: sentinels are recognised there too. */
  raw?: number;
}

/** A reason the value is a sentinel, or null. */
export function sentinelReason(value: number): string | null {
  if (Number.isNaN(value)) return 'not a number';
  if (!Number.isFinite(value)) return `infinite value ${value > 0 ? '' : '-'}Infinity`;
  for (const s of SENTINELS) if (value === s || value === -s) return `sentinel value ${value}`;
  return null;
}

function kw(watts: number): string {
  const k = watts / 1000;
  return String(Math.abs(k) >= 100 ? Math.round(k) : Number(k.toPrecision(3)));
}

function kwh(v: number): string {
  return String(Number(v.toPrecision(4)));
}

// Module level on purpose: a closure made per call costs more than the rest of the check on the
// report() hot path (and under tsx each one also runs a __name helper).
function above(w: number, maxW: number): string {
  return `implies ${kw(w)} kW, above the device maximum of ${kw(maxW)} kW`;
}

/**
 * Null when `value` (canonical units) is plausible for an entity of `kind`, otherwise a short
 * reason ("sentinel value 65535", "implies 91.2 kW, above the device maximum of 60 kW").
 * A null value (unavailable) is always plausible. Counter drops are not rate-checked: the ledger
 * treats them as resets or glitches, and checking them against the last accepted reading would
 * refuse every reading after a genuine meter reset.
 */
export function checkPlausibility(kind: EntityKind, value: number | null, ctx: PlausibilityContext = {}): string | null {
  if (value === null) return null;
  if (ctx.raw !== undefined) {
    const raw = sentinelReason(ctx.raw);
    if (raw !== null) return raw;
  }
  const sentinel = sentinelReason(value);
  if (sentinel !== null) return sentinel;
  const maxW = ctx.maxPowerW !== undefined && ctx.maxPowerW > 0 ? ctx.maxPowerW : DEFAULT_MAX_POWER_W;
  const hours = ctx.prev !== undefined && ctx.at !== undefined ? (ctx.at - ctx.prev.t) / 3_600_000 : undefined;
  switch (kind) {
    case 'power':
      if (Math.abs(value) > maxW) return `power ${kw(value)} kW is above the device maximum of ${kw(maxW)} kW`;
      return null;
    case 'energy_total': {
      const prev = ctx.prev?.v;
      // A reading at or before the previous one's time is a correction or a late arrival: no rate to judge.
      if (hours === undefined || !(hours > 0) || prev === null || prev === undefined || !(value > prev)) return null;
      const w = ((value - prev) / hours) * 1000;
      return w > maxW ? above(w, maxW) : null;
    }
    case 'energy_interval': {
      if (value < 0) return `negative interval energy ${kwh(value)} kWh`;
      if (hours === undefined || !(hours > 0)) return null;
      const w = (value / hours) * 1000;
      return w > maxW ? above(w, maxW) : null;
    }
    case 'power_factor':
      return value < -1 || value > 1 ? `power factor ${value} outside -1…1` : null;
    default:
      return null;
  }
}
