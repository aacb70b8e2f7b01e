export * from './types.js';
export * from './errors.js';
export * from './define.js';
export { parseInstant } from './time.js';
