/**
 * One WebSocket connection: its subscriptions and the coalescing of state changes into frames.
 *
 * Coalescing: a change is sent at once when the previous `state_changed` frame is at least one
 * frame interval (50 ms) old; otherwise it waits in `pending` (latest state per entity wins) until
 * the interval has passed, and goes out with whatever else changed meanwhile. So a client gets at
 * most one frame per interval, a lone change without delay, and a quiet connection nothing.
 */
import type { WebSocket } from 'ws';
import type { HubEvents } from '../../sdk/types.js';
import type { Hub } from '../../hub/types.js';
import { stateToWire, type StateWire } from '../wire.js';
import { formatInstant } from '../time.js';
import { parseClientMessage, type ClientMessage, type MessageId, type ServerMessage } from './messages.js';
import { typingEvent, type Party } from '../../messages/typing.js';

/** The time source for coalescing; the hub clock by default, so tests drive it with a ManualClock. */
export interface FrameTimer {
  now(): number;
  /** Calls `fn` once after `ms`; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export interface ClientOptions {
  hub: Hub;
  /** Bus owner for this connection's listeners; `bus.offOwner(owner)` on close. */
  owner: string;
  /** Auth seam (issue 4): whether this connection may see a device's entities. */
  canSeeDevice(deviceId: string): boolean;
  /** The authenticated user of this connection (issue 4), for `user_frame` delivery. */
  user?: { id: string | null; role: string | null };
  timer: FrameTimer;
  frameIntervalMs: number;
  maxEntities: number;
  /** Above this many bytes queued on the socket, frames are held back (and keep coalescing). */
  maxBufferedBytes: number;
  onStateFrame(): void;
  onClose(): void;
}

type StateChanged = HubEvents['state_changed'];

export class WsClient {
  /** Subscribed to every entity (`'*'`), except `excluded`. */
  private all = false;
  private readonly excluded = new Set<string>();
  private readonly explicit = new Set<string>();
  private readonly pending = new Map<string, StateChanged>();
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  private cancelTimer: (() => void) | undefined;
  private closed = false;
  /** Conversations this connection said it is typing in; a closing connection stops them. */
  private readonly typingIn = new Set<string>();
  /** `state_changed` frames sent on this connection. */
  stateFrames = 0;

