/**
 * Batch readings (`POST /api/v1/devices/{id}/readings`): the whole batch is checked before anything
 * is stored, and every bad record is reported by index and reason. Pure: no hub, no I/O.
 */
import type { EntityKind, InputUnit } from '../sdk/types.js';
import type { Sample } from '../energy/types.js';
import { kindForBatch, toCanonical, UnitError } from '../energy/units.js';
import type { ProblemItem } from './errors.js';
import { formatInstant, parseOffsetInstant } from './time.js';

export const MAX_BATCH_RECORDS = 100_000;

/** The units the batch API documents; energy/units.ts also accepts MW, MWh and Wmin. */
export const READING_UNITS = ['W', 'kW', 'Wh', 'kWh'] as const;
export const READING_MODES = ['interval', 'cumulative'] as const;
export type ReadingMode = (typeof READING_MODES)[number];

const TOP_LEVEL_FIELDS = new Set(['units', 'reading', 'data']);

/** The entity key a batch lands on, by the kind it describes. */
const KEY_FOR_KIND: Partial<Record<EntityKind, string>> = {
  power: 'power',
  energy_interval: 'energy',
  energy_total: 'energy_total',
};

export interface ReadingsTarget { key: string; kind: EntityKind }

export interface ReadingsBatch {
  /** Unit as the client sent it, normalised (`kwh` → `kWh`). */
  unit: InputUnit;
  target: ReadingsTarget;
  /** Canonical values (W or kWh), sorted by time. */
  samples: Sample[];
}

export type ParseResult = { ok: true; batch: ReadingsBatch } | { ok: false; errors: ProblemItem[] };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the whole batch; returns every problem found, or the canonical, sorted samples. */
export function parseReadingsBatch(body: unknown): ParseResult {
  const errors: ProblemItem[] = [];
  if (!isObject(body)) return { ok: false, errors: [{ pointer: '/body', reason: 'must be a JSON object' }] };

  for (const field of Object.keys(body)) {
    if (!TOP_LEVEL_FIELDS.has(field)) errors.push({ pointer: `/body/${field}`, reason: 'is not a known field' });
  }

  let mode: ReadingMode | undefined;
  if (body.reading !== undefined) {
    const r = typeof body.reading === 'string' ? body.reading.toLowerCase() : undefined;
    if (r === 'interval' || r === 'cumulative') mode = r;
    else errors.push({ pointer: '/body/reading', reason: `must be one of ${READING_MODES.join(', ')}` });
  }

  let target: (ReadingsTarget & { unit: InputUnit }) | undefined;
  if (body.units === undefined) errors.push({ pointer: '/body/units', reason: 'is required' });
  else if (typeof body.units !== 'string') errors.push({ pointer: '/body/units', reason: 'must be a string' });
  else {
    try {
      const { kind, unit } = kindForBatch(body.units, mode);
      const key = KEY_FOR_KIND[kind];
      if (key) target = { key, kind, unit };
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      const reason = err.code === 'UNIT_READING_MISMATCH'
        ? err.message
        : `unknown unit ${JSON.stringify(body.units)}; expected one of ${READING_UNITS.join(', ')} (any case)`;
      errors.push({ pointer: err.code === 'UNIT_READING_MISMATCH' ? '/body/reading' : '/body/units', reason });
    }
  }

  const samples: Sample[] = [];
  if (body.data === undefined) errors.push({ pointer: '/body/data', reason: 'is required' });
  else if (!Array.isArray(body.data)) errors.push({ pointer: '/body/data', reason: 'must be an array of records' });
  else if (body.data.length === 0) errors.push({ pointer: '/body/data', reason: 'must contain at least one record' });
  else if (body.data.length > MAX_BATCH_RECORDS) {
    errors.push({ pointer: '/body/data', reason: `must contain at most ${MAX_BATCH_RECORDS} records; split the batch` });
  } else {
    const firstAt = new Map<number, number>();
    body.data.forEach((record: unknown, index: number) => {
      const at = `/body/data/${index}`;
      if (!isObject(record)) {
        errors.push({ index, pointer: at, reason: 'must be an object with datetime and value' });
        return;
      }
      let t: number | undefined;
      if (record.datetime === undefined) errors.push({ index, pointer: `${at}/datetime`, reason: 'is required' });
      else if (typeof record.datetime !== 'string') errors.push({ index, pointer: `${at}/datetime`, reason: 'must be a string' });
      else if ((t = parseOffsetInstant(record.datetime)) === undefined) {
        errors.push({
          index, pointer: `${at}/datetime`,
          reason: `${JSON.stringify(record.datetime)} is not an ISO 8601 date-time with an offset (Z or ±hh:mm)`,
        });
      }
      let v: number | undefined;
      if (record.value === undefined) errors.push({ index, pointer: `${at}/value`, reason: 'is required' });
      else if (typeof record.value !== 'number' || !Number.isFinite(record.value)) {
        errors.push({ index, pointer: `${at}/value`, reason: 'must be a finite number' });
      } else if (record.value < 0) errors.push({ index, pointer: `${at}/value`, reason: 'must not be negative' });
      else v = record.value;

      if (t !== undefined) {
        const first = firstAt.get(t);
        if (first !== undefined) {
          errors.push({ index, pointer: `${at}/datetime`, reason: `same instant (${formatInstant(t)}) as record ${first}` });
        } else firstAt.set(t, index);
      }
      if (t !== undefined && v !== undefined && target) samples.push({ t, v: toCanonical(target.kind, v, target.unit) });
    });
  }

  if (errors.length > 0 || !target) return { ok: false, errors };
  samples.sort((a, b) => a.t - b.t);
  return { ok: true, batch: { unit: target.unit, target: { key: target.key, kind: target.kind }, samples } };
}
