/**
 * The one live connection of a tab (HubConnection, cards/types.ts): a WebSocket to `/api/v1/ws`
 * with per-entity subscriptions counted across cards, a cache of the latest states, dispatch of a
 * change only to the listeners of the changed entities, reconnect with exponential back-off and
 * jitter, resubscribe after reconnecting, a ping that notices a dead link, and user frames
 * (notifications, messages) routed by `type`.
 *
 * Live changes reach the listeners paced for reading, not at the wire's rate: at most once per
 * `displayIntervalMs` (default 250 ms, so ≤ 4 repaints/s of a card; a number changing 10×/s cannot
 * be read anyway), all listeners in the same task (so one rendering frame), each with the latest
 * state of its changed entities. The newest value is on screen within that interval plus one frame; state()
 * always answers the newest value at once. Answers to a subscription are handed over unpaced.
 */
import type { Device, Entity, EntityState, HubConnection } from '../cards/types.js';
import { ApiClient } from './api.js';

export type HubUser = NonNullable<HubConnection['user']>;

/** The subset of the browser's WebSocket this class uses (the `ws` package offers it too, for tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface ConnectionOptions {
  api?: ApiClient;
  /** WebSocket URL; default `ws(s)://<this host>/api/v1/ws`. */
  url?: string;
  socket?: SocketFactory;
  /** First reconnect delay (ms, default 500); doubles per failed attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Ping interval (ms, default 25 s); no pong within `pongTimeoutMs` (default 10 s) drops the link. */
  pingMs?: number;
  pongTimeoutMs?: number;
  /** How long devices()/entities() answers are reused (ms, default 30 s). */
  listTtlMs?: number;
  /**
   * Least time between two deliveries of live changes to listeners (ms, default 250); changes in
   * between are merged (latest state per entity). 0 delivers every frame of the socket as it comes.
   */
  displayIntervalMs?: number;
}

interface Listener { ids: readonly string[]; fn: (changed: EntityState[]) => void }

const OPEN = 1;

