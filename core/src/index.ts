/**
 * @joulehub/core: the hub. Integrations import `@joulehub/core/sdk` only; this entry point is for
 * whatever embeds or drives a hub (the CLI, the bench, tests, automations).
 */
export * from './sdk/index.js';
export type * from './hub/types.js';
export { createHub, DEMO_INSTANCE, type CreateHubOptions, type JoulehubHub } from './hub/hub.js';
export { loadConfig, parseConfigText, ConfigFileError, formatProblem, systemTimeZone, type ConfigProblem, type LoadConfigOptions } from './hub/config.js';
export { configSchema } from './hub/config-schema.js';
export { createLogger, silentLogger, redactBySchema, redactSecrets, REDACTED } from './hub/logger.js';
export { ManualClock, systemClock, type HubClock } from './hub/clock.js';
export { createScheduler, type HubScheduler, type OwnedScheduler } from './hub/scheduler.js';
export { createEventBus, type HubEventBus } from './hub/bus.js';
export { HubError, HUB_ERRORS, type HubErrorCode } from './hub/errors.js';
export { DEVICE_ID_RE } from './hub/device-registry.js';
export { ENTITY_KEY_RE, ENTITY_ROLES, entityId } from './hub/entity-registry.js';
export { backoffDelay } from './hub/plugin-runner.js';
export { loadIntegration, validateInstanceConfig } from './hub/plugin-loader.js';
export { buildServer, type BuildServerOptions } from './api/server.js';
export { primaryEnergyEntity } from './storage/energy-queries.js';