  constructor(private readonly socket: WebSocket, private readonly opts: ClientOptions) {
    opts.hub.bus.on(opts.owner, 'state_changed', (ev) => this.onStateChanged(ev));
    opts.hub.bus.on(opts.owner, 'user_frame', (ev) => this.onUserFrame(ev));
    socket.on('message', (data, isBinary) => {
      this.onText(isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data));
    });
    socket.on('close', () => this.close());
  }

  /** Entity ids this connection receives changes for (for '*', the ones known now). */
  subscriptions(): string[] {
    if (!this.all) return [...this.explicit].sort();
    return this.opts.hub.entities.list().map((e) => e.id).filter((id) => this.wants(id)).sort();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.pending.clear();
    this.opts.hub.bus.offOwner(this.opts.owner);
    for (const conversation of this.typingIn) this.typing(conversation, 'stop', {});
    this.opts.onClose();
  }

  private send(message: ServerMessage | HubEvents['user_frame']['frame']): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(message));
  }

  private onUserFrame(ev: HubEvents['user_frame']): void {
    const user = this.opts.user;
    if (!user?.id) return;
    const mine = ev.users === 'admins' ? user.role === 'admin' : ev.users.includes(user.id);
    if (mine) this.send(ev.frame);
  }

  private onText(text: string): void {
    const parsed = parseClientMessage(text, this.opts.maxEntities);
    if (!parsed.ok) {
      this.send(parsed.error);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(message: ClientMessage): void {
    const idPart: { id?: MessageId } = message.id !== undefined ? { id: message.id } : {};
    switch (message.type) {
      case 'ping':
        this.send({ type: 'pong', ...idPart });
        return;
      case 'subscribe':
        this.subscribe(message.entities, idPart);
        return;
      case 'unsubscribe':
        this.unsubscribe(message.entities);
        this.send({ type: 'unsubscribed', ...idPart, entities: message.entities });
        return;
      case 'typing':
        this.typing(message.conversation, message.state, idPart);
        return;
    }
  }

  /** Relays a typing indicator to the other side of the conversation (messages/typing.ts). */
  private typing(conversation: string, state: 'start' | 'stop', idPart: { id?: MessageId }): void {
    const { id, role } = this.opts.user ?? {};
    const party: Party | undefined = id && (role === 'admin' || role === 'user') ? { userId: id, role } : undefined;
    const result = typingEvent(party, conversation, state);
    if (!result.ok) {
      this.send({ type: 'error', ...idPart, code: 'forbidden', message: result.reason });
      return;
    }
    // Only changes go out: a client repeating "start" on every keystroke sends the other side one frame.
    if ((state === 'start') === this.typingIn.has(conversation)) return;
    if (state === 'start') this.typingIn.add(conversation);
    else this.typingIn.delete(conversation);
    this.opts.hub.bus.emit('user_frame', result.event);
  }

  private visible(entityId: string): boolean {
    const entity = this.opts.hub.entities.get(entityId);
    return entity !== undefined && this.opts.canSeeDevice(entity.deviceId);
  }

  private wants(entityId: string): boolean {
    return this.explicit.has(entityId) || (this.all && !this.excluded.has(entityId));
  }

  private subscribe(entities: string[] | '*', idPart: { id?: MessageId }): void {
    const { hub } = this.opts;
    let ids: string[];
    if (entities === '*') {
      this.all = true;
      this.excluded.clear();
      ids = hub.entities.list().map((e) => e.id).filter((id) => this.visible(id));
    } else {
      // Unknown and invisible entities are reported alike, so a subscription cannot probe for devices.
      const unknown = entities.filter((id) => !this.visible(id));
      if (unknown.length > 0) {
        this.send({
          type: 'error', ...idPart, code: 'unknown_entity', entities: unknown,
          message: `unknown entit${unknown.length === 1 ? 'y' : 'ies'}: ${unknown.join(', ')}; nothing was subscribed`,
        });
        return;
      }
      const total = new Set([...this.explicit, ...entities]).size;
      if (total > this.opts.maxEntities) {
        this.send({ type: 'error', ...idPart, code: 'too_many_subscriptions', message: `at most ${this.opts.maxEntities} entities per connection` });
        return;
      }
      for (const id of entities) {
        this.explicit.add(id);
        this.excluded.delete(id);
      }
      ids = entities;
    }
    const states: StateWire[] = [];
    for (const id of ids) {
      const state = hub.states.get(id);
      if (state) states.push(stateToWire(state));
    }
    this.send({ type: 'states', ...idPart, states });
  }

  private unsubscribe(entities: string[] | '*'): void {
    if (entities === '*') {
      this.all = false;
      this.explicit.clear();
      this.excluded.clear();
      this.pending.clear();
      return;
    }
    for (const id of entities) {
      this.explicit.delete(id);
      if (this.all) this.excluded.add(id);
      this.pending.delete(id);
    }
  }

  private onStateChanged(ev: StateChanged): void {
    if (this.closed || !this.wants(ev.entityId) || !this.opts.canSeeDevice(ev.deviceId)) return;
    this.pending.set(ev.entityId, ev);
    this.schedule();
  }

  private schedule(): void {
    if (this.cancelTimer || this.closed) return;
    const { timer, frameIntervalMs } = this.opts;
    const now = timer.now();
    // A clock set backwards (tests, NTP) must not stall the connection.
    if (now < this.lastFrameAt) this.lastFrameAt = now - frameIntervalMs;
    const wait = this.lastFrameAt + frameIntervalMs - now;
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.cancelTimer = timer.after(wait, () => {
      this.cancelTimer = undefined;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.pending.size === 0) return;
    const now = this.opts.timer.now();
    if (this.socket.bufferedAmount > this.opts.maxBufferedBytes) {
      // A slow client: keep coalescing instead of queueing more frames.
      this.lastFrameAt = now;
      this.schedule();
      return;
    }
    const states: StateWire[] = [];
    for (const ev of this.pending.values()) states.push(this.currentState(ev));
    this.pending.clear();
    this.lastFrameAt = now;
    this.stateFrames++;
    this.opts.onStateFrame();
    this.send({ type: 'state_changed', states });
  }

  /** The state store's view when it is at least as new as the event, else the event itself. */
  private currentState(ev: StateChanged): StateWire {
    const stored = this.opts.hub.states.get(ev.entityId);
    if (stored && new Date(stored.lastReported).getTime() >= ev.at) return stateToWire(stored);
    const isText = typeof ev.value === 'string';
    const value = isText ? (ev.value === 'on' ? 1 : ev.value === 'off' ? 0 : null) : (ev.value as number | null);
    return {
      entity_id: ev.entityId,
      device_id: ev.deviceId,
      kind: ev.kind,
      value,
      text: isText ? (ev.value as string) : null,
      available: ev.available,
      last_changed: formatInstant(ev.at),
      last_reported: formatInstant(ev.at),
    };
  }
}
