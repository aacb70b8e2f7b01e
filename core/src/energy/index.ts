/** Pure energy arithmetic: units, segments, buckets, local periods, plausibility. No I/O. */
export * from './types.js';
export * from './units.js';
export * from './segments.js';
export * from './buckets.js';
export * from './periods.js';
export * from './plausibility.js';
