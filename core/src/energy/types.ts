import type { EntityKind } from '../sdk/types.js';

/** One raw reading in canonical units: t in epoch ms; v null = the entity became unavailable at t. */
export interface Sample { t: number; v: number | null }

/** Energy `kwh` spread uniformly over the half-open interval [start, end) (epoch ms). */
export interface Segment { start: number; end: number; kwh: number }

/** Per-entity options that change how energy is derived. */
export interface LedgerOptions {
  kind: EntityKind;
  /** Power: hold the latest value until `now` instead of for the spacing before it. */
  reportsOnChange?: boolean;
  /** Readings further apart than this (ms) are not bridged (power, energy_interval). */
  maxGapMs?: number;
}

export type BucketSource = 'counter' | 'integrated' | 'interval';

export const BUCKET_MS = 15 * 60 * 1000;
