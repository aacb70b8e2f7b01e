import type { IntegrationDefinition } from './types.js';

/** The SDK version integrations declare a range against (`manifest.sdk`). */
export const SDK_VERSION = '1.0.0';

/** Identity function that gives an integration definition its types. */
export function defineIntegration<C = Record<string, unknown>>(def: IntegrationDefinition<C>): IntegrationDefinition<C> {
  return def;
}
