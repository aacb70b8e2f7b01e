/**
 * The registry speaks camelCase, the wire snake_case: one place converts between them.
 * The wire shapes live in wire-types.ts (no imports), which the frontend imports type-only.
 */
import type { EntityKind } from '../sdk/types.js';
import type { Device, Entity, EntityState, QuarantinedReading, IntegrationInstanceStatus } from '../hub/types.js';
import { CANONICAL_UNIT } from '../energy/units.js';
import { formatInstant } from './time.js';
import type { DeviceWire, EntityKindWire, EntityWire, StateWire } from './wire-types.js';

export type { DeviceWire, EntityKindWire, EntityWire, StateWire } from './wire-types.js';

// The wire's kinds are the SDK's kinds: a kind added to one and not the other fails the type check here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type KindsMatch = Assert<Same<EntityKind, EntityKindWire>>;

export function deviceToWire(d: Device): DeviceWire {
  return {
    id: d.id,
    name: d.name,
    description: d.description ?? null,
    address: d.address ?? null,
    manufacturer: d.manufacturer ?? null,
    model: d.model ?? null,
    max_hourly_kwh: d.maxHourlyKwh ?? null,
    max_power_w: d.maxPowerW ?? null,
    integration: d.integration,
    created_at: formatInstant(d.createdAt),
    updated_at: formatInstant(d.updatedAt),
  };
}

export function entityToWire(e: Entity): EntityWire {
  return {
    id: e.id,
    device_id: e.deviceId,
    key: e.key,
    kind: e.kind,
    unit: CANONICAL_UNIT[e.kind] || null,
    name: e.name,
    role: e.role,
    source_unit: e.sourceUnit,
    reports_on_change: e.reportsOnChange,
    max_gap_s: e.maxGapSeconds,
    flow: e.flow,
  };
}

export function stateToWire(s: EntityState): StateWire {
  return {
    entity_id: s.entityId,
    device_id: s.deviceId,
    kind: s.kind,
    value: s.value,
    text: s.text,
    available: s.available,
    last_changed: formatInstant(s.lastChanged),
    last_reported: formatInstant(s.lastReported),
  };
}

export function quarantineToWire(q: QuarantinedReading) {
  return {
    entity_id: q.entityId,
    datetime: formatInstant(q.time),
    value: q.value,
    raw: q.raw,
    reason: q.reason,
    received_at: formatInstant(q.receivedAt),
  };
}

export function integrationToWire(i: IntegrationInstanceStatus) {
  return {
    instance_id: i.instanceId,
    integration_id: i.integrationId,
    status: i.status,
    error: i.error ?? null,
    attempts: i.attempts,
  };
}
