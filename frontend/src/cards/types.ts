/**
 * The contract between the dashboard, its cards and the hub connection (frontend-contract.md).
 * Written by the cards side, implemented by the shell in src/lib/connection.ts. Wire forms are
 * snake_case, exactly as /api/v1 returns them.
 */

export interface EntityState {            // as /api/v1/states returns it (snake_case wire form)
  entity_id: string; device_id: string; kind: string; value: number | null; text: string | null;
  available: boolean; last_changed: string; last_reported: string;
}

/** A device as GET /api/v1/devices returns it. */
export interface Device {
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

/** An entity as GET /api/v1/entities returns it. */
export interface Entity {
  id: string;
  device_id: string;
  key: string;
  kind: string;
  /** Canonical unit of the kind (W, kWh …); null for switches and power factor. */
  unit: string | null;
  name: string | null;
  /** grid, pv, battery, load, ev, heat_pump, other; positive power flows into the home. */
  role: string | null;
  source_unit: string | null;
  reports_on_change: boolean;
  max_gap_s: number | null;
  flow: 'in' | 'out';
}

export interface HubConnection {
  readonly user: { id: string; email: string; role: 'admin' | 'user'; locale: string; timeZone: string } | null;
  state(entityId: string): EntityState | undefined;
  /** fn runs whenever one of these entities changes (after the first subscribe, with current states); returns unsubscribe. */
  subscribe(entityIds: string[], fn: (changed: EntityState[]) => void): () => void;
  /** JSON from /api/v1 (path without the prefix, e.g. '/energy?device=x&…'); throws ApiProblem (problem+json) on errors. */
  api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  devices(): Promise<Device[]>;      // /api/v1/devices (what this user may see)
  entities(): Promise<Entity[]>;     // /api/v1/entities
  /** Live notifications pushed over the WebSocket (`user_frame` {type:'notification'}). */
  onFrame(type: string, fn: (frame: any) => void): () => void;
  readonly connected: boolean;
  onConnectionChange(fn: (connected: boolean) => void): () => void;
}

/** A card's config: `type` picks the element (`gauge` → `jh-gauge-card`, `custom:my-card` → `my-card`). */
export interface CardConfig {
  type: string;
  [option: string]: unknown;
}

/** What every card element offers (Home Assistant's card contract, adapted). */
export interface CardElement extends HTMLElement {
  hub?: HubConnection;
  /** Throws an Error with a readable message for a bad config; the dashboard shows it as an error card. */
  setConfig(config: CardConfig): void;
  /** Height in grid rows (about 50 px each). */
  getCardSize(): number | Promise<number>;
}

/** What a card editor element offers: it gets the config and fires `config-changed` {detail: {config}}. */
export interface CardEditorElement extends HTMLElement {
  hub?: HubConnection;
  setConfig(config: CardConfig): void;
}

/** The static side of a card class. */
export interface CardClass {
  new (): CardElement;
  /** JSON Schema of the config (draws the editor form, validates setConfig). */
  readonly configSchema: Record<string, unknown>;
  getStubConfig?(entities: Entity[], devices: Device[]): CardConfig;
  getConfigElement?(): Promise<CardEditorElement>;
}

/** One entry of `window.customCards`, as in Home Assistant. */
export interface CustomCardEntry {
  type: string;
  name: string;
  description?: string;
  preview?: boolean;
}

declare global {
  interface Window {
    customCards?: CustomCardEntry[];
  }
}
