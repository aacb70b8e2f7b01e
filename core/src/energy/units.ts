/**
 * Unit conversion at the edge: everything past an integration sees canonical units only
 * (W, kWh, V, A, Hz, dimensionless power factor, switch 1/0).
 */
import { JoulehubError } from '../sdk/errors.js';
import type { EntityKind, InputUnit } from '../sdk/types.js';

/** A unit that is unknown, or impossible for the entity kind it was reported for. */
export class UnitError extends JoulehubError {}

const KNOWN_UNITS: readonly InputUnit[] = [
  'W', 'kW', 'MW', 'Wh', 'kWh', 'MWh', 'Wmin', 'V', 'A', 'mA', 'Hz', '%', '',
];

// No two known units differ only by case (there is no mW or mA/MA clash), so case-insensitive
// matching is unambiguous.
const BY_LOWER = new Map<string, InputUnit>(KNOWN_UNITS.map((u) => [u.toLowerCase(), u]));

/** Factor from each unit a kind accepts to its canonical unit; '' (no unit) means canonical. */
const FACTORS: Record<EntityKind, Partial<Record<InputUnit, number>>> = {
  power: { '': 1, W: 1, kW: 1e3, MW: 1e6 },
  energy_total: { '': 1, kWh: 1, Wh: 1e-3, MWh: 1e3, Wmin: 1 / 60_000 },
  energy_interval: { '': 1, kWh: 1, Wh: 1e-3, MWh: 1e3, Wmin: 1 / 60_000 },
  voltage: { '': 1, V: 1 },
  current: { '': 1, A: 1, mA: 1e-3 },
  frequency: { '': 1, Hz: 1 },
  power_factor: { '': 1, '%': 1e-2 },
  switch: { '': 1 },
};

export const CANONICAL_UNIT: Record<EntityKind, string> = {
  power: 'W',
  energy_total: 'kWh',
  energy_interval: 'kWh',
  voltage: 'V',
  current: 'A',
  frequency: 'Hz',
  power_factor: '',
  switch: '',
};

/** Parses a unit string case-insensitively ('kwh' → 'kWh', ' W ' → 'W'); throws UnitError if unknown. */
export function parseUnit(unit: string): InputUnit {
  const found = BY_LOWER.get(unit.trim().toLowerCase());
  if (found === undefined) {
    throw new UnitError('UNIT_UNKNOWN', `unknown unit "${unit}" (known: ${KNOWN_UNITS.filter(Boolean).join(', ')})`, { unit });
  }
  return found;
}

/** The units an entity of `kind` may be reported in (canonical first). */
export function unitsForKind(kind: EntityKind): InputUnit[] {
  return Object.keys(FACTORS[kind]).filter((u) => u !== '') as InputUnit[];
}

/** The factor that turns a value in `unit` into the canonical unit of `kind`; throws UnitError when impossible. */
export function unitFactor(kind: EntityKind, unit?: string | null): number {
  const parsed = unit == null ? '' : parseUnit(unit);
  const factor = FACTORS[kind][parsed];
  if (factor === undefined) {
    const allowed = unitsForKind(kind);
    throw new UnitError(
      'UNIT_INVALID_FOR_KIND',
      `unit "${unit}" cannot express ${kind}` + (allowed.length > 0 ? ` (use ${allowed.join(', ')})` : ' (it takes no unit)'),
      { unit, kind },
    );
  }
  return factor;
}

/** Converts a reported value to the canonical unit of `kind` (no unit = already canonical). */
export function toCanonical(kind: EntityKind, value: number, unit?: string | null): number {
  const factor = unitFactor(kind, unit);
  return factor === 1 ? value : value * factor;
}

export type ReadingType = 'interval' | 'cumulative';

/**
 * The kind a batch of readings describes, from the batch API's `units` and `reading`:
 * power units → power; energy units → energy_interval (default) or energy_total ('cumulative').
 */
export function kindForBatch(unit: string, reading?: ReadingType | null): { kind: EntityKind; unit: InputUnit } {
  const parsed = parseUnit(unit);
  if (FACTORS.power[parsed] !== undefined && parsed !== '') {
    if (reading === 'cumulative') {
      throw new UnitError('UNIT_READING_MISMATCH', `reading "cumulative" needs an energy unit, not "${unit}"`, { unit, reading });
    }
    return { kind: 'power', unit: parsed };
  }
  if (FACTORS.energy_total[parsed] !== undefined && parsed !== '') {
    return { kind: reading === 'cumulative' ? 'energy_total' : 'energy_interval', unit: parsed };
  }
  throw new UnitError('UNIT_NOT_ENERGY', `unit "${unit}" is neither a power nor an energy unit`, { unit });
}
