/**
 * A HubConnection for the component tests, driven from the test: states are set by hand (and
 * delivered to exactly the subscribers of those entities, as the real connection does), API
 * answers come from a route table, and every request is recorded.
 */
import type { Device, Entity, EntityState, HubConnection } from '../../../src/cards/types.js';

export type Route = (body: unknown, method: string, path: string) => unknown;

/** Stand-in for the shell's ApiProblem: status and readable message. */
export class FakeProblem extends Error {
  constructor(readonly status: number, message: string) { super(message); }
  describe(): string { return this.message; }
}

export class FakeHub implements HubConnection {
  user = { id: 'u1', email: 'u@example.org', role: 'user' as const, locale: 'en-GB', timeZone: 'Europe/Berlin' };
  connected = true;
  calls: { method: string; path: string; body?: unknown }[] = [];
  routes: [RegExp | string, Route][] = [];
  devicesList: Device[] = [];
  entitiesList: Entity[] = [];
  private states = new Map<string, EntityState>();
  private listeners = new Set<{ ids: Set<string>; fn: (c: EntityState[]) => void }>();
  private frames = new Map<string, Set<(f: unknown) => void>>();

  state(id: string) { return this.states.get(id); }

  subscribe(ids: string[], fn: (c: EntityState[]) => void) {
    const l = { ids: new Set(ids), fn };
    this.listeners.add(l);
    const current = ids.map((id) => this.states.get(id)).filter((s): s is EntityState => !!s);
    if (current.length) queueMicrotask(() => fn(current));
    return () => { this.listeners.delete(l); };
  }

  /** How many subscriptions exist per entity (tests check cards subscribe to their own only). */
  subscriptions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.listeners) for (const id of l.ids) out[id] = (out[id] ?? 0) + 1;
    return out;
  }

  set(id: string, value: number | null, opts: { text?: string | null; available?: boolean; at?: string } = {}) {
    const at = opts.at ?? new Date().toISOString();
    const entity = this.entitiesList.find((e) => e.id === id);
    const s: EntityState = {
      entity_id: id, device_id: id.split('.')[0], kind: entity?.kind ?? 'power', value, text: opts.text ?? null,
      available: opts.available ?? true, last_changed: at, last_reported: at,
    };
    this.states.set(id, s);
    for (const l of this.listeners) if (l.ids.has(id)) l.fn([s]);
  }

  async api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const method = init.method ?? 'GET';
    this.calls.push({ method, path, ...(init.body !== undefined ? { body: structuredClone(init.body) } : {}) });
    await new Promise((r) => setTimeout(r, 0));
    for (const [pattern, route] of this.routes) {
      const key = `${method} ${path}`;
      if (typeof pattern === 'string' ? key === pattern || key.split('?')[0] === pattern : pattern.test(key)) {
        return route(init.body, method, path) as T;
      }
    }
    throw new FakeProblem(404, `No route ${method} ${path}`);
  }

  async devices() { return this.devicesList; }
  async entities() { return this.entitiesList; }

  onFrame(type: string, fn: (f: unknown) => void) {
    const set = this.frames.get(type) ?? new Set();
    set.add(fn);
    this.frames.set(type, set);
    return () => { set.delete(fn); };
  }

  frame(type: string, frame: unknown) { for (const fn of this.frames.get(type) ?? []) fn(frame); }

  onConnectionChange() { return () => {}; }
}
