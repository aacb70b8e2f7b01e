/**
 * The contract between the dashboard, its cards and the hub connection (frontend-contract.md).
 * Written by the cards side, implemented by the shell in src/lib/connection.ts. Wire forms are
 * snake_case, exactly as /api/v1 returns them.
 */

// The wire shapes, shared with the hub (core/src/api/wire-types.ts imports nothing, and these are
// type-only imports: no hub code reaches the bundle). The cards' names for them stay.
import type { DeviceWire, EntityWire, StateWire } from '../../../core/src/api/wire-types.js';

/** An entity's state as /api/v1/states returns it (snake_case wire form); kind 'unknown' for an entity not known yet. */
export type EntityState = StateWire<string>;
/** A device as GET /api/v1/devices returns it. */
export type Device = DeviceWire;
/** An entity as GET /api/v1/entities returns it. */
export type Entity = EntityWire<string>;

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