function defaultUrl(): string {
  const { protocol, host } = globalThis.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/api/v1/ws`;
}

export class LiveConnection implements HubConnection {
  user: HubUser | null;
  readonly client: ApiClient;
  private readonly states = new Map<string, EntityState>();
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Entities some listener wants, with how many listeners want each. */
  private readonly wanted = new Map<string, number>();
  /** Subscribed on the current socket (or asked for and not refused). */
  private readonly onServer = new Set<string>();
  /** Refused as unknown on the current socket; asked again after the next reconnect. */
  private readonly unknown = new Set<string>();
  private readonly batches = new Map<number, string[]>();
  private readonly frameHandlers = new Map<string, Set<(frame: any) => void>>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private readonly lists = new Map<string, { at: number; promise: Promise<unknown[]> }>();
  private socket: SocketLike | undefined;
  private isConnected = false;
  private attempt = 0;
  private nextId = 1;
  private flushQueued = false;
  /** Live changes not yet handed to listeners (latest per entity); the last hand-over (performance.now()). */
  private readonly pending = new Map<string, EntityState>();
  private deliverTimer: ReturnType<typeof setTimeout> | undefined;
  private lastDelivery = -Infinity;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private readonly opts: Required<Omit<ConnectionOptions, 'api' | 'url' | 'socket'>> & { url?: string; socket: SocketFactory };

  constructor(user: HubUser | null, opts: ConnectionOptions = {}) {
    this.user = user;
    this.client = opts.api ?? new ApiClient();
    this.opts = {
      url: opts.url,
      socket: opts.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
      baseDelayMs: opts.baseDelayMs ?? 500,
      maxDelayMs: opts.maxDelayMs ?? 30_000,
      pingMs: opts.pingMs ?? 25_000,
      pongTimeoutMs: opts.pongTimeoutMs ?? 10_000,
      listTtlMs: opts.listTtlMs ?? 30_000,
      displayIntervalMs: opts.displayIntervalMs ?? 250,
    };
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Opens the socket (and keeps reopening it) until stop(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopTimers();
    this.cancelDelivery();
    this.pending.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = socket.onmessage = socket.onerror = socket.onopen = null;
      socket.close(1000, 'closed by the page');
    }
    this.setConnected(false);
  }

  /** Reconnect now instead of waiting for the back-off (e.g. the browser came back online). */
  reconnectNow(): void {
    if (this.stopped || this.isConnected) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  state(entityId: string): EntityState | undefined {
    return this.states.get(entityId);
  }

  subscribe(entityIds: string[], fn: (changed: EntityState[]) => void): () => void {
    const listener: Listener = { ids: [...new Set(entityIds)], fn };
    for (const id of listener.ids) {
      let set = this.listeners.get(id);
      if (!set) this.listeners.set(id, (set = new Set()));
      set.add(listener);
      this.wanted.set(id, (this.wanted.get(id) ?? 0) + 1);
    }
    // Entities already live on the socket: hand over what is known now; new ones arrive with the
    // server's `states` answer.
    const known = listener.ids.filter((id) => this.onServer.has(id) && this.states.has(id));
    if (known.length > 0) {
      queueMicrotask(() => {
        if (this.isListening(listener)) this.call(listener, known.map((id) => this.states.get(id)!));
      });
    }
    this.queueFlush();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const gone: string[] = [];
      for (const id of listener.ids) {
        this.listeners.get(id)?.delete(listener);
        const n = (this.wanted.get(id) ?? 1) - 1;
        if (n > 0) this.wanted.set(id, n);
        else {
          this.wanted.delete(id);
          this.listeners.delete(id);
          if (this.onServer.delete(id)) gone.push(id);
        }
      }
      if (gone.length > 0) this.send({ type: 'unsubscribe', entities: gone });
    };
  }

  api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
    return this.client.request<T>(path, init);
  }

  devices(): Promise<Device[]> {
    return this.list<Device>('/devices');
  }

  entities(): Promise<Entity[]> {
    return this.list<Entity>('/entities');
  }

  /** Forget cached device and entity lists (after an admin change). */
  invalidate(): void {
    this.lists.clear();
  }

  onFrame(type: string, fn: (frame: any) => void): () => void {
    let set = this.frameHandlers.get(type);
    if (!set) this.frameHandlers.set(type, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  onConnectionChange(fn: (connected: boolean) => void): () => void {
    this.connectionListeners.add(fn);
    return () => this.connectionListeners.delete(fn);
  }

  /** Sends a client frame (e.g. `{type:'typing', conversation, state}`); false while disconnected. */
  sendFrame(frame: { type: string; [key: string]: unknown }): boolean {
    return this.send(frame);
  }

  /** Subscribed entity ids (for diagnostics and tests). */
  subscribedEntities(): string[] {
    return [...this.wanted.keys()].sort();
  }

  // --- internals ---------------------------------------------------------------------------------

  private list<T>(path: string): Promise<T[]> {
    const hit = this.lists.get(path);
    const now = Date.now();
    if (hit && now - hit.at < this.opts.listTtlMs) return hit.promise as Promise<T[]>;
    const promise = this.client.get<{ data: T[] }>(path).then((r) => r.data);
    this.lists.set(path, { at: now, promise });
    promise.catch(() => this.lists.delete(path));
    return promise;
  }

  private isListening(listener: Listener): boolean {
    return listener.ids.some((id) => this.listeners.get(id)?.has(listener));
  }

  private call(listener: Listener, changed: EntityState[]): void {
    try {
      listener.fn(changed);
    } catch (err) {
      // One broken card must not stop the others from updating.
      console.error('joulehub: a state listener threw', err);
    }
  }

  private open(): void {
    const url = this.opts.url ?? defaultUrl();
    let socket: SocketLike;
    try {
      socket = this.opts.socket(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.attempt = 0;
      this.onServer.clear();
      this.unknown.clear();
      this.batches.clear();
      this.setConnected(true);
      this.startPing();
      this.queueFlush();
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.onMessage(typeof ev.data === 'string' ? ev.data : String(ev.data));
    };
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.stopTimers();
      this.onServer.clear();
      this.setConnected(false);
      // Refused twice before opening: perhaps the session ended. A REST call finds out, and its
      // 401 reaches the app's unauthorized handler (back to the login page).
      if (!opened && this.attempt >= 1) this.client.get('/auth/me').catch(() => undefined);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const exp = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** this.attempt);
    // Jitter, so a hub restart is not met by every tab at the same instant.
    const delay = Math.round(exp * (0.5 + Math.random() * 0.5));
    this.attempt++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private setConnected(connected: boolean): void {
    if (this.isConnected === connected) return;
    this.isConnected = connected;
    for (const fn of [...this.connectionListeners]) {
      try {
        fn(connected);
      } catch (err) {
        console.error('joulehub: a connection listener threw', err);
      }
    }
  }

  private startPing(): void {
    this.stopTimers();
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: 'ping', id: 'keepalive' })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.socket?.close(4000, 'no pong'), this.opts.pongTimeoutMs);
    }, this.opts.pingMs);
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = undefined;
  }

  private send(message: unknown): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  /** Subscriptions made in one turn go out as one message. */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    if (!this.isConnected) return;
    const ids = [...this.wanted.keys()].filter((id) => !this.onServer.has(id) && !this.unknown.has(id));
    if (ids.length > 0) this.sendSubscribe(ids);
  }

  private sendSubscribe(ids: string[]): void {
    const id = this.nextId++;
    if (!this.send({ type: 'subscribe', id, entities: ids })) return;
    this.batches.set(id, ids);
    for (const e of ids) this.onServer.add(e);
  }

  private onMessage(text: string): void {
    let msg: { type?: string; id?: unknown; states?: EntityState[]; code?: string; entities?: string[] };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    switch (msg.type) {
      case 'states':
        if (typeof msg.id === 'number') this.batches.delete(msg.id);
        this.applyStates(msg.states ?? [], false);
        return;
      case 'state_changed':
        this.applyStates(msg.states ?? [], true);
        return;
      case 'pong':
        clearTimeout(this.pongTimer);
        return;
      case 'unsubscribed':
        return;
      case 'error':
        this.onError(msg);
        return;
      default:
        if (typeof msg.type === 'string') this.emitFrame(msg.type, msg);
    }
  }

  private onError(msg: { id?: unknown; code?: string; entities?: string[] }): void {
    const batch = typeof msg.id === 'number' ? this.batches.get(msg.id) : undefined;
    if (!batch) {
      this.emitFrame('error', msg);
      return;
    }
    this.batches.delete(msg.id as number);
    for (const e of batch) this.onServer.delete(e);
    if (msg.code === 'unknown_entity' && Array.isArray(msg.entities)) {
      // The server subscribes nothing of a batch naming an unknown entity: ask again without it.
      for (const e of msg.entities) this.unknown.add(e);
      const rest = batch.filter((e) => !this.unknown.has(e) && this.wanted.has(e));
      if (rest.length > 0) this.sendSubscribe(rest);
      // Listeners of an unknown entity hear "unavailable" rather than nothing.
      const missing = msg.entities.filter((e) => this.wanted.has(e) && !this.states.has(e));
      if (missing.length > 0) this.dispatch(missing.map(unknownState));
      return;
    }
    this.emitFrame('error', msg);
  }

  private applyStates(states: EntityState[], paced: boolean): void {
    if (states.length === 0) return;
    for (const s of states) this.states.set(s.entity_id, s);
    if (!paced || this.opts.displayIntervalMs <= 0) {
      // A newer state than a pending one: the pending one must not overwrite it later.
      for (const s of states) this.pending.delete(s.entity_id);
      this.dispatch(states);
      return;
    }
    for (const s of states) if (this.listeners.has(s.entity_id)) this.pending.set(s.entity_id, s);
    this.scheduleDelivery();
  }

  /**
   * One delivery per display interval. All listeners run in that one task, so every card's DOM
   * writes land in the same rendering frame. (A requestAnimationFrame per delivery was measured
   * too: it cost ~2 points more of the browser's CPU in bench/frontend.ts and gained nothing.)
   */
  private scheduleDelivery(): void {
    if (this.pending.size === 0 || this.deliverTimer !== undefined) return;
    const wait = Math.max(0, this.lastDelivery + this.opts.displayIntervalMs - performance.now());
    this.deliverTimer = setTimeout(() => {
      this.deliverTimer = undefined;
      this.deliver();
    }, wait);
  }

  private deliver(): void {
    this.lastDelivery = performance.now();
    const states = [...this.pending.values()];
    this.pending.clear();
    this.dispatch(states);
  }

  private cancelDelivery(): void {
    clearTimeout(this.deliverTimer);
    this.deliverTimer = undefined;
  }

  /** Each listener is called once per frame, with only its own entities that changed. */
  private dispatch(states: EntityState[]): void {
    const perListener = new Map<Listener, EntityState[]>();
    for (const s of states) {
      const set = this.listeners.get(s.entity_id);
      if (!set) continue;
      for (const l of set) {
        const list = perListener.get(l);
        if (list) list.push(s);
        else perListener.set(l, [s]);
      }
    }
    for (const [l, changed] of perListener) this.call(l, changed);
  }

  private emitFrame(type: string, frame: unknown): void {
    const set = this.frameHandlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(frame);
      } catch (err) {
        console.error(`joulehub: a "${type}" frame handler threw`, err);
      }
    }
  }
}

function unknownState(entityId: string): EntityState {
  const dot = entityId.indexOf('.');
  return {
    entity_id: entityId, device_id: dot > 0 ? entityId.slice(0, dot) : entityId, kind: 'unknown',
    value: null, text: null, available: false, last_changed: '', last_reported: '',
  };
}
