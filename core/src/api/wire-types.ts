/**
 * The shapes /api/v1 sends (snake_case), shared by the hub (api/wire.ts builds them) and the
 * dashboard (frontend/src/cards/types.ts imports them with `import type`). Dependency-free on
 * purpose: it imports nothing, so the dashboard's type check and bundle never reach server code.
 */

/** What an entity measures (sdk/types.ts EntityKind; api/wire.ts checks the two stay equal). */
export type EntityKindWire =
  | 'power'
  | 'energy_total'
  | 'energy_interval'
  | 'voltage'
  | 'current'
  | 'frequency'
  | 'power_factor'
  | 'switch';

/** A device as GET /api/v1/devices returns it. */
export interface DeviceWire {
  id: string;
  name: string;
  description: string | null;
  address: string | null;
  manufacturer: string | null;
  model: string | null;
  max_hourly_kwh: number | null;
  max_power_w: number | null;
  integration: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * An entity as GET /api/v1/entities returns it. `Kind` is the hub's kinds; the dashboard reads it as
 * any string (its placeholder for an entity not yet known says 'unknown').
 */
export interface EntityWire<Kind extends string = EntityKindWire> {
  id: string;
  device_id: string;
  key: string;
  kind: Kind;
  /** Canonical unit of the kind (W, kWh …; values on the wire are always in it); null for switches and power factor. */
  unit: string | null;
  name: string | null;
  /** grid, pv, battery, load, ev, heat_pump, other; positive power flows into the home. */
  role: string | null;
  source_unit: string | null;
  reports_on_change: boolean;
  max_gap_s: number | null;
  flow: 'in' | 'out';
}

/** An entity's current state as GET /api/v1/states returns it (and the WebSocket pushes it); `Kind` as for EntityWire. */
export interface StateWire<Kind extends string = EntityKindWire> {
  entity_id: string;
  device_id: string;
  kind: Kind;
  value: number | null;
  text: string | null;
  available: boolean;
  last_changed: string;
  last_reported: string;
}
